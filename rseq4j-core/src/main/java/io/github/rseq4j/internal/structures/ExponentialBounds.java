package io.github.rseq4j.internal.structures;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * The boundaries of exponential buckets as Prometheus native histograms (schema -4..8)
 * and OpenTelemetry exponential histograms (scale -10..20) define them: base
 * {@code 2^(2^-scale)}, bucket {@code i} holds the values {@code x} with
 * {@code base^(i-1) < x <= base^i} (Prometheus' index; OpenTelemetry numbers the same
 * bucket {@code i - 1}: its bucket {@code i} is {@code (base^i, base^(i+1)]}), and a
 * separate zero bucket holds 0.
 *
 * <p><b>Implementation notes.</b> rseq4j records integers, so a bucket is fully described by
 * its largest integer: for values recorded in units of {@code 1/unit} of the bucket unit
 * (nanoseconds for bounds in seconds: {@code unit = 10^9}), {@code v} is in bucket
 * {@code i} exactly when {@code v <= floor(unit * base^i)}. That integer is computed
 * exactly: for {@code scale <= 0}, {@code base^i} is the power of two
 * {@code 2^(i * 2^-scale)}, a shift of {@code unit}; for {@code scale > 0},
 * {@code base^i = 2^q * 2^(r / 2^scale)} ({@code i = q * 2^scale + r}), whose fractional
 * power is a product of the repeated square roots {@code 2^(2^-k)} computed once to
 * {@value #DIGITS} significant digits, far more than the 19 digits of a {@code long}
 * (an irrational {@code unit * base^i} is never that close to an integer in the range of
 * a {@code long}); {@code r = 0} is the exact power of two. The fold then maps values with
 * a {@link HistogramBuckets.Table} of these integers, never with floating point, guessing
 * with log-linear buckets of {@code scale + 3} bits (8 per exponential bucket), so that
 * only the few log-linear buckets a boundary splits need a search.
 */
public final class ExponentialBounds {
    /** Scales supported: OpenTelemetry's range (Prometheus' schemas -4..8 are inside it). */
    public static final int MIN_SCALE = -10, MAX_SCALE = 20;

    private static final int DIGITS = 60;
    private static final MathContext MC = new MathContext(DIGITS, RoundingMode.HALF_EVEN);
    /** ROOTS[k] = 2^(2^-k), k = 0..MAX_SCALE. */
    private static final BigDecimal[] ROOTS = new BigDecimal[MAX_SCALE + 1];

    static {
        ROOTS[0] = BigDecimal.valueOf(2);
        for (int k = 1; k <= MAX_SCALE; k++) {
            ROOTS[k] = ROOTS[k - 1].sqrt(MC);
        }
    }

    private ExponentialBounds() {
    }

    /** Throws unless {@code scale} is in {@value #MIN_SCALE}..{@value #MAX_SCALE}. */
    public static void checkScale(int scale) {
        if (scale < MIN_SCALE || scale > MAX_SCALE) {
            throw new IllegalArgumentException("scale must be " + MIN_SCALE + " to " + MAX_SCALE + ": " + scale);
        }
    }

    /** {@code base^i} exactly as a decimal for {@code scale > 0} (to {@value #DIGITS} digits), exactly otherwise. */
    private static BigDecimal power(int scale, int i) {
        int q, r;
        if (scale <= 0) {
            q = i << -scale;
            r = 0;
        } else {
            q = i >> scale;
            r = i & ((1 << scale) - 1);
        }
        BigDecimal x = BigDecimal.ONE;
        for (int b = 0; b < scale; b++) {
            if ((r & (1 << b)) != 0) {
                x = x.multiply(ROOTS[scale - b], MC);
            }
        }
        BigDecimal two = new BigDecimal(BigInteger.ONE.shiftLeft(Math.abs(q)));
        return q >= 0 ? x.multiply(two) : x.divide(two);   // exact: dividing by 2^k terminates
    }

    /**
     * The largest integer {@code v} with {@code v / unit <= base^i}: bucket {@code i}'s
     * inclusive upper bound in recorded units, capped at {@link Long#MAX_VALUE}.
     */
    public static long upper(int scale, long unit, int i) {
        return floorTimes(power(scale, i), unit);
    }

    /**
     * The bucket of the positive integer {@code v} recorded in units of {@code 1/unit}: the
     * smallest {@code i} with {@code v <= upper(scale, unit, i)}. A double estimate, then
     * corrected with exact bounds; for building layouts, not for the fold.
     */
    public static int index(int scale, long unit, long v) {
        if (v <= 0) {
            throw new IllegalArgumentException("positive value expected: " + v);
        }
        double log2 = (Math.log(v) - Math.log(unit)) / Math.log(2);
        int i = (int) Math.ceil(Math.scalb(log2, scale));
        while (upper(scale, unit, i - 1) >= v) {
            i--;
        }
        while (upper(scale, unit, i) < v) {
            i++;
        }
        return i;
    }

    /**
     * {@code base^i} for {@code i = from .. to - 1}, each computed from the previous one
     * by one multiplication with {@code 2^(2^-scale)} ({@value #DIGITS} digits, so the
     * error stays far below a {@code long}'s resolution over any range of a layout), and
     * exactly at every power of two ({@code i} a multiple of {@code 2^scale}).
     */
    private static BigDecimal[] powers(int scale, int from, int to) {
        BigDecimal[] out = new BigDecimal[to - from];
        BigDecimal x = null;
        for (int i = from; i < to; i++) {
            x = scale <= 0 || x == null || (i & ((1 << scale) - 1)) == 0 ? power(scale, i) : x.multiply(ROOTS[scale], MC);
            out[i - from] = x;
        }
        return out;
    }

    private static long floorTimes(BigDecimal power, long unit) {
        BigDecimal x = power.multiply(BigDecimal.valueOf(unit)).setScale(0, RoundingMode.FLOOR);
        return x.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE : x.longValueExact();
    }

    /**
     * An exponential layout: the exponential index of its bucket 1, the table of its
     * buckets, and each bucket's upper boundary {@code base^i} as the nearest double
     * (bucket 0, the zero bucket: the zero threshold {@code base^(first-1)}).
     */
    public record Layout(int first, HistogramBuckets.Table table, double[] boundaries) {}

    /**
     * The zero bucket and the exponential buckets from that of {@code lowest} to that of
     * {@code highest} (which holds the values up to {@code highest}; larger ones are
     * clamped to it). The zero bucket holds 0 and every value below the first exponential
     * bucket: up to {@code upper(scale, unit, first - 1)}, the zero threshold. Bucket
     * {@code k >= 1} of the table is exponential bucket {@code first + k - 1}, with
     * {@code first = index(scale, unit, lowest)}.
     *
     * @throws IllegalArgumentException when that is more than {@link HistogramBuckets.Table#MAX_BUCKETS} buckets
     */
    public static Layout layout(int scale, long unit, long lowest, long highest) {
        checkScale(scale);
        if (unit < 1) {
            throw new IllegalArgumentException("unit must be positive: " + unit);
        }
        if (lowest < 1 || highest < lowest || highest >= Long.MAX_VALUE - 1) {
            throw new IllegalArgumentException("1 <= lowest <= highest < Long.MAX_VALUE - 1 expected: lowest "
                    + lowest + ", highest " + highest);
        }
        int first = index(scale, unit, lowest), last = index(scale, unit, highest);
        long count = (long) last - first + 2;
        if (count > HistogramBuckets.Table.MAX_BUCKETS) {
            throw new IllegalArgumentException("scale " + scale + " from " + lowest + " to " + highest + " needs "
                    + count + " buckets, more than " + HistogramBuckets.Table.MAX_BUCKETS
                    + ": lower the scale or narrow the range");
        }
        BigDecimal[] p = powers(scale, first - 1, last + 1);       // base^(first-1) .. base^last
        long[] uppers = new long[(int) count - 1];                // the last bucket ends at highest
        double[] boundaries = new double[(int) count];
        for (int k = 0; k < count; k++) {
            boundaries[k] = p[k].doubleValue();
            if (k < uppers.length) {
                uppers[k] = floorTimes(p[k], unit);
            }
        }
        return new Layout(first,
                new HistogramBuckets.Table(uppers, highest, false, Math.max(1, Math.min(10, scale + 3))), boundaries);
    }
}
