package io.github.rseq4j.prometheus;

import io.github.rseq4j.HistogramCounts;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Arrays;

/**
 * Which classic-histogram bucket bounds ({@code le}) an rseq4j histogram is exported with.
 *
 * <p><b>Exactness.</b> Every exported bound is an upper bound of one of the histogram's own
 * buckets, so each rseq4j bucket lies entirely at or below each exported bound or entirely
 * above it, and the exported cumulative counts are exact sums of whole rseq4j buckets: no
 * record is ever counted under a bound it exceeds. A requested bound that is not a bucket
 * upper bound is <b>rounded down</b> to the largest bucket upper bound at or below it (for
 * a log-linear histogram of precision {@code p}, by less than {@code 2^-p} of its value,
 * about 3% at the default 5 bits), and the rounded bound is what the {@code le} label
 * shows. Bounds that round to the same value are exported once; bounds below the first
 * bucket's upper bound are dropped; bounds at or above a log-linear histogram's highest
 * trackable value become that value (nothing is recorded above it: larger values are
 * clamped to it). The unbounded {@code +Inf} bucket is always exported.
 *
 * <p>Round {@code le} values therefore come from histograms whose buckets have those upper
 * bounds: {@code PerCpuHistogram.withBounds(5_000_000, 10_000_000, ...)} for a timer in
 * nanoseconds exports {@code le="0.005"}, {@code le="0.01"} ... exactly. The default
 * log-linear timer ({@code PerCpuTimer.create()}) exports the Prometheus default latency
 * bounds rounded down, e.g. {@code le="0.004980735"} for 5 ms.
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
     * otherwise), each rounded down to a bucket upper bound (see the class notes).
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
     * ({@code .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10} seconds): the default for timers.
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
     */
    Mapping mapping(HistogramCounts layout, long divisor) {
        int n = layout.bucketCount();
        // every finite upper bound (an unbounded last bucket has Long.MAX_VALUE)
        int finite = layout.bucketUpperBound(n - 1) == Long.MAX_VALUE ? n - 1 : n;
        long[] uppers = new long[finite];
        for (int i = 0; i < finite; i++) {
            uppers[i] = layout.bucketUpperBound(i);
        }
        Kind k = kind == Kind.AUTO ? (n <= AUTO_EVERY_LIMIT ? Kind.EVERY : Kind.POWERS_OF_TWO) : kind;
        long[] chosen = switch (k) {
            // the last bucket is the +Inf one: no bound of its own
            case EVERY -> Arrays.copyOf(uppers, n - 1);
            case POWERS_OF_TWO -> {
                long top = uppers.length == 0 ? -1 : uppers[uppers.length - 1];
                long[] candidates = new long[63];
                int m = 0;
                for (int e = 0; e < 63 && (1L << e) - 1 <= top; e++) {
                    candidates[m++] = (1L << e) - 1;
                }
                yield snapDown(uppers, Arrays.copyOf(candidates, m));
            }
            case EXPLICIT -> {
                long[] candidates = new long[bounds.length];
                for (int i = 0; i < bounds.length; i++) {
                    candidates[i] = toNative(bounds[i], divisor);
                }
                yield snapDown(uppers, candidates);
            }
            case AUTO -> throw new AssertionError();
        };
        int[] target = new int[n];
        int j = 0;
        for (int i = 0; i < n; i++) {
            long u = layout.bucketUpperBound(i);
            while (j < chosen.length && chosen[j] < u) {
                j++;
            }
            target[i] = j; // chosen.length: the +Inf bucket
        }
        double[] le = new double[chosen.length];
        for (int i = 0; i < chosen.length; i++) {
            le[i] = divisor == 1 ? (double) chosen[i] : (double) chosen[i] / divisor;
        }
        return new Mapping(le, target, divisor);
    }

    /** {@code bound * divisor}, rounded down to a long (exact for decimal bounds such as 0.005). */
    static long toNative(double bound, long divisor) {
        BigDecimal x = BigDecimal.valueOf(bound).multiply(BigDecimal.valueOf(divisor));
        BigDecimal max = BigDecimal.valueOf(Long.MAX_VALUE);
        return x.compareTo(max) >= 0 ? Long.MAX_VALUE : x.setScale(0, RoundingMode.FLOOR).longValueExact();
    }

    /** For each candidate, the largest of {@code uppers} at or below it; sorted, distinct; none below uppers[0]. */
    private static long[] snapDown(long[] uppers, long[] candidates) {
        long[] out = new long[candidates.length];
        int m = 0;
        for (long c : candidates) {
            int i = Arrays.binarySearch(uppers, c);
            int at = i >= 0 ? i : -i - 2;
            if (at < 0) {
                continue;
            }
            long u = uppers[at];
            if (m == 0 || out[m - 1] != u) {
                out[m++] = u;
            }
        }
        return Arrays.copyOf(out, m);
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
