package io.github.rseq4j.internal.structures;

import java.util.Arrays;

/**
 * How a histogram maps values to buckets, applied when a sample log is folded (never on
 * the record path): {@link LogLinear} (HdrHistogram-like: exact below {@code 2^precision},
 * then {@code 2^precision} buckets per power of two, so each bucket's width is at most
 * {@code 2^-precision} of its values), or a {@link Table} of any sorted inclusive integer
 * upper bounds (explicit bounds, exponential bounds, log-linear bounds split at explicit
 * ones). Values are clamped to {@code [0, highest]} before they are mapped; bounds are
 * inclusive. Instances are immutable and may be shared by any number of histograms.
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
            return lowerBound(i, precision);
        }

        /** Smallest value of log-linear bucket {@code i} with {@code precision} sub-bucket bits. */
        static long lowerBound(int i, int precision) {
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
     * Buckets given by their inclusive integer upper bounds: bucket {@code i} holds the
     * values {@code v} with {@code uppers[i-1] < v <= uppers[i]}; one last bucket holds
     * the values above {@code uppers[n-1]}, up to {@code highest} (values above it are
     * clamped to it) or, when {@code unbounded}, to {@link Long#MAX_VALUE} - 1.
     *
     * <p><b>Implementation notes.</b> Equal consecutive bounds are allowed: the later buckets of
     * such a run hold no integer (an exponential bucket narrower than 1, a bound of 1.5 ns
     * next to one of 1.2 ns) and stay empty, a value goes to the first bucket whose bound
     * it does not exceed. The index is "the first bound at or above v", found without a
     * search over all bounds: the value's log-linear bucket {@code j}
     * ({@code guessPrecision} bits, a shift and an add, for every value up to
     * {@code highest}) indexes {@code guess}, which holds the table bucket of all of
     * {@code j}'s values when they share one (the usual case when the log-linear buckets
     * are at least as fine as the table's), else, with the sign bit set, the table bucket
     * of {@code j}'s smallest value, and {@code end[j]} that of its largest: a binary
     * search between them. So a fold maps most values with one shift-and-add and one
     * array load more than a log-linear index.
     */
    final class Table implements HistogramBuckets {
        /** At most this many buckets (a shard is one long per bucket per CPU). */
        public static final int MAX_BUCKETS = 1 << 16;
        private static final int SEARCH = Integer.MIN_VALUE;

        private final long[] uppers;
        private final long highest;
        private final boolean unbounded;
        private final int guessPrecision;
        /** Per log-linear bucket of {@code guessPrecision} bits: its values' table bucket, or SEARCH | that of its smallest. */
        private final int[] guess;
        /** Per log-linear bucket: the table bucket of its largest value (read only to search). */
        private final int[] end;

        /**
         * @param uppers         non-negative, non-decreasing inclusive upper bounds, below {@code highest}
         * @param highest        the largest value recorded as itself (ignored when {@code unbounded})
         * @param unbounded      whether the last bucket takes every value above the bounds
         * @param guessPrecision sub-bucket bits of the log-linear guess (1 to 10): about
         *                       the bounds' density per power of two
         */
        public Table(long[] uppers, long highest, boolean unbounded, int guessPrecision) {
            this.uppers = uppers.clone();
            this.unbounded = unbounded;
            this.highest = unbounded ? Long.MAX_VALUE - 1 : highest;
            if (uppers.length == 0 || uppers.length >= MAX_BUCKETS) {
                throw new IllegalArgumentException("1 to " + (MAX_BUCKETS - 1) + " bucket bounds expected: "
                        + uppers.length);
            }
            for (int i = 0; i < uppers.length; i++) {
                if (uppers[i] < 0 || (i > 0 && uppers[i] < uppers[i - 1]) || uppers[i] >= this.highest) {
                    throw new IllegalArgumentException("bucket bounds must be non-negative, non-decreasing and below "
                            + this.highest + ": " + uppers[i] + " at " + i);
                }
            }
            if (guessPrecision < 1 || guessPrecision > 10) {
                throw new IllegalArgumentException("guess precision must be 1 to 10 bits: " + guessPrecision);
            }
            this.guessPrecision = guessPrecision;
            int n = LogLinear.index(this.highest, guessPrecision) + 1;
            this.guess = new int[n];
            this.end = new int[n];
            for (int j = 0; j < n; j++) {
                long low = LogLinear.lowerBound(j, guessPrecision);
                long high = j + 1 < n ? LogLinear.lowerBound(j + 1, guessPrecision) - 1 : this.highest;
                int lo = firstAtOrAbove(low), hi = firstAtOrAbove(high);
                guess[j] = lo == hi ? lo : lo | SEARCH;
                end[j] = hi;
            }
        }

        /** The first bucket whose bound is at or above {@code v} (a plain binary search; for building the guess). */
        private int firstAtOrAbove(long v) {
            return search(v, 0, uppers.length);
        }

        /** The first bucket in {@code [lo, hi]} whose bound is at or above {@code v}; bucket {@code uppers.length} has none. */
        private int search(long v, int lo, int hi) {
            long[] u = uppers;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (u[mid] >= v) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            return lo;
        }

        /** Explicit bounds with an unbounded last bucket (strictly increasing). */
        public static Table explicit(long[] bounds) {
            for (int i = 1; i < bounds.length; i++) {
                if (bounds[i] <= bounds[i - 1]) {
                    throw new IllegalArgumentException("bucket bounds must be strictly increasing: "
                            + Arrays.toString(bounds));
                }
            }
            if (bounds.length > 4096) {
                throw new IllegalArgumentException("1 to 4096 bucket bounds expected: " + bounds.length);
            }
            return new Table(bounds, Long.MAX_VALUE - 1, true, 5);
        }

        @Override
        public int count() {
            return uppers.length + 1;
        }

        @Override
        public int index(long v) {
            int j = LogLinear.index(v, guessPrecision);
            int g = guess[j];
            return g >= 0 ? g : search(v, g & ~SEARCH, end[j]);
        }

        @Override
        public long lowerBound(int i) {
            return i == 0 ? 0 : uppers[i - 1] + 1;
        }

        @Override
        public long upperBound(int i) {
            return i < uppers.length ? uppers[i] : unbounded ? Long.MAX_VALUE : highest;
        }

        @Override
        public long highest() {
            return highest;
        }

        /** Whether the last bucket is unbounded (its upper bound {@link Long#MAX_VALUE}). */
        public boolean unbounded() {
            return unbounded;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Table t && highest == t.highest && unbounded == t.unbounded
                    && Arrays.equals(uppers, t.uppers);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(uppers) * 31 + Long.hashCode(highest);
        }

        @Override
        public String toString() {
            return "Table[" + count() + " buckets, highest " + highest + "]";
        }
    }
}
