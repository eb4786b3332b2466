package io.github.rseq4j.internal.abi;

/**
 * Layout of one slice of per-CPU memory. The first cache line of every slice is a header
 * owned by rseq4j; items are allocated after it.
 */
public final class SliceLayout {
    private SliceLayout() {}

    /**
     * Offset of the stopped word (a 64-bit value: 0 running, otherwise the slice is held
     * by a stopper). Every critical section reads it before its commit.
     */
    public static final int STOPPED_OFFSET = 0;

    /** log2 of the distance between slices: 1 MiB, as librseq's default pool stride. */
    public static final int STRIDE_SHIFT = 20;

    /** Distance between slices, and the size of each. */
    public static final long STRIDE = 1L << STRIDE_SHIFT;

    /** Bytes reserved at the start of every slice. */
    public static final int HEADER_BYTES = 64;

    /** Ring layout inside an item: write position (committed by writers). */
    public static final int RING_WRITE = 0;
    /** Ring layout: read position (advanced by the consumer). */
    public static final int RING_READ = 8;
    /** Ring layout: capacity - 1 (capacity is a power of two). */
    public static final int RING_MASK = 16;
    /** Ring layout: records start here. */
    public static final int RING_DATA = 64;
    /** Ring layout: bytes before each record holding its length. */
    public static final int RING_RECORD_HEADER = 8;
}
