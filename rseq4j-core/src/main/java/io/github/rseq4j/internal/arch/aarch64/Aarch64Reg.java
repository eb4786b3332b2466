package io.github.rseq4j.internal.arch.aarch64;

/**
 * The aarch64 general-purpose registers as 64-bit operands. Number 31 is the stack pointer
 * or the zero register depending on the instruction; the two are separate constants here
 * and each encoder method says which it accepts.
 */
public enum Aarch64Reg {
    X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15,
    X16, X17, X18, X19, X20, X21, X22, X23, X24, X25, X26, X27, X28, X29, X30,
    /** The stack pointer (number 31 where an instruction takes SP). */
    SP,
    /** The zero register (number 31 where an instruction takes XZR). */
    XZR;

    /** The 5-bit register number. */
    public int code() {
        return this == SP || this == XZR ? 31 : ordinal();
    }

    /** The general register with number {@code n} (0 to 30). */
    public static Aarch64Reg x(int n) {
        if (n < 0 || n > 30) {
            throw new IllegalArgumentException("no register x" + n);
        }
        return values()[n];
    }

    /** Name as GNU as spells the 64-bit register. */
    public String gasName() {
        return switch (this) {
            case SP -> "sp";
            case XZR -> "xzr";
            default -> "x" + ordinal();
        };
    }

    /** Name as GNU as spells the 32-bit view of the register. */
    public String gasName32() {
        return switch (this) {
            case SP -> "wsp";
            case XZR -> "wzr";
            default -> "w" + ordinal();
        };
    }
}
