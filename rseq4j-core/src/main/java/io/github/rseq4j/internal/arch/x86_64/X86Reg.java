package io.github.rseq4j.internal.arch.x86_64;

/** The sixteen x86-64 general-purpose registers, numbered as in their encodings. */
public enum X86Reg {
    RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15;

    /** Register number, 0 to 15. */
    public int code() {
        return ordinal();
    }

    /** Low three bits, for ModRM/SIB fields. */
    int low() {
        return ordinal() & 7;
    }

    /** Fourth bit, for the REX prefix. */
    int high() {
        return ordinal() >> 3;
    }

    /** The 64-bit name as GNU as spells it in Intel syntax. */
    public String gasName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
