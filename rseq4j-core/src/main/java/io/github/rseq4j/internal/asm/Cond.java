package io.github.rseq4j.internal.asm;

/** Architecture-neutral branch conditions on 64-bit values (signed unless marked unsigned). */
public enum Cond {
    EQ, NE, LT, GE, GT, LE, LT_UNSIGNED, GE_UNSIGNED, GT_UNSIGNED, LE_UNSIGNED
}
