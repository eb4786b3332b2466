package io.github.rseq4j.prometheus;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.HistogramCounts;
import io.github.rseq4j.PerCpuTimer;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Arrays;

/**
 * Which classic-histogram bucket bounds ({@code le}) an rseq4j histogram is exported with.
 *
 * <p><b>Exactness.</b> Every exported bound is an upper bound of one of the histogram's own
 * buckets ({@link BucketLayout}), so each rseq4j bucket lies entirely at or below each
 * exported bound or entirely above it, and the exported cumulative counts are exact sums
 * of whole rseq4j buckets: no record is ever counted under a bound it exceeds, nor left
 * out of one it does not exceed.
 *
 * <p><b>Bounds as given.</b> {@link #of} exports each requested bound exactly as written
 * ({@code le="0.1"}, formatted by client_java), and requires the histogram to have a
 * bucket that ends exactly there: for a timer, a bucket whose last nanosecond is
 * {@code b * 10^9} rounded down ({@code b} read as its decimal), so that the values at or
 * below {@code b} seconds are exactly the buckets up to that one. Layouts that have them:
 * {@link BucketLayout#explicitSeconds} of those bounds, or a log-linear layout
 * {@linkplain BucketLayout#including including} them, such as {@link PerCpuTimer#PerCpuTimer() new PerCpuTimer()}'s,
 * which includes the Prometheus default bounds. A requested bound that no bucket ends at
 * is refused when the metric is defined (an {@link IllegalArgumentException} naming the
 * nearest bucket bounds), never rounded to another {@code le}. A bound at or above a
 * clamping layout's highest value holds every record. {@link #every()},
 * {@link #powersOfTwo()} and {@link #auto()} export bucket bounds as the layout gives
 * them ({@link BucketLayout#upperBound(int, long)}): the user's numbers for explicit
 * layouts. The unbounded {@code +Inf} bucket is always exported.
 */
public final class ClassicBounds {

    /** The Prometheus client libraries' default bucket bounds, in seconds. */
    static final double[] PROMETHEUS_DEFAULT_SECONDS = {
            .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

    /** Histograms with at most this many buckets are exported whole by {@link #auto()}. */
    static final int AUTO_EVERY_LIMIT = 64;

    private enum Kind { EVERY, POWERS_OF_TWO, EXPLICIT, AUTO }

    private final Kind kind;
    private final double[] bounds;

    private ClassicBounds(Kind kind, double[] bounds) {
        this.kind = kind;
        this.bounds = bounds;
    }

    /**
     * One classic bucket per rseq4j bucket: exact and as fine as the histogram (use for few buckets).
     *
     * @return the bounds
     */
    public static ClassicBounds every() {
        return new ClassicBounds(Kind.EVERY, null);
    }

    /**
     * A bound below each power of two: {@code le} = 2^k - 1 in the histogram's own unit
     * (values below 2^k), divided by the exported unit (1e9 for timers). These are bucket
     * upper bounds of every log-linear histogram, so nothing is rounded there.
     *
     * @return the bounds
     */
    public static ClassicBounds powersOfTwo() {
        return new ClassicBounds(Kind.POWERS_OF_TWO, null);
    }

    /**
     * These bounds, in the exported unit (seconds for timers, the histogram's own unit
     * otherwise), exported as given; each must be a bucket upper bound of the histogram
     * (see the class notes), else defining the metric fails.
     *
     * @param bounds the upper bounds, in any order
     * @return the bounds
     * @throws IllegalArgumentException when empty, or for a bound that is negative or not finite
     */
    public static ClassicBounds of(double... bounds) {
        if (bounds.length == 0) {
            throw new IllegalArgumentException("at least one bound expected");
        }
        double[] b = bounds.clone();
        for (double x : b) {
            if (!(x >= 0) || Double.isInfinite(x)) {
                throw new IllegalArgumentException("bounds must be finite and non-negative: " + Arrays.toString(b));
            }
        }
        Arrays.sort(b);
        return new ClassicBounds(Kind.EXPLICIT, b);
    }

    /**
     * The default bounds of the Prometheus client libraries, 5 ms to 10 s
     * ({@code .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10} seconds): the default for
     * timers. {@link PerCpuTimer#PerCpuTimer() new PerCpuTimer()} and {@link BucketLayout#prometheusDefaultSeconds()}
     * have them.
     *
     * @return the bounds
     */
    public static ClassicBounds prometheusDefaultSeconds() {
        return of(PROMETHEUS_DEFAULT_SECONDS);
    }

    /**
     * The default for histograms: {@link #every()} bucket when the histogram has at most
     * {@value #AUTO_EVERY_LIMIT} buckets (explicit bounds, say), else {@link #powersOfTwo()}.
     *
     * @return the bounds
     */
    public static ClassicBounds auto() {
        return new ClassicBounds(Kind.AUTO, null);
    }

    /**
     * How the buckets of histograms laid out like {@code layout} map onto exported buckets,
     * for an exported unit that is the histogram's own unit divided by {@code divisor}.
     *
     * @throws IllegalArgumentException for a requested bound ({@link #of}) that is no bucket upper bound
     */
    Mapping mapping(BucketLayout layout, long divisor) {
        int n = layout.bucketCount();
        long[] uppers = new long[n - 1];        // the last bucket is the +Inf one: no bound of its own
        for (int i = 0; i < n - 1; i++) {
            uppers[i] = layout.upperBound(i);
        }
        Kind k = kind == Kind.AUTO ? (n <= AUTO_EVERY_LIMIT ? Kind.EVERY : Kind.POWERS_OF_TWO) : kind;
        // the chosen buckets (increasing), and the le of each
        int[] chosen;
        double[] le;
        switch (k) {
            case EVERY -> {
                int[] c = new int[n - 1];
                int m = 0;
                for (int i = 0; i < n - 1; i++) {
                    if (lastOf(uppers, i) == i) {       // of equal bounds (buckets without an integer), the last
                        c[m++] = i;
                    }
                }
                chosen = Arrays.copyOf(c, m);
                le = null;
            }
            case POWERS_OF_TWO -> {
                long top = uppers.length == 0 ? -1 : uppers[uppers.length - 1];
                int[] c = new int[63];
                int m = 0;
                for (int e = 0; e < 63 && (1L << e) - 1 <= top; e++) {
                    int i = Arrays.binarySearch(uppers, (1L << e) - 1);
                    int at = i >= 0 ? lastOf(uppers, i) : -i - 2;      // the bucket bound at or below 2^e - 1
                    if (at >= 0 && (m == 0 || c[m - 1] != at)) {
                        c[m++] = at;
                    }
                }
                chosen = Arrays.copyOf(c, m);
                le = null;
            }
            case EXPLICIT -> {
                chosen = new int[bounds.length];
                le = new double[bounds.length];
                int m = 0;
                for (double b : bounds) {
                    long x = toNative(b, divisor);
                    int i = Arrays.binarySearch(uppers, x);
                    int at;
                    if (i >= 0) {
                        at = lastOf(uppers, i);
                    } else if (x >= layout.highestTrackableValue()) {
                        at = n - 1;     // holds every (clamped) value: the last bucket too
                    } else {
                        int below = -i - 2;
                        throw new IllegalArgumentException("bound " + b + " is not a bucket bound of " + layout
                                + (divisor == 1 ? "" : " (in units of 1/" + divisor + ")") + ": the nearest are "
                                + (below < 0 ? "none below" : layout.upperBound(below, divisor)) + " and "
                                + layout.upperBound(below + 1, divisor) + "; give the histogram a layout with it"
                                + " (BucketLayout.explicitSeconds(...), or logLinear(...).including(...))");
                    }
                    if (m > 0 && le[m - 1] == b) {
                        continue;       // given twice
                    }
                    chosen[m] = at;
                    le[m++] = b;
                }
                chosen = Arrays.copyOf(chosen, m);
                le = Arrays.copyOf(le, m);
            }
            default -> throw new AssertionError(k);
        }
        if (le == null) {
            le = new double[chosen.length];
            for (int i = 0; i < chosen.length; i++) {
                le[i] = layout.upperBound(chosen[i], divisor);
            }
        }
        int[] target = new int[n];
        int j = 0;
        for (int i = 0; i < n; i++) {
            while (j < chosen.length && chosen[j] < i) {
                j++;
            }
            target[i] = j; // chosen.length: the +Inf bucket
        }
        return new Mapping(le, target, divisor);
    }

    /** The last index holding the same value as {@code uppers[i]} (equal bounds: buckets without an integer). */
    private static int lastOf(long[] uppers, int i) {
        while (i + 1 < uppers.length && uppers[i + 1] == uppers[i]) {
            i++;
        }
        return i;
    }

    /** {@code bound * divisor}, rounded down to a long (exact for decimal bounds such as 0.005). */
    static long toNative(double bound, long divisor) {
        BigDecimal x = BigDecimal.valueOf(bound).multiply(BigDecimal.valueOf(divisor));
        BigDecimal max = BigDecimal.valueOf(Long.MAX_VALUE);
        return x.compareTo(max) >= 0 ? Long.MAX_VALUE : x.setScale(0, RoundingMode.FLOOR).longValueExact();
    }

    @Override
    public String toString() {
        return switch (kind) {
            case EXPLICIT -> "ClassicBounds" + Arrays.toString(bounds);
            default -> "ClassicBounds." + kind.name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    /**
     * Exported bounds {@code le} (finite, increasing; +Inf implied) and, for each rseq4j
     * bucket, the exported bucket it is summed into ({@code le.length} for +Inf).
     */
    record Mapping(double[] le, int[] target, long divisor) {

        /** The classic buckets of one snapshot: upper bounds (with +Inf) and non-cumulative counts. */
        double[] upperBounds() {
            double[] b = Arrays.copyOf(le, le.length + 1);
            b[le.length] = Double.POSITIVE_INFINITY;
            return b;
        }

        long[] counts(HistogramCounts s) {
            long[] c = new long[le.length + 1];
            for (int i = 0; i < target.length; i++) {
                c[target[i]] += s.recordsInBucket(i);
            }
            return c;
        }

        double sum(HistogramCounts s) {
            return divisor == 1 ? (double) s.sum() : (double) s.sum() / divisor;
        }
    }
}
