package io.github.rseq4j;

import io.github.rseq4j.internal.structures.ExponentialBounds;
import io.github.rseq4j.internal.structures.HistogramBuckets;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;

/**
 * The buckets of a {@link PerCpuHistogram}: which recorded values land in which bucket, and
 * each bucket's upper bound exactly as it was given, for export. A layout is immutable and
 * may be shared by any number of histograms. Values are mapped to buckets when a CPU's
 * sample log is folded, never on the record path, so the layout does not change what a
 * record costs.
 *
 * <pre>{@code
 * PerCpuTimer api = new PerCpuTimer(BucketLayout.explicitSeconds(0.001, 0.005, 0.01, 0.1, 1));
 * PerCpuHistogram sizes = new PerCpuHistogram(BucketLayout.exponential(3, 1L << 30));   // native-histogram buckets
 * }</pre>
 *
 * <p><b>Which value lands where.</b> Values are {@code long}s; bounds are inclusive upper
 * bounds, as Prometheus' {@code le}. A bucket holds the values above the previous bucket's
 * bound and at or below its own; the first bucket starts at 0.
 * <ul>
 * <li>{@link #explicit(long...)}: bucket {@code i} holds {@code bounds[i-1] < v <= bounds[i]};
 *     one more bucket holds everything larger (Prometheus' {@code +Inf}).</li>
 * <li>{@link #explicitSeconds(double...)}: for nanoseconds (timers), bounds in seconds as
 *     written: {@code v} nanoseconds is at or below bound {@code b} when
 *     {@code v <= b * 10^9} for {@code b} read as the decimal it prints as (0.1 is 0.1, not
 *     the binary fraction near it), so {@code 100_000_000} ns is in the bucket of
 *     {@code 0.1} and {@code 100_000_001} ns in the next. The bound is exported as the given
 *     double ({@code le="0.1"}).</li>
 * <li>{@link #exponential(int, long)}: Prometheus native histograms' and OpenTelemetry
 *     exponential histograms' buckets, base {@code 2^(2^-scale)}: exponential bucket
 *     {@code i} holds {@code base^(i-1) < v <= base^i}, exactly (integer arithmetic, no
 *     rounding at the boundaries); a zero bucket holds 0 (and, with a {@code lowest}
 *     value, everything below its bucket). {@link #exponentialSeconds}: the same for
 *     nanoseconds with boundaries in seconds, {@code base^(i-1) < v / 10^9 <= base^i}.</li>
 * <li>{@link #logLinear(long, int)}: exact below {@code 2^precision}, then
 *     {@code 2^precision} buckets per power of two.</li>
 * </ul>
 *
 * <p><b>Exported bounds.</b> {@link #upperBound(int, long)} gives a bucket's bound in an
 * export unit: the given number when the bounds were given in that unit (seconds, for
 * {@link #explicitSeconds}), else the integer bound divided by the unit.
 */
public final class BucketLayout {
    /** Nanoseconds per second: the bound unit of the {@code ...Seconds} layouts. */
    public static final long NANOS_PER_SECOND = 1_000_000_000L;

    /** Prometheus client libraries' default buckets, in seconds. */
    private static final double[] PROMETHEUS_DEFAULT_SECONDS = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

    private final HistogramBuckets buckets;
    private final String description;
    /** Recorded units per unit of the given bounds (1, or 10^9 for bounds in seconds of nanoseconds). */
    private final long boundUnit;
    /** Each bucket's upper bound as given, in {@code boundUnit}, or NaN where nothing was given; null when none was. */
    private final double[] given;
    /** The exponential index of bucket 1 (bucket 0 is the zero bucket), or Integer.MIN_VALUE when not exponential. */
    private final int firstIndex;
    private final int scale;

    private BucketLayout(HistogramBuckets buckets, String description, long boundUnit, double[] given,
                         int scale, int firstIndex) {
        this.buckets = buckets;
        this.description = description;
        this.boundUnit = boundUnit;
        this.given = given;
        this.scale = scale;
        this.firstIndex = firstIndex;
    }

    // ------------------------------------------------------------------ factories

    /**
     * Log-linear buckets for values 0 to {@code highest}: exact below {@code 2^precision},
     * then {@code 2^precision} buckets per power of two, so a bucket is at most
     * {@code 2^-precision} of its values wide (precision 5: about 3%), in the spirit of HdrHistogram.
     *
     * @param highest   the largest value recorded as itself (at least {@code 2^precision});
     *                  larger values are clamped to it
     * @param precision bits of sub-buckets per power of two, 1 to 10
     * @return the layout
     * @throws IllegalArgumentException for a precision outside 1..10 or a too small highest value
     */
    public static BucketLayout logLinear(long highest, int precision) {
        return new BucketLayout(new HistogramBuckets.LogLinear(highest, precision),
                "logLinear(" + highest + ", " + precision + ")", 1, null, 0, Integer.MIN_VALUE);
    }

    /**
     * Explicit buckets in the recorded unit: bucket {@code i} holds the values up to
     * {@code upperBounds[i]} (inclusive) above the previous bound; one more bucket holds
     * everything larger.
     *
     * @param upperBounds strictly increasing, non-negative bounds (1 to 4096 of them)
     * @return the layout, {@code upperBounds.length + 1} buckets
     * @throws IllegalArgumentException for bounds that are not strictly increasing and non-negative
     */
    public static BucketLayout explicit(long... upperBounds) {
        HistogramBuckets.Table t = HistogramBuckets.Table.explicit(upperBounds);
        return new BucketLayout(t, "explicit" + Arrays.toString(upperBounds), 1, null, 0, Integer.MIN_VALUE);
    }

    /**
     * Explicit buckets for nanoseconds, with bounds in seconds, exported as given: a value
     * of {@code v} ns is at or below bound {@code b} when {@code v <= b * 10^9}, {@code b}
     * read as the decimal it prints as ({@code 0.1} is exactly a tenth), so bound
     * {@code 0.005} holds up to {@code 5_000_000} ns. One more bucket holds everything larger.
     *
     * @param upperBounds strictly increasing, non-negative, finite bounds in seconds (1 to 4096
     *                    of them, at most about 9.2e9 s)
     * @return the layout, {@code upperBounds.length + 1} buckets
     * @throws IllegalArgumentException for bounds that are not strictly increasing, negative or not finite
     */
    public static BucketLayout explicitSeconds(double... upperBounds) {
        double[] b = upperBounds.clone();
        if (b.length == 0 || b.length > 4096) {
            throw new IllegalArgumentException("1 to 4096 bucket bounds expected: " + b.length);
        }
        long[] nanos = new long[b.length];
        for (int i = 0; i < b.length; i++) {
            if (!(b[i] >= 0) || Double.isInfinite(b[i]) || (i > 0 && !(b[i] > b[i - 1]))) {
                throw new IllegalArgumentException("bounds must be finite, non-negative and strictly increasing: "
                        + Arrays.toString(b));
            }
            nanos[i] = floorTimes(b[i], NANOS_PER_SECOND);
        }
        double[] given = Arrays.copyOf(b, b.length + 1);
        given[b.length] = Double.POSITIVE_INFINITY;
        return new BucketLayout(new HistogramBuckets.Table(nanos, Long.MAX_VALUE - 1, true, 5),
                "explicitSeconds" + Arrays.toString(b), NANOS_PER_SECOND, given, 0, Integer.MIN_VALUE);
    }

    /**
     * Exponential buckets with the boundaries of Prometheus native histograms (schema =
     * {@code scale}, -4 to 8 there) and OpenTelemetry exponential histograms (scale -10 to
     * 20): base {@code 2^(2^-scale)}, exponential bucket {@code i} holds the values
     * {@code base^(i-1) < v <= base^i} (OpenTelemetry calls it bucket {@code i - 1}),
     * exactly. The layout has a zero bucket (bucket 0) and every exponential bucket from
     * that of 1 to that of {@code highest}; values above {@code highest} are clamped to it.
     *
     * @param scale   -10 to 20; each power of two is split into {@code 2^scale} buckets
     *                (for {@code scale < 0}, a bucket spans {@code 2^-scale} powers of two)
     * @param highest the largest value recorded as itself, at least 1
     * @return the layout
     * @throws IllegalArgumentException for a scale out of range, or when the layout would
     *                                  have more than 65,536 buckets (use {@link #exponential(int, long, long)})
     */
    public static BucketLayout exponential(int scale, long highest) {
        return exponential(scale, 1, highest);
    }

    /**
     * Exponential buckets (as {@link #exponential(int, long)}) from the bucket of
     * {@code lowest} to that of {@code highest}; the zero bucket holds 0 and every value
     * below the bucket of {@code lowest} (Prometheus' and OpenTelemetry's zero threshold:
     * {@link #upperBound(int, long) upperBound(0, 1)}). High scales need a narrow range:
     * scale 20 has 2^20 buckets per power of two.
     *
     * @param scale   -10 to 20
     * @param lowest  the smallest value with an exponential bucket of its own, at least 1
     * @param highest the largest value recorded as itself, at least {@code lowest}
     * @return the layout
     * @throws IllegalArgumentException for a scale out of range, a bad range, or when the
     *                                  layout would have more than 65,536 buckets
     */
    public static BucketLayout exponential(int scale, long lowest, long highest) {
        return exponential(scale, 1, lowest, highest,
                "exponential(" + scale + ", " + lowest + ", " + highest + ")");
    }

    /**
     * Exponential buckets (as {@link #exponential(int, long)}) for nanoseconds, with
     * boundaries in seconds: {@code v} ns is in exponential bucket {@code i} when
     * {@code base^(i-1) < v / 10^9 <= base^i}, exactly; from the bucket of {@code lowest}
     * to that of {@code highest}, the zero bucket holding 0 and everything below.
     *
     * @param scale   -10 to 20
     * @param lowest  the shortest duration with an exponential bucket of its own, at least 1 ns
     * @param highest the longest duration recorded as itself
     * @return the layout
     * @throws IllegalArgumentException for a scale out of range, a bad range, or when the
     *                                  layout would have more than 65,536 buckets
     */
    public static BucketLayout exponentialSeconds(int scale, Duration lowest, Duration highest) {
        long l = Objects.requireNonNull(lowest, "lowest").toNanos();
        long h = Objects.requireNonNull(highest, "highest").toNanos();
        return exponential(scale, NANOS_PER_SECOND, l, h,
                "exponentialSeconds(" + scale + ", " + lowest + ", " + highest + ")");
    }

    private static BucketLayout exponential(int scale, long unit, long lowest, long highest, String description) {
        ExponentialBounds.Layout l = ExponentialBounds.layout(scale, unit, lowest, highest);
        return new BucketLayout(l.table(), description, unit, l.boundaries(), scale, l.first());
    }

    /**
     * The Prometheus client libraries' default buckets, {@code .005, .01, .025, .05, .1,
     * .25, .5, 1, 2.5, 5, 10} seconds, for nanoseconds: {@code explicitSeconds} of them.
     *
     * @return the layout, 12 buckets
     */
    public static BucketLayout prometheusDefaultSeconds() {
        return explicitSeconds(PROMETHEUS_DEFAULT_SECONDS);
    }

    /**
     * Micrometer's percentile-histogram buckets of a {@code Timer} with its default expected
     * range (1 ms to 30 s), in nanoseconds: the bounds Micrometer (1.17) exports as
     * {@code le} for {@code publishPercentileHistogram()}, 68 of them. They are the range's
     * two ends and, between them, Micrometer's fixed ladder of bucket values (1, 2, 3, then
     * for each {@code 4^k} from 4 on, steps of a third of it up to {@code 4^(k+1)}).
     *
     * @return the layout in nanoseconds; a timer exports each bound {@code b} as {@code b / 10^9} seconds
     */
    public static BucketLayout micrometerTimerDefault() {
        long min = 1_000_000L, max = 30_000_000_000L;
        long[] ladder = micrometerLadder();
        long[] bounds = new long[ladder.length + 2];
        int n = 0;
        bounds[n++] = min;
        for (long b : ladder) {
            if (b > min && b < max) {
                bounds[n++] = b;
            }
        }
        bounds[n++] = max;
        return new BucketLayout(HistogramBuckets.Table.explicit(Arrays.copyOf(bounds, n)),
                "micrometerTimerDefault", 1, null, 0, Integer.MIN_VALUE);
    }

    /** Micrometer's ladder of percentile-histogram bucket values, increasing. */
    private static long[] micrometerLadder() {
        long[] out = new long[300];
        int n = 0;
        out[n++] = 1;
        out[n++] = 2;
        out[n++] = 3;
        for (int exp = 2; exp < 64; exp += 2) {
            long current = 1L << exp;
            long delta = current / 3;
            long next = (current << 2) - delta;
            while (current < next) {
                out[n++] = current;
                current += delta;
            }
        }
        return Arrays.copyOf(out, n);
    }

    /**
     * These log-linear buckets split at the bounds of {@code bounds}, so that every one of
     * them is also a bucket upper bound here, exported as given: for instance
     * {@code logLinear(hour, 5).including(prometheusDefaultSeconds())}, the layout of
     * {@link PerCpuTimer#PerCpuTimer()}, keeps the 3% precision and exports {@code le="0.005"}
     * exactly.
     *
     * @param bounds an {@code explicit} or {@code explicitSeconds} layout (or a preset made of one)
     * @return the layout: this one's buckets, those holding a bound split in two
     * @throws IllegalArgumentException when this layout is not log-linear, {@code bounds}
     *                                  is not explicit, or a bound is not below this layout's highest value
     */
    public BucketLayout including(BucketLayout bounds) {
        Objects.requireNonNull(bounds, "bounds");
        if (!(buckets instanceof HistogramBuckets.LogLinear ll)) {
            throw new IllegalArgumentException("only a log-linear layout can include bounds: " + this);
        }
        if (!(bounds.buckets instanceof HistogramBuckets.Table t) || !t.unbounded() || bounds.isExponential()) {
            throw new IllegalArgumentException("explicit bounds expected: " + bounds);
        }
        int extra = t.count() - 1;
        long highest = ll.highest();
        if (t.upperBound(extra - 1) >= highest) {
            throw new IllegalArgumentException("bound " + t.upperBound(extra - 1) + " is not below the highest value "
                    + highest + " of " + this);
        }
        int n = ll.count() - 1;    // finite bounds of the log-linear layout: every bucket's but the last
        long[] merged = new long[n + extra];
        double[] given = new double[n + extra + 1];
        Arrays.fill(given, Double.NaN);
        int m = 0;
        for (int i = 0, j = 0; i < n || j < extra; ) {
            long a = i < n ? ll.upperBound(i) : Long.MAX_VALUE;
            long b = j < extra ? t.upperBound(j) : Long.MAX_VALUE;
            if (b <= a) {
                given[m] = bounds.upperBound(j, bounds.boundUnit);
                merged[m++] = b;
                j++;
                if (b == a) {
                    i++;
                }
            } else {
                merged[m++] = a;
                i++;
            }
        }
        return new BucketLayout(new HistogramBuckets.Table(Arrays.copyOf(merged, m), highest, false, ll.precision()),
                description + ".including(" + bounds.description + ")", bounds.boundUnit,
                Arrays.copyOf(given, m + 1), 0, Integer.MIN_VALUE);
    }

    // ------------------------------------------------------------------ queries

    /**
     * Number of buckets.
     *
     * @return how many buckets a histogram of this layout has
     */
    public int bucketCount() {
        return buckets.count();
    }

    /**
     * The bucket a value is recorded in (negative values count as 0 and values above
     * {@link #highestTrackableValue()} as that value, as a histogram records them).
     *
     * @param value a recorded value
     * @return its bucket's index, 0 to {@link #bucketCount()} - 1
     */
    public int index(long value) {
        long h = buckets.highest();
        return buckets.index(value < 0 ? 0 : Math.min(value, h));
    }

    /**
     * Smallest value of bucket {@code i}.
     *
     * @param i the bucket's index
     * @return its inclusive lower bound, in the recorded unit
     * @throws IndexOutOfBoundsException when {@code i} is not a bucket index
     */
    public long lowerBound(int i) {
        Objects.checkIndex(i, buckets.count());
        return buckets.lowerBound(i);
    }

    /**
     * Largest value of bucket {@code i}.
     *
     * @param i the bucket's index
     * @return its inclusive upper bound in the recorded unit ({@link Long#MAX_VALUE} for an
     *         unbounded last bucket)
     * @throws IndexOutOfBoundsException when {@code i} is not a bucket index
     */
    public long upperBound(int i) {
        Objects.checkIndex(i, buckets.count());
        return buckets.upperBound(i);
    }

    /**
     * Bucket {@code i}'s upper bound in an export unit of {@code unit} recorded values
     * (10^9 for seconds of nanoseconds, 1 for the recorded unit): the bound as given when
     * the layout's bounds were given in that unit (the double passed to
     * {@link #explicitSeconds}, {@code base^i} for exponential layouts), else
     * {@link #upperBound(int)} divided by {@code unit}; infinity for an unbounded last
     * bucket. A value {@code v} in the bucket always satisfies {@code v / unit <=} this bound.
     *
     * @param i    the bucket's index
     * @param unit recorded values per export unit, at least 1
     * @return the bound to export as {@code le}
     * @throws IndexOutOfBoundsException when {@code i} is not a bucket index
     */
    public double upperBound(int i, long unit) {
        long u = upperBound(i);
        if (unit < 1) {
            throw new IllegalArgumentException("unit must be positive: " + unit);
        }
        if (given != null && unit == boundUnit && !Double.isNaN(given[i])) {
            return given[i];
        }
        if (u == Long.MAX_VALUE) {
            return Double.POSITIVE_INFINITY;
        }
        return unit == 1 ? (double) u : (double) u / unit;
    }

    /**
     * Recorded values per unit of the bounds as they were given: 10^9 for the
     * {@code ...Seconds} layouts (and log-linear ones including them), 1 otherwise.
     *
     * @return the unit {@link #upperBound(int, long)} gives the bounds exactly in
     */
    public long boundUnit() {
        return boundUnit;
    }

    /**
     * The largest value recorded as itself.
     *
     * @return the highest trackable value; larger values are clamped to it
     */
    public long highestTrackableValue() {
        return buckets.highest();
    }

    /**
     * Whether this is an {@link #exponential} layout.
     *
     * @return true for exponential buckets (native-histogram buckets)
     */
    public boolean isExponential() {
        return firstIndex != Integer.MIN_VALUE;
    }

    /**
     * The scale (Prometheus' schema) of an exponential layout.
     *
     * @return -10 to 20
     * @throws IllegalStateException when the layout is not exponential
     */
    public int scale() {
        requireExponential();
        return scale;
    }

    /**
     * The exponential bucket index of bucket {@code i} of an exponential layout, as
     * Prometheus numbers native-histogram buckets: the bucket holds
     * {@code base^(index-1) < v / boundUnit() <= base^index}. OpenTelemetry's index of the same
     * bucket is one less. Bucket 0 is the zero bucket, which has no index.
     *
     * @param i a bucket index, 1 to {@link #bucketCount()} - 1
     * @return its exponential index; consecutive buckets have consecutive indexes
     * @throws IllegalStateException     when the layout is not exponential
     * @throws IndexOutOfBoundsException when {@code i} is not 1 to {@link #bucketCount()} - 1
     */
    public int exponentialIndex(int i) {
        requireExponential();
        if (i < 1 || i >= buckets.count()) {
            throw new IndexOutOfBoundsException("not an exponential bucket (1 to " + (buckets.count() - 1) + "): " + i);
        }
        return firstIndex + i - 1;
    }

    private void requireExponential() {
        if (!isExponential()) {
            throw new IllegalStateException("not an exponential layout: " + this);
        }
    }

    /** The mapping the histogram's engine folds with. */
    HistogramBuckets buckets() {
        return buckets;
    }

    /** {@code bound * unit} rounded down to a long, {@code bound} read as its decimal; capped below Long.MAX_VALUE - 1. */
    private static long floorTimes(double bound, long unit) {
        BigDecimal x = BigDecimal.valueOf(bound).multiply(BigDecimal.valueOf(unit)).setScale(0, RoundingMode.FLOOR);
        if (x.compareTo(BigDecimal.valueOf(Long.MAX_VALUE - 2)) > 0) {
            throw new IllegalArgumentException("bound too large for a long of recorded values: " + bound);
        }
        return x.longValueExact();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BucketLayout l && buckets.equals(l.buckets) && boundUnit == l.boundUnit
                && Arrays.equals(given, l.given) && firstIndex == l.firstIndex && scale == l.scale;
    }

    @Override
    public int hashCode() {
        return buckets.hashCode() * 31 + Arrays.hashCode(given);
    }

    @Override
    public String toString() {
        return "BucketLayout." + description;
    }
}
