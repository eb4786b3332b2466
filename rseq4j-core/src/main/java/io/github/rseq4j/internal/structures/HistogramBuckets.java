package io.github.rseq4j.internal.structures;

import java.util.Arrays;

/**
 * How a histogram maps values to buckets: log-linear (HdrHistogram-like: exact below
 * {@code 2^precision}, then {@code 2^precision} buckets per power of two, so each bucket's
 * width is at most {@code 2^-precision} of its values) or explicit upper bounds
 * (Prometheus-style classic buckets, the last one unbounded). Values are clamped to
 * {@code [0, highest]} before they are mapped; bounds are inclusive.
 */
public sealed interface HistogramBuckets {

    /** Number of buckets. */
    int count();

    /** The bucket of {@code value}, which lies in {@code [0, highest()]}. */
    int index(long value);

    /** Smallest value of bucket {@code i}. */
    long lowerBound(int i);

    /** Largest value of bucket {@code i} (inclusive; {@link Long#MAX_VALUE} for an unbounded last bucket). */
    long upperBound(int i);

    /** Largest value recorded as itself; larger ones are clamped to it. */
    long highest();

    /** Log-linear buckets for values 0 to {@code highest} with {@code precision} bits of sub-buckets. */
    record LogLinear(long highest, int precision) implements HistogramBuckets {
        public LogLinear {
            if (precision < 1 || precision > 10) {
                throw new IllegalArgumentException("precision must be 1 to 10 bits: " + precision);
            }
            if (highest < (1L << precision) || highest == Long.MAX_VALUE) {
                throw new IllegalArgumentException("highest value must be at least 2^precision (" + (1L << precision)
                        + ") and below Long.MAX_VALUE: " + highest);
            }
        }

        @Override
        public int count() {
            return index(highest) + 1;
        }

        @Override
        public int index(long v) {
            return index(v, precision);
        }

        /**
         * The bucket of {@code v} (in {@code [0, Long.MAX_VALUE - 1]}) with {@code precision}
         * sub-bucket bits, without a branch: below {@code 2^precision} the value itself; else,
         * with {@code shift = (bit length of v) - 1 - precision}, the {@code 2^precision}
         * buckets of each power of two start at {@code (shift + 1) << precision}, and
         * {@code v >>> shift} is {@code 2^precision} plus the sub-bucket, so the index is
         * {@code (shift << precision) + (v >>> shift)}; {@code shift = max(0, ...)} makes the
         * same formula give {@code v} below {@code 2^precision}.
         */
        public static int index(long v, int precision) {
            int shift = Math.max(0, 63 - precision - Long.numberOfLeadingZeros(v));
            return (shift << precision) + (int) (v >>> shift);
        }

        @Override
        public long lowerBound(int i) {
            if (i < (1 << precision)) {
                return i;
            }
            int k = i - (1 << precision);
            int shift = k >>> precision;
            int sub = k & ((1 << precision) - 1);
            return ((1L << precision) + sub) << shift;
        }

        @Override
        public long upperBound(int i) {
            if (i < (1 << precision)) {
                return i;
            }
            int shift = (i - (1 << precision)) >>> precision;
            return Math.min(highest, lowerBound(i) + (1L << shift) - 1);
        }
    }

    /**
     * Explicit buckets: bucket {@code i < n} holds values up to {@code bounds[i]} (and above
     * {@code bounds[i-1]}); bucket {@code n} holds the rest, up to {@link Long#MAX_VALUE} - 1.
     */
    record Explicit(long[] bounds) implements HistogramBuckets {
        public Explicit {
            bounds = bounds.clone();
            if (bounds.length == 0 || bounds.length > 4096) {
                throw new IllegalArgumentException("1 to 4096 bucket bounds expected: " + bounds.length);
            }
            for (int i = 0; i < bounds.length; i++) {
                if (bounds[i] < 0 || (i > 0 && bounds[i] <= bounds[i - 1]) || bounds[i] >= Long.MAX_VALUE - 1) {
                    throw new IllegalArgumentException("bucket bounds must be non-negative and strictly increasing: "
                            + Arrays.toString(bounds));
                }
            }
        }

        @Override
        public int count() {
            return bounds.length + 1;
        }

        @Override
        public int index(long v) {
            int i = Arrays.binarySearch(bounds, v);
            return i >= 0 ? i : -i - 1;
        }

        @Override
        public long lowerBound(int i) {
            return i == 0 ? 0 : bounds[i - 1] + 1;
        }

        @Override
        public long upperBound(int i) {
            return i < bounds.length ? bounds[i] : Long.MAX_VALUE;
        }

        @Override
        public long highest() {
            return Long.MAX_VALUE - 1;
        }

        @Override
        public long[] bounds() {
            return bounds.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Explicit e && Arrays.equals(bounds, e.bounds);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bounds);
        }

        @Override
        public String toString() {
            return "Explicit" + Arrays.toString(bounds);
        }
    }
}
