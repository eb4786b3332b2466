package io.github.rseq4j.internal.arch.x86_64;

import io.github.rseq4j.internal.asm.CodeBuffer;
import io.github.rseq4j.internal.asm.Label;

/**
 * A small x86-64 assembler: exactly the instruction forms rseq4j's generated code uses,
 * encoded as GNU {@code as} encodes them (shortest displacement, short immediate forms,
 * the accumulator forms GNU as prefers), so that tests can compare bytes with it.
 *
 * <p>Method names follow Intel syntax: the destination comes first. Memory operands are
 * {@code [base + disp]} or {@code [base + index + disp]}; 64-bit operand size unless a
 * method name says otherwise. Branches always use 32-bit displacements (no relaxation),
 * which keeps label arithmetic trivial; the code is small enough for it not to matter.
 */
public final class X86_64Assembler {
    private final CodeBuffer buf;

    public X86_64Assembler(CodeBuffer buf) {
        this.buf = buf;
    }

    public CodeBuffer buffer() {
        return buf;
    }

    /** x86 condition codes, as used in Jcc. */
    public enum Cond {
        O(0), NO(1), B(2), AE(3), E(4), NE(5), BE(6), A(7), S(8), NS(9), L(12), GE(13), LE(14), G(15);
        final int code;

        Cond(int code) {
            this.code = code;
        }
    }

    // ---------------------------------------------------------------- encoding helpers

    private static boolean isInt8(long v) {
        return v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE;
    }

    private static boolean isInt32(long v) {
        return v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
    }

    private void rex(boolean w, int reg, X86Reg index, X86Reg base, boolean force) {
        int r = (reg >> 3) & 1;
        int x = index == null ? 0 : index.high();
        int b = base == null ? 0 : base.high();
        int rex = 0x40 | (w ? 8 : 0) | (r << 2) | (x << 1) | b;
        if (rex != 0x40 || force) {
            buf.u8(rex);
        }
    }

    /** ModRM with a register operand in r/m. */
    private void modrmReg(int reg, X86Reg rm) {
        buf.u8(0xC0 | ((reg & 7) << 3) | rm.low());
    }

    /** ModRM (+SIB, +displacement) for [base + index + disp]; index may be null. */
    private void modrmMem(int reg, X86Reg base, X86Reg index, int disp) {
        int mod;
        if (disp == 0 && base.low() != 5) {
            mod = 0;
        } else if (isInt8(disp)) {
            mod = 1;
        } else {
            mod = 2;
        }
        if (index == null) {
            buf.u8((mod << 6) | ((reg & 7) << 3) | base.low());
            if (base.low() == 4) {
                buf.u8(0x24);
            }
        } else {
            if (index == X86Reg.RSP) {
                throw new IllegalArgumentException("rsp cannot be an index register");
            }
            buf.u8((mod << 6) | ((reg & 7) << 3) | 4);
            buf.u8((index.low() << 3) | base.low());
        }
        if (mod == 1) {
            buf.u8(disp);
        } else if (mod == 2) {
            buf.u32(disp);
        }
    }

    private void memOp(boolean w, int opcode, int reg, X86Reg base, X86Reg index, int disp) {
        rex(w, reg, index, base, false);
        buf.u8(opcode);
        modrmMem(reg, base, index, disp);
    }

    private void regOp(boolean w, int opcode, int reg, X86Reg rm) {
        rex(w, reg, null, rm, false);
        buf.u8(opcode);
        modrmReg(reg, rm);
    }

    /** Group-1 ALU op (add=0, or=1, and=4, sub=5, xor=6, cmp=7) with an immediate. */
    private void alu(int ext, X86Reg dst, long imm) {
        if (!isInt32(imm)) {
            throw new IllegalArgumentException("immediate does not fit in 32 bits: " + imm);
        }
        if (isInt8(imm)) {
            regOp(true, 0x83, ext, dst);
            buf.u8((int) imm);
        } else if (dst == X86Reg.RAX) {
            buf.u8(0x48);
            buf.u8(0x05 | (ext << 3));
            buf.u32((int) imm);
        } else {
            regOp(true, 0x81, ext, dst);
            buf.u32((int) imm);
        }
    }

    // ---------------------------------------------------------------- moves

    /** mov dst, src (64-bit). */
    public void mov(X86Reg dst, X86Reg src) {
        regOp(true, 0x89, src.code(), dst);
    }

    /** mov dst, imm: sign-extended imm32 form when it fits, else movabs. */
    public void movImm(X86Reg dst, long imm) {
        if (isInt32(imm)) {
            regOp(true, 0xC7, 0, dst);
            buf.u32((int) imm);
        } else {
            rex(true, 0, null, dst, false);
            buf.u8(0xB8 + dst.low());
            buf.u64(imm);
        }
    }

    /** mov dst, qword [base + disp]. */
    public void load(X86Reg dst, X86Reg base, int disp) {
        memOp(true, 0x8B, dst.code(), base, null, disp);
    }

    /** mov dst, qword [base + index + disp]. */
    public void load(X86Reg dst, X86Reg base, X86Reg index, int disp) {
        memOp(true, 0x8B, dst.code(), base, index, disp);
    }

    /** movsxd dst, dword [base + disp]: a 32-bit field, sign-extended. */
    public void loadInt32SignExtend(X86Reg dst, X86Reg base, int disp) {
        memOp(true, 0x63, dst.code(), base, null, disp);
    }

    /** movzx dst32, byte [base + index + disp] (zero-extends to 64 bits); index may be null. */
    public void loadByteZeroExtend(X86Reg dst, X86Reg base, X86Reg index, int disp) {
        rex(false, dst.code(), index, base, false);
        buf.u8(0x0F);
        buf.u8(0xB6);
        modrmMem(dst.code(), base, index, disp);
    }

    /** mov byte [base + index + disp], src8; index may be null. */
    public void storeByte(X86Reg base, X86Reg index, int disp, X86Reg src) {
        // spl/bpl/sil/dil need a REX prefix, otherwise the encoding means ah/ch/dh/bh.
        rex(false, src.code(), index, base, src.code() >= 4 && src.code() <= 7);
        buf.u8(0x88);
        modrmMem(src.code(), base, index, disp);
    }

    /** mov qword [base + disp], src. */
    public void store(X86Reg base, int disp, X86Reg src) {
        memOp(true, 0x89, src.code(), base, null, disp);
    }

    /** mov qword [base + index + disp], src. */
    public void store(X86Reg base, X86Reg index, int disp, X86Reg src) {
        memOp(true, 0x89, src.code(), base, index, disp);
    }

    /** lea dst, [rip + label]. */
    public void leaRip(X86Reg dst, Label target) {
        rex(true, dst.code(), null, null, false);
        buf.u8(0x8D);
        buf.u8((dst.low() << 3) | 5);
        buf.rel32(target, 0);
    }

    /** mov dst, qword fs:[0]: the x86-64 thread pointer (the TCB's self pointer). */
    public void loadThreadPointer(X86Reg dst) {
        buf.u8(0x64);
        rex(true, dst.code(), null, null, false);
        buf.u8(0x8B);
        buf.u8((dst.low() << 3) | 4);
        buf.u8(0x25);
        buf.u32(0);
    }

    // ---------------------------------------------------------------- arithmetic

    /** add dst, src. */
    public void add(X86Reg dst, X86Reg src) {
        regOp(true, 0x01, src.code(), dst);
    }

    /** sub dst, src. */
    public void sub(X86Reg dst, X86Reg src) {
        regOp(true, 0x29, src.code(), dst);
    }

    /** and dst, src. */
    public void and(X86Reg dst, X86Reg src) {
        regOp(true, 0x21, src.code(), dst);
    }

    /** cmp a, b (flags of a - b). */
    public void cmp(X86Reg a, X86Reg b) {
        regOp(true, 0x39, b.code(), a);
    }

    /** test a, b. */
    public void test(X86Reg a, X86Reg b) {
        regOp(true, 0x85, b.code(), a);
    }

    public void addImm(X86Reg dst, long imm) {
        alu(0, dst, imm);
    }

    public void subImm(X86Reg dst, long imm) {
        alu(5, dst, imm);
    }

    public void andImm(X86Reg dst, long imm) {
        alu(4, dst, imm);
    }

    public void cmpImm(X86Reg dst, long imm) {
        alu(7, dst, imm);
    }

    /** cmp qword [base + disp], imm8. */
    public void cmpMemImm8(X86Reg base, int disp, int imm8) {
        if (!isInt8(imm8)) {
            throw new IllegalArgumentException("imm8 out of range: " + imm8);
        }
        memOp(true, 0x83, 7, base, null, disp);
        buf.u8(imm8);
    }

    /** mov qword [base + disp], imm32 (sign-extended to 64 bits). */
    public void movMemImm32(X86Reg base, int disp, int imm32) {
        memOp(true, 0xC7, 0, base, null, disp);
        buf.u32(imm32);
    }

    /** add qword [base + disp], imm8 (sign-extended). */
    public void addMemImm8(X86Reg base, int disp, int imm8) {
        if (!isInt8(imm8)) {
            throw new IllegalArgumentException("imm8 out of range: " + imm8);
        }
        memOp(true, 0x83, 0, base, null, disp);
        buf.u8(imm8);
    }

    /** cmp qword [base + disp], imm32 (sign-extended): the imm8 form when it fits. */
    public void cmpMemImm32(X86Reg base, int disp, int imm32) {
        if (isInt8(imm32)) {
            cmpMemImm8(base, disp, imm32);
            return;
        }
        memOp(true, 0x81, 7, base, null, disp);
        buf.u32(imm32);
    }

    /** cmp qword [base + disp], reg (flags of the word minus reg). */
    public void cmpMem(X86Reg base, int disp, X86Reg reg) {
        memOp(true, 0x39, reg.code(), base, null, disp);
    }

    /** shl dst, imm (1..63). */
    public void shlImm(X86Reg dst, int imm) {
        shift(4, dst, imm);
    }

    /** shr dst, imm (1..63): logical shift right. */
    public void shrImm(X86Reg dst, int imm) {
        shift(5, dst, imm);
    }

    /** Group-2 shift (shl=4, shr=5) of a 64-bit register by an immediate. */
    private void shift(int ext, X86Reg dst, int imm) {
        if (imm < 1 || imm > 63) {
            throw new IllegalArgumentException("shift out of range: " + imm);
        }
        if (imm == 1) {
            regOp(true, 0xD1, ext, dst);
        } else {
            regOp(true, 0xC1, ext, dst);
            buf.u8(imm);
        }
    }

    /** inc dst. */
    public void inc(X86Reg dst) {
        regOp(true, 0xFF, 0, dst);
    }

    /** dec dst. */
    public void dec(X86Reg dst) {
        regOp(true, 0xFF, 1, dst);
    }

    /** lock inc qword [base]: an atomic increment (used only off the fast path). */
    public void lockIncMem(X86Reg base) {
        buf.u8(0xF0);
        memOp(true, 0xFF, 0, base, null, 0);
    }

    // ---------------------------------------------------------------- control flow

    public void jcc(Cond cond, Label target) {
        buf.u8(0x0F);
        buf.u8(0x80 | cond.code);
        buf.rel32(target, 0);
    }

    public void jmp(Label target) {
        buf.u8(0xE9);
        buf.rel32(target, 0);
    }

    /** call reg (indirect). */
    public void call(X86Reg target) {
        rex(false, 2, null, target, false);
        buf.u8(0xFF);
        modrmReg(2, target);
    }

    public void ret() {
        buf.u8(0xC3);
    }

    public void push(X86Reg r) {
        if (r.high() != 0) {
            buf.u8(0x41);
        }
        buf.u8(0x50 + r.low());
    }

    public void pop(X86Reg r) {
        if (r.high() != 0) {
            buf.u8(0x41);
        }
        buf.u8(0x58 + r.low());
    }

    /** syscall: number in rax, arguments in rdi, rsi, rdx, r10, r8, r9; clobbers rcx and r11. */
    public void syscall() {
        buf.u8(0x0F);
        buf.u8(0x05);
    }

    /** pause: a spin-wait hint. */
    public void pause() {
        buf.u8(0xF3);
        buf.u8(0x90);
    }

    /** ud2: traps if executed. */
    public void ud2() {
        buf.u8(0x0F);
        buf.u8(0x0B);
    }

    /**
     * The 4-byte rseq signature, carried as the displacement of {@code ud1 edi, [rip+sig]}
     * so that it traps if ever executed. The kernel checks the 4 bytes just before the
     * abort handler; place the abort label right after this.
     */
    public void signature(int sig) {
        buf.u8(0x0F);
        buf.u8(0xB9);
        buf.u8(0x3D);
        buf.u32(sig);
    }

    public void bind(Label label) {
        buf.bind(label);
    }
}
