package io.github.rseq4j.internal.arch.aarch64;

import io.github.rseq4j.internal.asm.CodeBuffer;
import io.github.rseq4j.internal.asm.Label;

/**
 * A small aarch64 (A64) assembler: exactly the instruction forms rseq4j's generated code
 * uses, each encoded as GNU {@code as} encodes the same assembly line, so that tests can
 * compare words with it ({@code Aarch64AssemblerTest}). Every instruction is one
 * little-endian 32-bit word.
 *
 * <p>Operands are 64-bit registers unless a method says otherwise. Register number 31 is
 * the stack pointer in some operand positions and the zero register in others; each method
 * accepts only what its instruction means there ({@link Aarch64Reg#SP} or
 * {@link Aarch64Reg#XZR}) and throws otherwise. Branches to labels are resolved when the
 * {@link CodeBuffer} is linked; a target out of the instruction's range throws then.
 *
 * <p>Memory operands: {@code [base, #disp]} picks the scaled unsigned 12-bit form when
 * {@code disp} is a non-negative multiple of the access size in range, else the unscaled
 * signed 9-bit form ({@code ldur}/{@code stur}), as GNU as does for {@code ldr}/{@code str};
 * other displacements throw (the macro-assembler materializes them in a register).
 */
public final class Aarch64Assembler {
    private final CodeBuffer buf;

    public Aarch64Assembler(CodeBuffer buf) {
        this.buf = buf;
    }

    public CodeBuffer buffer() {
        return buf;
    }

    /** A64 condition codes. */
    public enum Cond {
        EQ(0), NE(1), HS(2), LO(3), MI(4), PL(5), VS(6), VC(7), HI(8), LS(9), GE(10), LT(11), GT(12), LE(13);
        final int code;

        Cond(int code) {
            this.code = code;
        }
    }

    /** Addressing modes of {@code ldp}/{@code stp}. */
    public enum PairMode {
        /** {@code [base, #imm]}. */
        OFFSET(0b010),
        /** {@code [base, #imm]!}: base += imm, then the access. */
        PRE_INDEX(0b011),
        /** {@code [base], #imm}: the access, then base += imm. */
        POST_INDEX(0b001);
        final int bits;

        PairMode(int bits) {
            this.bits = bits;
        }
    }

    // ---------------------------------------------------------------- operand checks

    /** A general register or XZR (number 31 read as zero). */
    private static int rz(Aarch64Reg r) {
        if (r == Aarch64Reg.SP) {
            throw new IllegalArgumentException("sp is not allowed here");
        }
        return r.code();
    }

    /** A general register or SP (number 31 read as the stack pointer). */
    private static int rs(Aarch64Reg r) {
        if (r == Aarch64Reg.XZR) {
            throw new IllegalArgumentException("xzr is not allowed here");
        }
        return r.code();
    }

    /** A general register x0..x30. */
    private static int rg(Aarch64Reg r) {
        if (r == Aarch64Reg.SP || r == Aarch64Reg.XZR) {
            throw new IllegalArgumentException(r.gasName() + " is not allowed here");
        }
        return r.code();
    }

    private void emit(int word) {
        buf.u32(word);
    }

    // ---------------------------------------------------------------- moves

    /** movz / movk / movn: imm16 shifted left by {@code shift} (0, 16, 32 or 48). */
    private void moveWide(int opc, Aarch64Reg rd, int imm16, int shift) {
        if (imm16 < 0 || imm16 > 0xFFFF) {
            throw new IllegalArgumentException("16-bit immediate out of range: " + imm16);
        }
        if (shift < 0 || shift > 48 || shift % 16 != 0) {
            throw new IllegalArgumentException("shift must be 0, 16, 32 or 48: " + shift);
        }
        emit(0x80000000 | opc << 29 | 0x12800000 | (shift / 16) << 21 | imm16 << 5 | rz(rd));
    }

    /** {@code movz rd, #imm16, lsl #shift}. */
    public void movz(Aarch64Reg rd, int imm16, int shift) {
        moveWide(0b10, rd, imm16, shift);
    }

    /** {@code movk rd, #imm16, lsl #shift}: replaces one halfword, keeps the others. */
    public void movk(Aarch64Reg rd, int imm16, int shift) {
        moveWide(0b11, rd, imm16, shift);
    }

    /** {@code movn rd, #imm16, lsl #shift}: rd = ~(imm16 &lt;&lt; shift). */
    public void movn(Aarch64Reg rd, int imm16, int shift) {
        moveWide(0b00, rd, imm16, shift);
    }

    /**
     * Loads any 64-bit constant with the fewest instructions of this scheme: one
     * {@code movz}, {@code movn} or {@code orr} with a bitmask immediate when one suffices
     * (the instruction GNU as picks for {@code mov rd, #imm}, in that order), else a
     * {@code movz} (or {@code movn}, when more halfwords are 0xffff than 0) followed by a
     * {@code movk} for each remaining halfword.
     */
    public void movImm(Aarch64Reg rd, long imm) {
        rg(rd);
        int zeros = 0;
        int ones = 0;
        for (int s = 0; s < 64; s += 16) {
            int h = (int) (imm >>> s) & 0xFFFF;
            if (h == 0) {
                zeros++;
            } else if (h == 0xFFFF) {
                ones++;
            }
        }
        if (zeros >= 3) {
            int shift = 0;
            for (int s = 0; s < 64; s += 16) {
                if (((imm >>> s) & 0xFFFF) != 0) {
                    shift = s;
                }
            }
            movz(rd, (int) (imm >>> shift) & 0xFFFF, shift);
            return;
        }
        if (ones >= 3) {
            int shift = 0;
            for (int s = 0; s < 64; s += 16) {
                if (((imm >>> s) & 0xFFFF) != 0xFFFF) {
                    shift = s;
                }
            }
            movn(rd, (int) (~imm >>> shift) & 0xFFFF, shift);
            return;
        }
        int bitmask = logicalImmediate(imm);
        if (bitmask >= 0) {
            emit(0xB2000000 | bitmask << 10 | 31 << 5 | rd.code()); // orr rd, xzr, #imm
            return;
        }
        boolean inverted = ones > zeros;
        int skip = inverted ? 0xFFFF : 0;
        boolean first = true;
        for (int s = 0; s < 64; s += 16) {
            int h = (int) (imm >>> s) & 0xFFFF;
            if (h == skip) {
                continue;
            }
            if (first) {
                if (inverted) {
                    movn(rd, ~h & 0xFFFF, s);
                } else {
                    movz(rd, h, s);
                }
                first = false;
            } else {
                movk(rd, h, s);
            }
        }
    }

    /** {@code mov rd, rm}: {@code orr rd, xzr, rm}, or {@code add rd, rn, #0} when either is sp. */
    public void mov(Aarch64Reg rd, Aarch64Reg rm) {
        if (rd == Aarch64Reg.SP || rm == Aarch64Reg.SP) {
            addImm(rd, rm, 0, false);
        } else {
            emit(0xAA0003E0 | rz(rm) << 16 | rz(rd));
        }
    }

    // ---------------------------------------------------------------- arithmetic and logic

    private void shiftedRegister(int base, Aarch64Reg rd, Aarch64Reg rn, Aarch64Reg rm) {
        emit(base | rz(rm) << 16 | rz(rn) << 5 | rz(rd));
    }

    /** {@code add rd, rn, rm}. */
    public void add(Aarch64Reg rd, Aarch64Reg rn, Aarch64Reg rm) {
        shiftedRegister(0x8B000000, rd, rn, rm);
    }

    /** {@code sub rd, rn, rm}. */
    public void sub(Aarch64Reg rd, Aarch64Reg rn, Aarch64Reg rm) {
        shiftedRegister(0xCB000000, rd, rn, rm);
    }

    /** {@code and rd, rn, rm}. */
    public void and(Aarch64Reg rd, Aarch64Reg rn, Aarch64Reg rm) {
        shiftedRegister(0x8A000000, rd, rn, rm);
    }

    /** {@code orr rd, rn, rm}. */
    public void orr(Aarch64Reg rd, Aarch64Reg rn, Aarch64Reg rm) {
        shiftedRegister(0xAA000000, rd, rn, rm);
    }

    /** {@code bic rd, rn, rm}: rd = rn &amp; ~rm. */
    public void bic(Aarch64Reg rd, Aarch64Reg rn, Aarch64Reg rm) {
        shiftedRegister(0x8A200000, rd, rn, rm);
    }

    /** {@code cmp rn, rm}: {@code subs xzr, rn, rm}. */
    public void cmp(Aarch64Reg rn, Aarch64Reg rm) {
        shiftedRegister(0xEB000000, Aarch64Reg.XZR, rn, rm);
    }

    /** {@code lslv rd, rn, rm}: rd = rn &lt;&lt; (rm mod 64). */
    public void lslv(Aarch64Reg rd, Aarch64Reg rn, Aarch64Reg rm) {
        shiftedRegister(0x9AC02000, rd, rn, rm);
    }

    private static int imm12(long imm, boolean shift12) {
        if (imm < 0 || imm > 0xFFF) {
            throw new IllegalArgumentException("12-bit immediate out of range: " + imm);
        }
        return (shift12 ? 1 << 22 : 0) | (int) imm << 10;
    }

    /** {@code add rd, rn, #imm12 [, lsl #12]}; rd and rn may be sp. */
    public void addImm(Aarch64Reg rd, Aarch64Reg rn, long imm12, boolean shift12) {
        emit(0x91000000 | imm12(imm12, shift12) | rs(rn) << 5 | rs(rd));
    }

    /** {@code sub rd, rn, #imm12 [, lsl #12]}; rd and rn may be sp. */
    public void subImm(Aarch64Reg rd, Aarch64Reg rn, long imm12, boolean shift12) {
        emit(0xD1000000 | imm12(imm12, shift12) | rs(rn) << 5 | rs(rd));
    }

    /** {@code subs rd, rn, #imm12 [, lsl #12]}: sets the flags; rd may be xzr, rn sp. */
    public void subsImm(Aarch64Reg rd, Aarch64Reg rn, long imm12, boolean shift12) {
        emit(0xF1000000 | imm12(imm12, shift12) | rs(rn) << 5 | rz(rd));
    }

    /** {@code cmp rn, #imm12 [, lsl #12]}. */
    public void cmpImm(Aarch64Reg rn, long imm12, boolean shift12) {
        subsImm(Aarch64Reg.XZR, rn, imm12, shift12);
    }

    /** {@code cmn rn, #imm12 [, lsl #12]}: compares rn with -imm. */
    public void cmnImm(Aarch64Reg rn, long imm12, boolean shift12) {
        emit(0xB1000000 | imm12(imm12, shift12) | rs(rn) << 5 | 31);
    }

    /**
     * The {@code N:immr:imms} field (13 bits) of a 64-bit logical instruction for
     * {@code imm}, or -1 when {@code imm} is not a bitmask immediate (a repeated element
     * of 2, 4, 8, 16, 32 or 64 bits that is a rotated run of ones; never 0 or all ones).
     */
    public static int logicalImmediate(long imm) {
        if (imm == 0 || imm == -1) {
            return -1;
        }
        int size = 64;
        while (size > 2) {
            int half = size / 2;
            long mask = (1L << half) - 1;
            if ((imm & mask) != ((imm >>> half) & mask)) {
                break;
            }
            size = half;
        }
        long mask = size == 64 ? -1L : (1L << size) - 1;
        long elem = imm & mask;
        int ones = Long.bitCount(elem);
        long run = ones == 64 ? -1L : (1L << ones) - 1;
        for (int r = 0; r < size; r++) {
            long rotated = size == 64 ? Long.rotateRight(elem, r)
                    : ((elem >>> r) | (elem << (size - r))) & mask;
            if (rotated == run) {
                int immr = (size - r) % size;
                int imms = ((-size << 1) & 0x3F) | (ones - 1);
                int n = size == 64 ? 1 : 0;
                return n << 12 | immr << 6 | imms;
            }
        }
        return -1;
    }

    private void logicalImm(int base, Aarch64Reg rd, Aarch64Reg rn, long imm) {
        int field = logicalImmediate(imm);
        if (field < 0) {
            throw new IllegalArgumentException("not a bitmask immediate: 0x" + Long.toHexString(imm));
        }
        emit(base | field << 10 | rg(rn) << 5 | rg(rd));
    }

    /** {@code and rd, rn, #imm} with a bitmask immediate ({@link #logicalImmediate}). */
    public void andImm(Aarch64Reg rd, Aarch64Reg rn, long imm) {
        logicalImm(0x92000000, rd, rn, imm);
    }

    /** {@code orr rd, rn, #imm} with a bitmask immediate. */
    public void orrImm(Aarch64Reg rd, Aarch64Reg rn, long imm) {
        logicalImm(0xB2000000, rd, rn, imm);
    }

    /** {@code ubfm rd, rn, #immr, #imms}. */
    private void ubfm(Aarch64Reg rd, Aarch64Reg rn, int immr, int imms) {
        emit(0xD3400000 | immr << 16 | imms << 10 | rg(rn) << 5 | rg(rd));
    }

    /** {@code lsl rd, rn, #shift} (1 to 63): {@code ubfm rd, rn, #(-shift mod 64), #(63 - shift)}. */
    public void lslImm(Aarch64Reg rd, Aarch64Reg rn, int shift) {
        if (shift < 1 || shift > 63) {
            throw new IllegalArgumentException("shift out of range: " + shift);
        }
        ubfm(rd, rn, (64 - shift) & 63, 63 - shift);
    }

    /** {@code ubfx rd, rn, #lsb, #width}: extracts bits [lsb, lsb + width). */
    public void ubfx(Aarch64Reg rd, Aarch64Reg rn, int lsb, int width) {
        if (lsb < 0 || lsb > 63 || width < 1 || width > 64 - lsb) {
            throw new IllegalArgumentException("bit field out of range: " + lsb + ", " + width);
        }
        ubfm(rd, rn, lsb, lsb + width - 1);
    }

    // ---------------------------------------------------------------- loads and stores

    /** Whether {@code disp} has an immediate form for an access of {@code size} bytes. */
    public static boolean fitsDisplacement(long disp, int size) {
        return (disp >= 0 && disp % size == 0 && disp / size <= 0xFFF) || (disp >= -256 && disp <= 255);
    }

    /**
     * A load or store with an immediate displacement: {@code scaled} is the unsigned-offset
     * opcode, {@code unscaled} the matching ldur/stur opcode.
     */
    private void memImm(int scaled, int unscaled, int size, Aarch64Reg rt, Aarch64Reg base, long disp) {
        if (disp >= 0 && disp % size == 0 && disp / size <= 0xFFF) {
            emit(scaled | (int) (disp / size) << 10 | rs(base) << 5 | rz(rt));
        } else if (disp >= -256 && disp <= 255) {
            emit(unscaled | ((int) disp & 0x1FF) << 12 | rs(base) << 5 | rz(rt));
        } else {
            throw new IllegalArgumentException("displacement out of range: " + disp);
        }
    }

    /** A load or store {@code [base, index]} (register offset, no shift). */
    private void memReg(int op, Aarch64Reg rt, Aarch64Reg base, Aarch64Reg index) {
        emit(op | rz(index) << 16 | rs(base) << 5 | rz(rt));
    }

    /** {@code ldr rt, [base, #disp]} (64 bits). */
    public void ldr(Aarch64Reg rt, Aarch64Reg base, long disp) {
        memImm(0xF9400000, 0xF8400000, 8, rt, base, disp);
    }

    /** {@code ldr rt, [base, index]} (64 bits). */
    public void ldr(Aarch64Reg rt, Aarch64Reg base, Aarch64Reg index) {
        memReg(0xF8606800, rt, base, index);
    }

    /** {@code str rt, [base, #disp]} (64 bits). */
    public void str(Aarch64Reg rt, Aarch64Reg base, long disp) {
        memImm(0xF9000000, 0xF8000000, 8, rt, base, disp);
    }

    /** {@code str rt, [base, index]} (64 bits). */
    public void str(Aarch64Reg rt, Aarch64Reg base, Aarch64Reg index) {
        memReg(0xF8206800, rt, base, index);
    }

    /** {@code ldrsw rt, [base, #disp]}: 32-bit load, sign-extended. */
    public void ldrsw(Aarch64Reg rt, Aarch64Reg base, long disp) {
        memImm(0xB9800000, 0xB8800000, 4, rt, base, disp);
    }

    /** {@code ldrsw rt, [base, index]}. */
    public void ldrsw(Aarch64Reg rt, Aarch64Reg base, Aarch64Reg index) {
        memReg(0xB8A06800, rt, base, index);
    }

    /** {@code ldrb wt, [base, #disp]}: byte load, zero-extended. */
    public void ldrb(Aarch64Reg rt, Aarch64Reg base, long disp) {
        memImm(0x39400000, 0x38400000, 1, rt, base, disp);
    }

    /** {@code ldrb wt, [base, index]}. */
    public void ldrb(Aarch64Reg rt, Aarch64Reg base, Aarch64Reg index) {
        memReg(0x38606800, rt, base, index);
    }

    /** {@code strb wt, [base, #disp]}. */
    public void strb(Aarch64Reg rt, Aarch64Reg base, long disp) {
        memImm(0x39000000, 0x38000000, 1, rt, base, disp);
    }

    /** {@code strb wt, [base, index]}. */
    public void strb(Aarch64Reg rt, Aarch64Reg base, Aarch64Reg index) {
        memReg(0x38206800, rt, base, index);
    }

    /** {@code stlr rt, [base]}: store-release (64 bits). */
    public void stlr(Aarch64Reg rt, Aarch64Reg base) {
        emit(0xC89FFC00 | rs(base) << 5 | rz(rt));
    }

    /** {@code ldar rt, [base]}: load-acquire (64 bits). */
    public void ldar(Aarch64Reg rt, Aarch64Reg base) {
        emit(0xC8DFFC00 | rs(base) << 5 | rz(rt));
    }

    /** {@code ldxr rt, [base]}: load-exclusive (64 bits). */
    public void ldxr(Aarch64Reg rt, Aarch64Reg base) {
        emit(0xC85F7C00 | rs(base) << 5 | rz(rt));
    }

    /** {@code stxr ws, rt, [base]}: store-exclusive; ws = 0 on success, 1 on failure. */
    public void stxr(Aarch64Reg status, Aarch64Reg rt, Aarch64Reg base) {
        int s = rz(status);
        if (s == rt.code() || s == base.code()) {
            throw new IllegalArgumentException("stxr status register must differ from the others");
        }
        emit(0xC8007C00 | s << 16 | rs(base) << 5 | rz(rt));
    }

    /** {@code ldaddal rs, rt, [base]} (ARMv8.1 LSE): rt = old value, [base] += rs, acquire+release. */
    public void ldaddal(Aarch64Reg rsReg, Aarch64Reg rt, Aarch64Reg base) {
        emit(0xF8E00000 | rz(rsReg) << 16 | rs(base) << 5 | rz(rt));
    }

    private void pair(int opBase, Aarch64Reg rt1, Aarch64Reg rt2, Aarch64Reg base, int imm, PairMode mode) {
        if (imm % 8 != 0 || imm < -512 || imm > 504) {
            throw new IllegalArgumentException("pair offset out of range: " + imm);
        }
        emit(opBase | mode.bits << 23 | ((imm / 8) & 0x7F) << 15 | rz(rt2) << 10 | rs(base) << 5 | rz(rt1));
    }

    /** {@code stp rt1, rt2, [base, #imm]} in the given mode. */
    public void stp(Aarch64Reg rt1, Aarch64Reg rt2, Aarch64Reg base, int imm, PairMode mode) {
        pair(0xA8000000, rt1, rt2, base, imm, mode);
    }

    /** {@code ldp rt1, rt2, [base, #imm]} in the given mode. */
    public void ldp(Aarch64Reg rt1, Aarch64Reg rt2, Aarch64Reg base, int imm, PairMode mode) {
        if (rt1 == rt2) {
            throw new IllegalArgumentException("ldp into one register twice");
        }
        pair(0xA8400000, rt1, rt2, base, imm, mode);
    }

    // ---------------------------------------------------------------- control flow

    private static void checkBranch(long distance, int bits) {
        if ((distance & 3) != 0) {
            throw new IllegalStateException("branch target not word aligned: " + distance);
        }
        long words = distance >> 2;
        if (words < -(1L << (bits - 1)) || words >= (1L << (bits - 1))) {
            throw new IllegalStateException("branch target out of range: " + distance + " bytes");
        }
    }

    private static int imm26(int word, long distance) {
        checkBranch(distance, 26);
        return (word & ~0x03FFFFFF) | (int) (distance >> 2) & 0x03FFFFFF;
    }

    private static int imm19(int word, long distance) {
        checkBranch(distance, 19);
        return (word & ~(0x7FFFF << 5)) | ((int) (distance >> 2) & 0x7FFFF) << 5;
    }

    private static int adrImm(int word, long distance) {
        if (distance < -(1L << 20) || distance >= (1L << 20)) {
            throw new IllegalStateException("adr target out of range: " + distance + " bytes");
        }
        int d = (int) distance;
        return (word & ~(3 << 29 | 0x7FFFF << 5)) | (d & 3) << 29 | ((d >> 2) & 0x7FFFF) << 5;
    }

    /** {@code b target}. */
    public void b(Label target) {
        buf.word32(0x14000000, target, Aarch64Assembler::imm26);
    }

    /** {@code b.cond target}. */
    public void bcond(Cond cond, Label target) {
        buf.word32(0x54000000 | cond.code, target, Aarch64Assembler::imm19);
    }

    /** {@code cbz rt, target} (64-bit compare). */
    public void cbz(Aarch64Reg rt, Label target) {
        buf.word32(0xB4000000 | rz(rt), target, Aarch64Assembler::imm19);
    }

    /** {@code cbnz rt, target} (64-bit compare). */
    public void cbnz(Aarch64Reg rt, Label target) {
        buf.word32(0xB5000000 | rz(rt), target, Aarch64Assembler::imm19);
    }

    /** {@code cbz wt, target}: tests the low 32 bits only (a C {@code int} result). */
    public void cbz32(Aarch64Reg rt, Label target) {
        buf.word32(0x34000000 | rz(rt), target, Aarch64Assembler::imm19);
    }

    /** {@code cbnz wt, target}: tests the low 32 bits only. */
    public void cbnz32(Aarch64Reg rt, Label target) {
        buf.word32(0x35000000 | rz(rt), target, Aarch64Assembler::imm19);
    }

    /** {@code adr rd, target}: rd = the target's address (within 1 MiB). */
    public void adr(Aarch64Reg rd, Label target) {
        buf.word32(0x10000000 | rg(rd), target, Aarch64Assembler::adrImm);
    }

    /** {@code blr rn}: call through a register (x30 = return address). */
    public void blr(Aarch64Reg rn) {
        emit(0xD63F0000 | rg(rn) << 5);
    }

    /** {@code ret} (through x30). */
    public void ret() {
        emit(0xD65F03C0);
    }

    /** {@code svc #0}: a Linux system call (x8 = number, x0..x5 = arguments, x0 = result). */
    public void svc0() {
        emit(0xD4000001);
    }

    // ---------------------------------------------------------------- system

    /** {@code mrs rd, tpidr_el0}: the thread pointer. */
    public void mrsTpidrEl0(Aarch64Reg rd) {
        emit(0xD53BD040 | rz(rd));
    }

    /** {@code mrs rd, ctr_el0}: the cache type register (line sizes). */
    public void mrsCtrEl0(Aarch64Reg rd) {
        emit(0xD53B0020 | rz(rd));
    }

    /** {@code dc cvau, rt}: clean the data cache line of address rt to the point of unification. */
    public void dcCvau(Aarch64Reg rt) {
        emit(0xD50B7B20 | rz(rt));
    }

    /** {@code ic ivau, rt}: invalidate the instruction cache line of address rt. */
    public void icIvau(Aarch64Reg rt) {
        emit(0xD50B7520 | rz(rt));
    }

    /** {@code dsb ish}. */
    public void dsbIsh() {
        emit(0xD5033B9F);
    }

    /** {@code dmb ish}. */
    public void dmbIsh() {
        emit(0xD5033BBF);
    }

    /** {@code isb}. */
    public void isb() {
        emit(0xD5033FDF);
    }

    /** {@code nop}. */
    public void nop() {
        emit(0xD503201F);
    }

    /** {@code yield}: a spin-loop hint. */
    public void yield() {
        emit(0xD503203F);
    }

    /** {@code brk #imm16}: a breakpoint trap. */
    public void brk(int imm16) {
        if (imm16 < 0 || imm16 > 0xFFFF) {
            throw new IllegalArgumentException("16-bit immediate out of range: " + imm16);
        }
        emit(0xD4200000 | imm16 << 5);
    }

    /**
     * The rseq abort signature as an instruction word ({@code .inst sig}). aarch64's
     * {@code 0xd428bc00} is {@code brk #0x45e0}: it traps if ever executed.
     */
    public void signature(int sig) {
        emit(sig);
    }

    public void bind(Label label) {
        buf.bind(label);
    }
}
