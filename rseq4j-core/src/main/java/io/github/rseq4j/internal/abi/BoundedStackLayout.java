package io.github.rseq4j.internal.abi;

/**
 * Layout of a bounded per-CPU stack of 64-bit values (the per-CPU caches of the pools,
 * in the spirit of tcmalloc's per-CPU slabs): a count word, then {@code capacity} entries.
 * Entries {@code [0, count)} hold values; the rest is free space, which a push may write
 * speculatively before it commits the new count.
 */
public final class BoundedStackLayout {
    private BoundedStackLayout() {}

    /** Offset of the count word. */
    public static final int COUNT = 0;
    /** Offset of entry 0; entry i is at {@code ENTRIES + 8 * i}. */
    public static final int ENTRIES = 8;

    /**
     * Bytes a stack of {@code capacity} entries takes.
     *
     * @param capacity the most entries the stack holds
     * @return the size in bytes of the count word and the entries
     */
    public static long bytes(int capacity) {
        return ENTRIES + 8L * capacity;
    }
}
