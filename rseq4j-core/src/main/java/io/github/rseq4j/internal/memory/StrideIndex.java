package io.github.rseq4j.internal.memory;

/**
 * The index of an offset that must be an exact multiple of a fixed stride ({@code off / stride}
 * when {@code off % stride == 0}), with no divide instruction: validating a caller's node or
 * buffer is on the fast path of every push or release, and a 64-bit division costs more there
 * than the rest of the check.
 *
 * <p><b>Implementation notes.</b> The stride is {@code odd << shift}. An offset is a multiple of it
 * exactly when its low {@code shift} bits are 0 and {@code q = (off >>> shift) * inverse}
 * (mod 2<sup>64</sup>, {@code inverse} the inverse of {@code odd} mod 2<sup>64</sup>) is at
 * most {@code (2<sup>64</sup> - 1) / odd}; {@code q} is then the quotient (Granlund and
 * Montgomery, "Division by invariant integers using multiplication", section 9). For a
 * power-of-two stride {@code odd} is 1: a mask and a shift.
 */
public final class StrideIndex {
    private final long stride;
    private final int shift;
    private final long inverse;
    private final long limit;

    /**
     * An index for multiples of {@code stride}.
     *
     * @param stride the stride, positive
     * @throws IllegalArgumentException when it is not positive
     */
    public StrideIndex(long stride) {
        if (stride <= 0) {
            throw new IllegalArgumentException("stride must be positive: " + stride);
        }
        this.stride = stride;
        this.shift = Long.numberOfTrailingZeros(stride);
        long odd = stride >>> shift;
        long x = odd;                       // correct to 3 bits (odd * odd = 1 mod 8); each step doubles them
        for (int i = 0; i < 5; i++) {
            x *= 2 - odd * x;
        }
        this.inverse = x;
        this.limit = Long.divideUnsigned(-1L, odd);
    }

    /**
     * The stride.
     *
     * @return the stride given to the constructor
     */
    public long stride() {
        return stride;
    }

    /**
     * {@code off / stride} when {@code off} is a non-negative multiple of the stride, else -1.
     *
     * @param off any offset
     * @return its index, or -1 when it is negative or not a multiple of the stride
     */
    public long indexOf(long off) {
        long q = (off >>> shift) * inverse;
        return off >= 0 && (off & ((1L << shift) - 1)) == 0 && Long.compareUnsigned(q, limit) <= 0 ? q : -1;
    }
}
