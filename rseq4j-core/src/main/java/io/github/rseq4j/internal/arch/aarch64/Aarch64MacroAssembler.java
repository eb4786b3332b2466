package io.github.rseq4j.internal.arch.aarch64;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.arch.aarch64.Aarch64Assembler.PairMode;
import io.github.rseq4j.internal.asm.AreaLocation;
import io.github.rseq4j.internal.asm.CodeBuffer;
import io.github.rseq4j.internal.asm.Cond;
import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.asm.MacroAssembler;
import io.github.rseq4j.internal.asm.Ordering;
import io.github.rseq4j.internal.asm.Reg;

import java.util.ArrayList;
import java.util.List;

import static io.github.rseq4j.internal.arch.aarch64.Aarch64Reg.*;

/**
 * The aarch64 (AAPCS64, Linux) back end of {@link MacroAssembler}.
 *
 * <p>Register assignment: arguments arrive in x0..x5. Temporaries take the caller-saved
 * x9..x15, x8, x7, x6, then the argument registers the function does not use, then the
 * callee-saved x19..x28, which {@link #enter} stores below the stack pointer (16-byte
 * aligned frame) and every return reloads. x16 and x17 (IP0/IP1) are this class's own
 * scratch registers and never a template's; x18 (the platform register) is never touched.
 * The result goes out in x0.
 *
 * <p>Memory ordering: aarch64 is weakly ordered. {@link Ordering#RELEASE} commits with
 * {@code stlr} (store-release), {@link Ordering#RELAXED} with a plain {@code str}. Arming
 * {@code rseq_cs} and reading {@code cpu_id} need no barrier: the kernel inspects
 * {@code rseq_cs} on the same CPU as the thread, after its own context switch. The rest of
 * the argument, each part noted at its code: the owner word is read with {@code ldar}
 * ({@link #branchIfMemNotEqualAcquire}); an {@code stlr} commit orders every earlier access
 * of the section before the word that publishes it; {@code POP} and {@code BOUNDED_POP}
 * read what they return through an address dependency on the word they loaded, and a ring
 * write's record stores follow its space check by a control dependency (load, branch,
 * store), both of which Arm orders ({@code PerCpuOperation}). The Java side: every reader
 * of a per-CPU word that another CPU's section publishes loads it with an acquire
 * ({@code getAcquire}, {@code ldar}: {@code SliceOps.getAcquire}, {@code PerCpuItem},
 * {@code PerCpuCounter}, {@code RingFormat}, {@code SampleLogRing}); a relaxed commit that
 * takes a lock is followed by an acquire fence ({@code PerCpuSpinLock}); a stopper reads
 * with plain loads after the stop's fence ({@code SliceMemory.fence}). The abort counter's
 * exclusive pair needs no ordering: it is a statistic.
 *
 * <p>The abort counter is incremented with a load-exclusive/store-exclusive loop
 * ({@code ldxr}/{@code stxr}), which every ARMv8.0 processor has (no LSE atomics assumed);
 * it runs only on the abort path.
 *
 * <p>{@link AreaLocation.PthreadKey}: {@code pthread_getspecific} is called with
 * {@code blr}; the frame record (x29, x30) and the live arguments are saved around it in a
 * 16-byte aligned frame. Temporaries are not live across {@link #locateArea} (it comes
 * first in every function), and x19..x28 are preserved by the callee.
 */
public final class Aarch64MacroAssembler implements MacroAssembler {
    private static final Aarch64Reg[] ARGS = {X0, X1, X2, X3, X4, X5};
    private static final Aarch64Reg[] CALLER_SAVED_TEMPS = {X9, X10, X11, X12, X13, X14, X15, X8, X7, X6};
    private static final Aarch64Reg[] CALLEE_SAVED = {X19, X20, X21, X22, X23, X24, X25, X26, X27, X28};
    /** The macro-assembler's own scratch registers (IP0, IP1). */
    static final Aarch64Reg SCRATCH = X16;
    static final Aarch64Reg SCRATCH2 = X17;

    private final CodeBuffer buf = new CodeBuffer();
    private final Aarch64Assembler asm = new Aarch64Assembler(buf);
    private final AreaLocation location;
    private final List<Aarch64Reg> regs = new ArrayList<>();
    private final List<Aarch64Reg> saved = new ArrayList<>();
    private int frame;
    private int args = -1;
    private int temps;

    public Aarch64MacroAssembler(AreaLocation location) {
        this.location = location;
    }

    @Override
    public CodeBuffer buffer() {
        return buf;
    }

    /** The encoder behind this macro-assembler (for code outside critical sections). */
    Aarch64Assembler assembler() {
        return asm;
    }

    @Override
    public void enter(int args, int temps) {
        regs.clear();
        saved.clear();
        if (args < 0 || args > ARGS.length) {
            throw new IllegalArgumentException("at most 6 arguments: " + args);
        }
        this.args = args;
        this.temps = temps;
        for (int i = 0; i < args; i++) {
            regs.add(ARGS[i]);
        }
        List<Aarch64Reg> free = new ArrayList<>(List.of(CALLER_SAVED_TEMPS));
        for (int i = ARGS.length - 1; i >= args; i--) {
            free.add(ARGS[i]);
        }
        for (int t = 0; t < temps; t++) {
            Aarch64Reg r;
            if (!free.isEmpty()) {
                r = free.removeFirst();
            } else if (saved.size() < CALLEE_SAVED.length) {
                r = CALLEE_SAVED[saved.size()];
                saved.add(r);
            } else {
                throw new IllegalArgumentException("too many temporaries: " + temps);
            }
            regs.add(r);
        }
        frame = (saved.size() * 8 + 15) & -16;
        if (frame > 0) {
            asm.subImm(SP, SP, frame, false);
            for (int i = 0; i < saved.size(); i += 2) {
                if (i + 1 < saved.size()) {
                    asm.stp(saved.get(i), saved.get(i + 1), SP, 8 * i, PairMode.OFFSET);
                } else {
                    asm.str(saved.get(i), SP, 8 * i);
                }
            }
        }
    }

    @Override
    public Reg arg(int index) {
        if (index < 0 || index >= args) {
            throw new IllegalArgumentException("no argument " + index);
        }
        return new Reg(index, "arg" + index);
    }

    @Override
    public Reg temp(int index) {
        if (index < 0 || index >= temps) {
            throw new IllegalArgumentException("no temporary " + index);
        }
        return new Reg(args + index, "t" + index);
    }

    private Aarch64Reg r(Reg reg) {
        return regs.get(reg.id());
    }

    @Override
    public void bind(Label label) {
        asm.bind(label);
    }

    @Override
    public void mov(Reg dst, Reg src) {
        if (r(dst) != r(src)) {
            asm.mov(r(dst), r(src));
        }
    }

    @Override
    public void movImm(Reg dst, long imm) {
        asm.movImm(r(dst), imm);
    }

    @Override
    public void add(Reg dst, Reg src) {
        asm.add(r(dst), r(dst), r(src));
    }

    @Override
    public void addImm(Reg dst, long imm) {
        addImm(r(dst), r(dst), imm);
    }

    /** rd = rn + imm, in one instruction where the constant allows (rd, rn may be sp). */
    void addImm(Aarch64Reg rd, Aarch64Reg rn, long imm) {
        if (imm >= 0 && imm <= 0xFFF) {
            asm.addImm(rd, rn, imm, false);
        } else if (imm < 0 && imm >= -0xFFF) {
            asm.subImm(rd, rn, -imm, false);
        } else if (imm > 0 && (imm & 0xFFF) == 0 && imm >>> 12 <= 0xFFF) {
            asm.addImm(rd, rn, imm >>> 12, true);
        } else if (imm < 0 && imm > Long.MIN_VALUE && (-imm & 0xFFF) == 0 && -imm >>> 12 <= 0xFFF) {
            asm.subImm(rd, rn, -imm >>> 12, true);
        } else {
            if (rd == SP || rn == SP) {
                throw new IllegalArgumentException("sp adjustment out of range: " + imm);
            }
            asm.movImm(SCRATCH, imm);
            asm.add(rd, rn, SCRATCH);
        }
    }

    @Override
    public void sub(Reg dst, Reg src) {
        asm.sub(r(dst), r(dst), r(src));
    }

    @Override
    public void and(Reg dst, Reg src) {
        asm.and(r(dst), r(dst), r(src));
    }

    @Override
    public void andImm(Reg dst, long imm) {
        if (Aarch64Assembler.logicalImmediate(imm) >= 0) {
            asm.andImm(r(dst), r(dst), imm);
        } else if (imm == 0) {
            asm.movz(r(dst), 0, 0);
        } else if (imm != -1) {
            asm.movImm(SCRATCH, imm);
            asm.and(r(dst), r(dst), SCRATCH);
        }
    }

    @Override
    public void shlImm(Reg dst, int bits) {
        asm.lslImm(r(dst), r(dst), bits);
    }

    /** The register-offset form of a load or store: {@code op rt, [base, index]}. */
    private interface IndexForm {
        void emit(Aarch64Reg rt, Aarch64Reg base, Aarch64Reg index);
    }

    /** The immediate-displacement form of the same load or store: {@code op rt, [base, #disp]}. */
    private interface DisplacementForm {
        void emit(Aarch64Reg rt, Aarch64Reg base, long disp);
    }

    /**
     * Emits an access of {@code size} bytes of {@code rt} at [base + index + disp]
     * ({@code index} may be null) with the displacement form when the displacement fits it,
     * else the register-offset form. Uses x16/x17.
     */
    private void access(Aarch64Reg rt, Aarch64Reg base, Aarch64Reg index, long disp, int size,
                        IndexForm byIndex, DisplacementForm byDisplacement) {
        if (index == null) {
            if (Aarch64Assembler.fitsDisplacement(disp, size)) {
                byDisplacement.emit(rt, base, disp);
            } else {
                asm.movImm(SCRATCH, disp);
                byIndex.emit(rt, base, SCRATCH);
            }
            return;
        }
        if (disp == 0) {
            byIndex.emit(rt, base, index);
            return;
        }
        asm.add(SCRATCH, base, index);
        if (Aarch64Assembler.fitsDisplacement(disp, size)) {
            byDisplacement.emit(rt, SCRATCH, disp);
        } else {
            asm.movImm(SCRATCH2, disp);
            byIndex.emit(rt, SCRATCH, SCRATCH2);
        }
    }

    private Aarch64Reg rOrNull(Reg index) {
        return index == null ? null : r(index);
    }

    @Override
    public void load(Reg dst, Reg base, Reg index, int disp) {
        load64(r(dst), r(base), rOrNull(index), disp);
    }

    private void load64(Aarch64Reg dst, Aarch64Reg base, Aarch64Reg index, long disp) {
        access(dst, base, index, disp, 8, asm::ldr, asm::ldr);
    }

    @Override
    public void loadInt32(Reg dst, Reg base, int disp) {
        access(r(dst), r(base), null, disp, 4, asm::ldrsw, asm::ldrsw);
    }

    @Override
    public void loadByte(Reg dst, Reg base, Reg index, int disp) {
        access(r(dst), r(base), rOrNull(index), disp, 1, asm::ldrb, asm::ldrb);
    }

    @Override
    public void storeByte(Reg base, Reg index, int disp, Reg src) {
        access(r(src), r(base), rOrNull(index), disp, 1, asm::strb, asm::strb);
    }

    @Override
    public void store(Reg base, Reg index, int disp, Reg src) {
        access(r(src), r(base), rOrNull(index), disp, 8, asm::str, asm::str);
    }

    /**
     * The committing store: a plain {@code str} for {@link Ordering#RELAXED}; for
     * {@link Ordering#RELEASE} the address is formed in x16 first (stlr takes only a base
     * register), so that the {@code stlr} is still the single last instruction.
     */
    @Override
    public void storeOrdered(Reg base, Reg index, int disp, Reg src, Ordering ordering) {
        // stlr orders every earlier load and store of this thread before the commit (and, Arm's
        // release being cumulative, every store this CPU had observed before it).
        if (ordering == Ordering.RELAXED) {
            store(base, index, disp, src);
            return;
        }
        Aarch64Reg b = r(base);
        if (index == null && disp == 0) {
            asm.stlr(r(src), b);
            return;
        }
        if (index != null) {
            asm.add(SCRATCH, b, r(index));
            b = SCRATCH;
        }
        if (disp != 0) {
            addImmVia(SCRATCH, b, disp);
            b = SCRATCH;
        }
        asm.stlr(r(src), b);
    }

    /** rd = rn + imm for an address computation, using x17 for a constant that needs it. */
    private void addImmVia(Aarch64Reg rd, Aarch64Reg rn, long imm) {
        if ((imm >= 0 && imm <= 0xFFF) || (imm < 0 && imm >= -0xFFF)) {
            addImm(rd, rn, imm);
        } else {
            asm.movImm(SCRATCH2, imm);
            asm.add(rd, rn, SCRATCH2);
        }
    }

    static Aarch64Assembler.Cond cc(Cond c) {
        return switch (c) {
            case EQ -> Aarch64Assembler.Cond.EQ;
            case NE -> Aarch64Assembler.Cond.NE;
            case LT -> Aarch64Assembler.Cond.LT;
            case GE -> Aarch64Assembler.Cond.GE;
            case GT -> Aarch64Assembler.Cond.GT;
            case LE -> Aarch64Assembler.Cond.LE;
            case LT_UNSIGNED -> Aarch64Assembler.Cond.LO;
            case GE_UNSIGNED -> Aarch64Assembler.Cond.HS;
            case GT_UNSIGNED -> Aarch64Assembler.Cond.HI;
            case LE_UNSIGNED -> Aarch64Assembler.Cond.LS;
        };
    }

    @Override
    public void branch(Cond cond, Reg a, Reg b, Label target) {
        asm.cmp(r(a), r(b));
        asm.bcond(cc(cond), target);
    }

    @Override
    public void branchImm(Cond cond, Reg a, long imm, Label target) {
        if (imm == 0 && cond == Cond.EQ) {
            asm.cbz(r(a), target);
            return;
        }
        if (imm == 0 && cond == Cond.NE) {
            asm.cbnz(r(a), target);
            return;
        }
        if (imm >= 0 && imm <= 0xFFF) {
            asm.cmpImm(r(a), imm, false);
        } else if (imm < 0 && imm >= -0xFFF) {
            asm.cmnImm(r(a), -imm, false);
        } else {
            asm.movImm(SCRATCH, imm);
            asm.cmp(r(a), SCRATCH);
        }
        asm.bcond(cc(cond), target);
    }

    @Override
    public void branchIfMemNotEqualAcquire(Reg base, int disp, Reg value, Label target) {
        // ldar, not ldr: a stopper's twin writes the slice with plain stores, then restarts it
        // with a release store of the owner token. After a plain ldr that reads the token, the
        // b.ne is only a control dependency, which does not keep a later load from being
        // satisfied first (and reading the slice as it was before the twin); an acquire does.
        Aarch64Reg b = r(base);
        if (disp != 0) {
            addImmVia(SCRATCH, b, disp);
            b = SCRATCH;
        }
        asm.ldar(SCRATCH, b);
        asm.cmp(SCRATCH, r(value));
        asm.bcond(Aarch64Assembler.Cond.NE, target);
    }

    @Override
    public void splitTag(Reg address, Reg tag, int tagBits) {
        MacroAssembler.checkTagBits(tagBits);
        asm.ubfx(r(tag), r(address), 64 - tagBits, tagBits);
        asm.ubfx(r(address), r(address), 0, 64 - tagBits);
    }

    @Override
    public void jump(Label target) {
        asm.b(target);
    }

    private void leave() {
        if (frame > 0) {
            for (int i = 0; i < saved.size(); i += 2) {
                if (i + 1 < saved.size()) {
                    asm.ldp(saved.get(i), saved.get(i + 1), SP, 8 * i, PairMode.OFFSET);
                } else {
                    asm.ldr(saved.get(i), SP, 8 * i);
                }
            }
            asm.addImm(SP, SP, frame, false);
        }
        asm.ret();
    }

    @Override
    public void returnReg(Reg value) {
        if (r(value) != X0) {
            asm.mov(X0, r(value));
        }
        leave();
    }

    @Override
    public void returnImm(long value) {
        asm.movImm(X0, value);
        leave();
    }

    /** An ldxr/stxr loop (ARMv8.0; no LSE assumed): relaxed, the count is statistical. */
    @Override
    public void atomicIncrement(long address, Reg scratch) {
        Aarch64Reg p = r(scratch);
        asm.movImm(p, address);
        Label retry = new Label("atomicIncrement");
        asm.bind(retry);
        asm.ldxr(SCRATCH, p);
        asm.addImm(SCRATCH, SCRATCH, 1, false);
        asm.stxr(SCRATCH2, SCRATCH, p);
        asm.cbnz32(SCRATCH2, retry);
    }

    @Override
    public void delay(long loops, Reg scratch) {
        if (loops <= 0) {
            return;
        }
        Label loop = new Label("delay");
        asm.movImm(r(scratch), loops);
        asm.bind(loop);
        asm.subsImm(r(scratch), r(scratch), 1, false);
        asm.bcond(Aarch64Assembler.Cond.NE, loop);
    }

    // ------------------------------------------------------------------ rseq pieces

    @Override
    public void locateArea(Reg area, Label notRegistered) {
        switch (location) {
            case AreaLocation.ThreadPointerOffset(long offset) -> {
                asm.mrsTpidrEl0(r(area));
                addImm(r(area), r(area), offset);
            }
            case AreaLocation.PthreadKey(int key, long getspecific) -> {
                // Frame record, then the live arguments; 16-byte aligned throughout.
                int argBytes = (args * 8 + 15) & -16;
                int size = 16 + argBytes;
                asm.stp(X29, X30, SP, -size, PairMode.PRE_INDEX);
                asm.mov(X29, SP);
                saveArgs(true);
                asm.movImm(X0, key & 0xFFFFFFFFL);
                asm.movImm(SCRATCH, getspecific);
                asm.blr(SCRATCH);
                asm.mov(r(area), X0);
                saveArgs(false);
                asm.ldp(X29, X30, SP, size, PairMode.POST_INDEX);
                asm.cbz(r(area), notRegistered);
            }
        }
    }

    /** Stores (or reloads) x0..x(args-1) at sp + 16 onwards. */
    private void saveArgs(boolean store) {
        for (int i = 0; i < args; i += 2) {
            int at = 16 + 8 * i;
            if (i + 1 < args) {
                if (store) {
                    asm.stp(ARGS[i], ARGS[i + 1], SP, at, PairMode.OFFSET);
                } else {
                    asm.ldp(ARGS[i], ARGS[i + 1], SP, at, PairMode.OFFSET);
                }
            } else if (store) {
                asm.str(ARGS[i], SP, at);
            } else {
                asm.ldr(ARGS[i], SP, at);
            }
        }
    }

    @Override
    public void armCriticalSection(Reg area, Label descriptor, Reg scratch) {
        asm.adr(r(scratch), descriptor);
        asm.str(r(scratch), r(area), RseqAbi.RSEQ_CS);
    }

    @Override
    public void abortSignature() {
        asm.signature(Arch.AARCH64.signature());
    }

    @Override
    public void descriptor(Label descriptor, Label start, Label postCommit, Label abort) {
        buf.align(RseqAbi.CS_SIZE, 0); // zero words are "udf #0": a trap if ever executed
        asm.bind(descriptor);
        buf.u32(0);          // version
        buf.u32(0);          // flags
        buf.abs64(start);    // start_ip
        buf.u64(postCommit.position() - start.position()); // post_commit_offset
        buf.abs64(abort);    // abort_ip
    }
}
