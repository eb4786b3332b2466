package io.github.rseq4j.internal.arch.x86_64;

import io.github.rseq4j.internal.asm.Cond;
import io.github.rseq4j.internal.asm.MacroAssembler;
import io.github.rseq4j.internal.asm.Ordering;
import io.github.rseq4j.internal.asm.Reg;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.asm.CodeBuffer;
import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.asm.AreaLocation;

import java.util.ArrayList;
import java.util.List;

/**
 * The x86-64 (System V ABI) back end of {@link MacroAssembler}.
 *
 * <p>Register assignment: arguments arrive in rdi, rsi, rdx, rcx, r8, r9. Temporaries
 * take caller-saved registers first (rax, r10, r11, then the argument registers the
 * function does not use), then callee-saved ones (rbx, rbp, r12-r15), which {@link #enter}
 * pushes and every return pops. The result goes out in rax.
 *
 * <p>Memory ordering: x86-64 is TSO, so a plain store already has release semantics and
 * a plain load acquire semantics; {@link Ordering#RELEASE} emits the same store as
 * {@link Ordering#RELAXED}.
 */
public final class X86_64MacroAssembler implements MacroAssembler {
    private static final X86Reg[] ARGS = {X86Reg.RDI, X86Reg.RSI, X86Reg.RDX, X86Reg.RCX, X86Reg.R8, X86Reg.R9};
    private static final X86Reg[] CALLER_SAVED_TEMPS = {X86Reg.RAX, X86Reg.R10, X86Reg.R11};
    private static final X86Reg[] CALLEE_SAVED = {X86Reg.RBX, X86Reg.RBP, X86Reg.R12, X86Reg.R13, X86Reg.R14, X86Reg.R15};

    private final CodeBuffer buf = new CodeBuffer();
    private final X86_64Assembler asm = new X86_64Assembler(buf);
    private final AreaLocation location;
    private final List<X86Reg> regs = new ArrayList<>();
    private final List<X86Reg> saved = new ArrayList<>();
    private int args = -1;
    private int temps;

    public X86_64MacroAssembler(AreaLocation location) {
        this.location = location;
    }

    @Override
    public CodeBuffer buffer() {
        return buf;
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
        List<X86Reg> free = new ArrayList<>(List.of(CALLER_SAVED_TEMPS));
        for (int i = ARGS.length - 1; i >= args; i--) {
            free.add(ARGS[i]);
        }
        for (int t = 0; t < temps; t++) {
            X86Reg r;
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
        for (X86Reg r : saved) {
            asm.push(r);
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

    private X86Reg r(Reg reg) {
        return regs.get(reg.id());
    }

    @Override
    public void bind(Label label) {
        asm.bind(label);
    }

    @Override
    public void mov(Reg dst, Reg src) {
        if (!dst.equals(src)) {
            asm.mov(r(dst), r(src));
        }
    }

    @Override
    public void movImm(Reg dst, long imm) {
        asm.movImm(r(dst), imm);
    }

    @Override
    public void add(Reg dst, Reg src) {
        asm.add(r(dst), r(src));
    }

    @Override
    public void addImm(Reg dst, long imm) {
        asm.addImm(r(dst), imm);
    }

    @Override
    public void sub(Reg dst, Reg src) {
        asm.sub(r(dst), r(src));
    }

    @Override
    public void and(Reg dst, Reg src) {
        asm.and(r(dst), r(src));
    }

    @Override
    public void andImm(Reg dst, long imm) {
        asm.andImm(r(dst), imm);
    }

    @Override
    public void shlImm(Reg dst, int bits) {
        asm.shlImm(r(dst), bits);
    }

    @Override
    public void load(Reg dst, Reg base, Reg index, int disp) {
        if (index == null) {
            asm.load(r(dst), r(base), disp);
        } else {
            asm.load(r(dst), r(base), r(index), disp);
        }
    }

    @Override
    public void loadInt32(Reg dst, Reg base, int disp) {
        asm.loadInt32SignExtend(r(dst), r(base), disp);
    }

    @Override
    public void loadByte(Reg dst, Reg base, Reg index, int disp) {
        asm.loadByteZeroExtend(r(dst), r(base), index == null ? null : r(index), disp);
    }

    @Override
    public void storeByte(Reg base, Reg index, int disp, Reg src) {
        asm.storeByte(r(base), index == null ? null : r(index), disp, r(src));
    }

    @Override
    public void store(Reg base, Reg index, int disp, Reg src) {
        if (index == null) {
            asm.store(r(base), disp, r(src));
        } else {
            asm.store(r(base), r(index), disp, r(src));
        }
    }

    @Override
    public void storeOrdered(Reg base, Reg index, int disp, Reg src, Ordering ordering) {
        store(base, index, disp, src); // TSO: a plain store is a release store
    }

    private static X86_64Assembler.Cond cc(Cond c) {
        return switch (c) {
            case EQ -> X86_64Assembler.Cond.E;
            case NE -> X86_64Assembler.Cond.NE;
            case LT -> X86_64Assembler.Cond.L;
            case GE -> X86_64Assembler.Cond.GE;
            case GT -> X86_64Assembler.Cond.G;
            case LE -> X86_64Assembler.Cond.LE;
            case LT_UNSIGNED -> X86_64Assembler.Cond.B;
            case GE_UNSIGNED -> X86_64Assembler.Cond.AE;
            case GT_UNSIGNED -> X86_64Assembler.Cond.A;
            case LE_UNSIGNED -> X86_64Assembler.Cond.BE;
        };
    }

    @Override
    public void branch(Cond cond, Reg a, Reg b, Label target) {
        asm.cmp(r(a), r(b));
        asm.jcc(cc(cond), target);
    }

    @Override
    public void branchImm(Cond cond, Reg a, long imm, Label target) {
        if (imm == 0 && (cond == Cond.EQ || cond == Cond.NE || cond == Cond.LT || cond == Cond.GE)) {
            asm.test(r(a), r(a));
            asm.jcc(switch (cond) {
                case EQ -> X86_64Assembler.Cond.E;
                case NE -> X86_64Assembler.Cond.NE;
                case LT -> X86_64Assembler.Cond.S;
                default -> X86_64Assembler.Cond.NS;
            }, target);
        } else {
            asm.cmpImm(r(a), imm);
            asm.jcc(cc(cond), target);
        }
    }

    @Override
    public void branchIfMemNotEqualAcquire(Reg base, int disp, Reg value, Label target) {
        asm.cmpMem(r(base), disp, r(value));
        asm.jcc(X86_64Assembler.Cond.NE, target);
    }

    @Override
    public void splitTag(Reg address, Reg tag, int tagBits) {
        MacroAssembler.checkTagBits(tagBits);
        asm.mov(r(tag), r(address));
        asm.shrImm(r(tag), 64 - tagBits);
        asm.shlImm(r(address), tagBits);
        asm.shrImm(r(address), tagBits);
    }

    @Override
    public void jump(Label target) {
        asm.jmp(target);
    }

    /**
     * Where the attempt counter lives: the first word of the System V red zone, the 128 bytes
     * below {@code rsp} that a leaf function may use and that neither the kernel's signal
     * delivery nor an interrupt touches. The generated functions are leaves (they call
     * nothing), push their callee-saved registers at entry and pop them only on return, so
     * {@code rsp} is the same at every use; an abort resumes at the handler with the
     * registers and the stack as they were.
     */
    private static final int ATTEMPTS_RED_ZONE_DISP = -8;

    /** The counter lives in the red zone: one register fewer, so POP, PUSH and the bounded
     * stacks need no callee-saved register (its push and pop on every call). */
    @Override
    public boolean attemptsInMemory() {
        return true;
    }

    @Override
    public void resetAttempts(Reg counter) {
        asm.movMemImm32(X86Reg.RSP, ATTEMPTS_RED_ZONE_DISP, 0);
    }

    @Override
    public void countAttemptAndBranchIfBelow(Reg counter, int max, Label target) {
        asm.addMemImm8(X86Reg.RSP, ATTEMPTS_RED_ZONE_DISP, 1);
        asm.cmpMemImm32(X86Reg.RSP, ATTEMPTS_RED_ZONE_DISP, max);
        asm.jcc(X86_64Assembler.Cond.L, target);
    }

    private void leave() {
        for (int i = saved.size() - 1; i >= 0; i--) {
            asm.pop(saved.get(i));
        }
        asm.ret();
    }

    @Override
    public void returnReg(Reg value) {
        if (r(value) != X86Reg.RAX) {
            asm.mov(X86Reg.RAX, r(value));
        }
        leave();
    }

    @Override
    public void returnImm(long value) {
        asm.movImm(X86Reg.RAX, value);
        leave();
    }

    @Override
    public void atomicIncrement(long address, Reg scratch) {
        asm.movImm(r(scratch), address);
        asm.lockIncMem(r(scratch));
    }

    @Override
    public void delay(long loops, Reg scratch) {
        if (loops <= 0) {
            return;
        }
        Label loop = new Label("delay");
        asm.movImm(r(scratch), loops);
        asm.bind(loop);
        asm.pause();
        asm.dec(r(scratch));
        asm.jcc(X86_64Assembler.Cond.NE, loop);
    }

    @Override
    public void locateArea(Reg area, Label notRegistered) {
        switch (location) {
            case AreaLocation.ThreadPointerOffset(long offset) -> {
                asm.loadThreadPointer(r(area));
                asm.addImm(r(area), offset);
            }
            case AreaLocation.PthreadKey(int key, long getspecific) -> {
                // pthread_getspecific clobbers every caller-saved register: keep the live
                // arguments on the stack across the call, with rsp 16-byte aligned at the call.
                List<X86Reg> live = new ArrayList<>();
                for (int i = 0; i < args; i++) {
                    live.add(ARGS[i]);
                }
                for (X86Reg l : live) {
                    asm.push(l);
                }
                // On entry rsp = 8 (mod 16); every push flips it.
                boolean pad = (saved.size() + live.size()) % 2 == 0;
                if (pad) {
                    asm.subImm(X86Reg.RSP, 8);
                }
                asm.movImm(X86Reg.RDI, key);
                asm.movImm(X86Reg.RAX, getspecific);
                asm.call(X86Reg.RAX);
                if (pad) {
                    asm.addImm(X86Reg.RSP, 8);
                }
                for (int i = live.size() - 1; i >= 0; i--) {
                    asm.pop(live.get(i));
                }
                asm.mov(r(area), X86Reg.RAX);
                asm.test(r(area), r(area));
                asm.jcc(X86_64Assembler.Cond.E, notRegistered);
            }
        }
    }

    @Override
    public void armCriticalSection(Reg area, Label descriptor, Reg scratch) {
        asm.leaRip(r(scratch), descriptor);
        asm.store(r(area), RseqAbi.RSEQ_CS, r(scratch));
    }

    @Override
    public void abortSignature() {
        asm.signature(Arch.X86_64.signature());
    }

    @Override
    public void descriptor(Label descriptor, Label start, Label postCommit, Label abort) {
        buf.align(RseqAbi.CS_SIZE, 0xCC);
        asm.bind(descriptor);
        buf.u32(0);          // version
        buf.u32(0);          // flags
        buf.abs64(start);    // start_ip
        buf.u64(postCommit.position() - start.position()); // post_commit_offset
        buf.abs64(abort);    // abort_ip
    }
}
