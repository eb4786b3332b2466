package io.github.rseq4j.internal.abi;

/**
 * Layout of one slice of per-CPU memory. The first cache line of every slice is a header
 * owned by rseq4j, whose first word is the owner word; items are allocated after it.
 */
public final class SliceLayout {
    private SliceLayout() {}

    /**
     * Offset of the owner word: a 64-bit value that equals the owner's token while the
     * slice runs. Any other value means the slice is held by a stopper
     * ({@link #stoppedWord}), or belongs to no owner or to another one (0 once the memory
     * was given back, another token once its range was reused). Every critical section
     * compares it with the caller's token before its commit.
     */
    public static final int OWNER_WORD_OFFSET = 0;

    /**
     * Bits of an owner token. Generated operations take it in the top bits of their base
     * address (user-space addresses are below 2<sup>47</sup> on x86-64 and aarch64, even
     * with 5-level page tables unless a mapping asks for more) and split it off before the
     * critical section.
     */
    public static final int TOKEN_BITS = 16;

    /** The largest owner token (tokens run from 1 to this). */
    public static final int MAX_TOKEN = (1 << TOKEN_BITS) - 1;

    /** Addresses passed with a token must be below this: the bits above hold the token. */
    public static final long ADDRESS_LIMIT = 1L << (Long.SIZE - TOKEN_BITS);

    /** The bit a stopper sets in the owner word, keeping the token in the bits below. */
    public static final long STOPPED_BIT = 1L << 32;

    /**
     * The owner word of a slice held by a stopper.
     *
     * @param token the owner's token
     * @return a value no running slice of any owner holds
     */
    public static long stoppedWord(long token) {
        return token | STOPPED_BIT;
    }

    /**
     * The base argument of generated operations: {@code address} with {@code token} in
     * its top {@link #TOKEN_BITS} bits.
     *
     * @param address the address of slice 0, below {@link #ADDRESS_LIMIT}
     * @param token   the owner's token, 1 to {@link #MAX_TOKEN}
     * @return the tagged base
     * @throws IllegalArgumentException when either is out of range
     */
    public static long taggedBase(long address, int token) {
        if (address <= 0 || Long.compareUnsigned(address, ADDRESS_LIMIT) >= 0) {
            throw new IllegalArgumentException("per-CPU memory address " + Long.toHexString(address)
                    + " is not below 2^" + (Long.SIZE - TOKEN_BITS) + ": no room for the owner token");
        }
        if (token < 1 || token > MAX_TOKEN) {
            throw new IllegalArgumentException("owner token must be 1 to " + MAX_TOKEN + ": " + token);
        }
        return address | ((long) token << (Long.SIZE - TOKEN_BITS));
    }

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
