package io.github.rseq4j;

import io.github.rseq4j.internal.structures.HistogramBuckets;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bucket layouts: exponential buckets agree with the Prometheus native-histogram and
 * OpenTelemetry exponential-histogram specifications' own formulas at and next to every
 * boundary; explicit bounds in seconds follow the stated rule and are kept as given; the
 * table mapping agrees with a plain search; presets are the known lists.
 */
class BucketLayoutTest {

    // ------------------------------------------------------------------ the specifications' formulas, on doubles

    /**
     * OpenTelemetry's reference mapping (data model, "exponential buckets"): for scale <= 0
     * the IEEE exponent, minus 1 for an exact power of two, shifted right by -scale; for
     * scale > 0 {@code ceil(log(x) * 2^scale / ln 2) - 1}, with the exact power of two
     * {@code 2^e} mapped to {@code (e << scale) - 1}. OpenTelemetry's bucket {@code i} is
     * {@code (base^i, base^(i+1)]}.
     */
    static int otelIndex(double x, int scale) {
        int exp = Math.getExponent(x);
        boolean powerOfTwo = (Double.doubleToRawLongBits(x) & 0x000F_FFFF_FFFF_FFFFL) == 0;
        if (scale <= 0) {
            return (exp - (powerOfTwo ? 1 : 0)) >> -scale;
        }
        if (powerOfTwo) {
            return (exp << scale) - 1;
        }
        double scaleFactor = Math.scalb(1 / Math.log(2), scale);
        return (int) Math.ceil(Math.log(x) * scaleFactor) - 1;
    }

    /**
     * Prometheus' mapping (client_golang / client_java native histograms): {@code frexp(x)
     * = frac * 2^exp}, frac in [0.5, 1); schema <= 0: {@code exp - 1} for frac 0.5, then
     * {@code (exp + (1 << -schema) - 1) >> -schema}; schema > 0: the first of the bounds
     * {@code 2^(j/2^schema) / 2} at or above frac, plus {@code (exp - 1) * 2^schema}.
     * Prometheus' bucket {@code i} is {@code (base^(i-1), base^i]}.
     */
    static int prometheusIndex(double x, int schema) {
        int exp = Math.getExponent(x) + 1;
        double frac = Math.scalb(x, -exp);
        if (schema <= 0) {
            if (frac == 0.5) {
                exp--;
            }
            int offset = (1 << -schema) - 1;
            return (exp + offset) >> -schema;
        }
        int n = 1 << schema;
        int j = 0;
        while (j < n && Math.pow(2, (double) j / n) / 2 < frac) {
            j++;
        }
        return j + (exp - 1) * n;
    }

    /** Exactly whether v / unit <= base^i, base = 2^(2^-scale), for scale 0..8 (integers only). */
    static boolean atOrBelow(long v, long unit, int scale, int i) {
        // (v/unit)^(2^scale) <= 2^i
        int n = 1 << scale;
        BigInteger lhs = BigInteger.valueOf(v).pow(n), rhs = BigInteger.valueOf(unit).pow(n);
        return i >= 0 ? lhs.compareTo(rhs.shiftLeft(i)) <= 0 : lhs.shiftLeft(-i).compareTo(rhs) <= 0;
    }

    // ------------------------------------------------------------------ exponential

    @Test
    void exponentialBucketsAgreeWithBothSpecificationsAtAndNextToEveryBoundary() {
        for (int scale = -10; scale <= 20; scale++) {
            // At most ~4096 buckets, and values where the formulas on doubles are decisive: the
            // exponent method (scale <= 0) is exact for any double, so up to 2^50; the log
            // method's error grows with log(x) * 2^scale while the distance from an integer
            // next to a boundary to the boundary shrinks as 2^scale / v, so up to 2^30 there.
            // Larger values are checked exactly (integer arithmetic) in the next test.
            long lowest = scale <= 8 ? 1 : 1L << 20;
            double octaves = Math.min(scale <= 0 ? 50 : 30 - (scale <= 8 ? 0 : 20), 2048.0 / (1 << Math.max(0, scale)));
            long highest = Math.max(lowest + 1, (long) (lowest * Math.pow(2, octaves)));
            for (long unit : new long[]{1, BucketLayout.NANOS_PER_SECOND}) {
                BucketLayout l = unit == 1 ? BucketLayout.exponential(scale, lowest, highest)
                        : BucketLayout.exponentialSeconds(scale, Duration.ofNanos(lowest), Duration.ofNanos(highest));
                assertTrue(l.isExponential());
                assertEquals(scale, l.scale());
                int checked = 0;
                for (int k = 1; k < l.bucketCount(); k++) {
                    int i = l.exponentialIndex(k);
                    assertEquals(l.exponentialIndex(1) + k - 1, i);
                    long u = l.upperBound(k);
                    for (long v = u - 1; v <= u + 1; v++) {
                        if (v < lowest || v > highest) {
                            continue;
                        }
                        int got = l.exponentialIndex(l.index(v));
                        double x = (double) v / unit;
                        assertEquals(otelIndex(x, scale) + 1, got,
                                () -> "OpenTelemetry: scale " + l.scale() + ", unit " + unit + ", value " + x);
                        if (scale >= -4 && scale <= 8) {
                            assertEquals(prometheusIndex(x, scale), got,
                                    () -> "Prometheus: schema " + l.scale() + ", unit " + unit + ", value " + x);
                        }
                        checked++;
                    }
                }
                assertTrue(checked > l.bucketCount() / 4, "scale " + scale + ": " + checked + " values checked");
                // below the first exponential bucket: the zero bucket
                assertEquals(0, l.index(0));
                assertEquals(0, l.index(l.upperBound(0)));
            }
        }
    }

    /** The integer bounds are exact: checked with integer arithmetic, {@code (v/unit)^(2^s) <= 2^i}. */
    @Test
    void exponentialUpperBoundsAreTheLargestIntegersInTheirBuckets() {
        for (int scale = 0; scale <= 8; scale++) {
            for (long unit : new long[]{1, 1000, BucketLayout.NANOS_PER_SECOND}) {
                long highest = scale <= 2 && unit == 1 ? 1L << 50 : unit * (scale <= 4 ? 1L << 20 : 4);
                BucketLayout l = BucketLayout.exponential(scale, highest);
                if (unit != 1) {
                    l = unit == BucketLayout.NANOS_PER_SECOND
                            ? BucketLayout.exponentialSeconds(scale, Duration.ofNanos(1), Duration.ofNanos(highest))
                            : null;
                }
                if (l == null) {
                    continue;
                }
                for (int k = 1; k < l.bucketCount() - 1; k += 1 + k / 16) {
                    int i = l.exponentialIndex(k);
                    long u = l.upperBound(k);
                    assertTrue(atOrBelow(u, unit, scale, i), "scale " + scale + " bucket " + i + " bound " + u);
                    assertTrue(!atOrBelow(u + 1, unit, scale, i), "scale " + scale + " bucket " + i + " bound " + u);
                }
            }
        }
    }

    @Test
    void exponentialBoundariesAreExactPowersOfTwoForScalesUpToZero() {
        BucketLayout l = BucketLayout.exponential(0, 1L << 60);
        assertEquals(0, l.exponentialIndex(1));                    // (1/2, 1]
        for (int e = 0; e <= 60; e++) {
            long p = 1L << e;
            assertEquals(e, l.exponentialIndex(l.index(p)), "2^" + e);
            if (e > 0 && e < 60) {
                assertEquals(e + 1, l.exponentialIndex(l.index(p + 1)), "2^" + e + " + 1");
                assertEquals(e, l.exponentialIndex(l.index((p >> 1) + 1)), "2^(e-1) + 1");
            }
            assertEquals(p, l.upperBound(l.index(p)));
            assertEquals((double) p, l.upperBound(l.index(p), 1));
        }
        BucketLayout s = BucketLayout.exponentialSeconds(-2, Duration.ofNanos(1), Duration.ofSeconds(100));
        // base 16: (1/16 s, 1 s], (1 s, 16 s]
        assertEquals(1.0, s.upperBound(s.index(1_000_000_000), BucketLayout.NANOS_PER_SECOND));
        assertEquals(16.0, s.upperBound(s.index(1_000_000_001), BucketLayout.NANOS_PER_SECOND));
        assertEquals(0.0625, s.upperBound(s.index(62_500_000), BucketLayout.NANOS_PER_SECOND));
        assertEquals(1.0, s.upperBound(s.index(62_500_001), BucketLayout.NANOS_PER_SECOND));
    }

    @Test
    void exponentialLayoutsRefuseWhatTheyCannotHold() {
        assertThrows(IllegalArgumentException.class, () -> BucketLayout.exponential(21, 100));
        assertThrows(IllegalArgumentException.class, () -> BucketLayout.exponential(-11, 100));
        assertThrows(IllegalArgumentException.class, () -> BucketLayout.exponential(20, 1L << 40));
        assertThrows(IllegalArgumentException.class, () -> BucketLayout.exponential(3, 0));
        assertThrows(IllegalArgumentException.class, () -> BucketLayout.exponential(3, 10, 5));
        assertThrows(IllegalStateException.class, () -> BucketLayout.explicit(1, 2).scale());
        BucketLayout l = BucketLayout.exponential(3, 1000);
        assertThrows(IndexOutOfBoundsException.class, () -> l.exponentialIndex(0));
        assertEquals(l.bucketCount() - 1, l.index(Long.MAX_VALUE));   // clamped to the highest value
    }

    // ------------------------------------------------------------------ explicit

    /** The rule: v ns is at or below b seconds when v <= b * 10^9, b read as its decimal; le is b as given. */
    @Test
    void explicitSecondsBoundsHoldTheNanosecondsUpToThemAndAreKeptAsGiven() {
        double[] seconds = {0.001, 0.005, 0.01, 0.1, 0.3, 1, 2.5, 1.5e-9, 1e-8};
        Arrays.sort(seconds);
        BucketLayout l = BucketLayout.explicitSeconds(seconds);
        long[] nanos = {1, 10, 1_000_000, 5_000_000, 10_000_000, 100_000_000, 300_000_000, 1_000_000_000,
                2_500_000_000L};
        Arrays.sort(nanos);
        assertEquals(seconds.length + 1, l.bucketCount());
        for (int i = 0; i < seconds.length; i++) {
            assertEquals(nanos[i], l.upperBound(i), "bound " + seconds[i]);
            assertEquals(seconds[i], l.upperBound(i, BucketLayout.NANOS_PER_SECOND), "as given");
            assertEquals(Double.toString(seconds[i]),
                    Double.toString(l.upperBound(i, BucketLayout.NANOS_PER_SECOND)));
            assertEquals((double) nanos[i], l.upperBound(i, 1), "in nanoseconds");
            assertEquals(i, l.index(nanos[i]), "at " + seconds[i]);
            assertEquals(i + 1, l.index(nanos[i] + 1), "just above " + seconds[i]);
            if (nanos[i] > 0 && (i == 0 || nanos[i - 1] < nanos[i] - 1)) {
                assertEquals(i, l.index(nanos[i] - 1), "just below " + seconds[i]);
            }
        }
        assertEquals(Double.POSITIVE_INFINITY, l.upperBound(seconds.length, BucketLayout.NANOS_PER_SECOND));
        assertEquals(Long.MAX_VALUE, l.upperBound(seconds.length));
        // sub-nanosecond bounds: 1.2e-9 and 1.5e-9 s both end at 1 ns; the second bucket holds no integer
        BucketLayout sub = BucketLayout.explicitSeconds(1.2e-9, 1.5e-9, 2e-9);
        assertEquals(0, sub.index(1));
        assertEquals(2, sub.index(2));
        assertEquals(3, sub.index(3));
        assertThrows(IllegalArgumentException.class, () -> BucketLayout.explicitSeconds(0.1, 0.1));
        assertThrows(IllegalArgumentException.class, () -> BucketLayout.explicitSeconds(-0.1));
        assertThrows(IllegalArgumentException.class, () -> BucketLayout.explicitSeconds(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> BucketLayout.explicitSeconds(1e11));
        assertThrows(IllegalArgumentException.class, () -> BucketLayout.explicitSeconds());
    }

    /** The table's guess-then-search index agrees with "the first bound at or above v", for spread and clustered bounds. */
    @Test
    void tableIndexAgreesWithAPlainSearch() {
        SplittableRandom r = new SplittableRandom(5);
        for (int round = 0; round < 300; round++) {
            int n = 1 + r.nextInt(round % 3 == 0 ? 4000 : 40);
            long base = r.nextLong(1L << r.nextInt(1, 50));
            long[] b = new long[n];
            long x = base;
            for (int i = 0; i < n; i++) {
                x += round % 2 == 0 ? 1 + r.nextLong(3) : 1 + r.nextLong(1L << r.nextInt(1, 30));  // clustered or spread
                b[i] = x;
            }
            HistogramBuckets.Table t = HistogramBuckets.Table.explicit(b);
            for (int k = 0; k < 2000; k++) {
                long v = switch (k % 4) {
                    case 0 -> b[r.nextInt(n)];
                    case 1 -> b[r.nextInt(n)] + 1;
                    case 2 -> Math.max(0, b[r.nextInt(n)] - 1);
                    default -> r.nextLong(x + 10);
                };
                int lo = 0, hi = n;         // reference: the first bound >= v over all bounds
                while (lo < hi) {
                    int mid = (lo + hi) >>> 1;
                    if (b[mid] >= v) {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
                int expected = lo;
                assertEquals(expected, t.index(v), "value " + v);
            }
        }
    }

    // ------------------------------------------------------------------ log-linear including explicit bounds

    @Test
    void logLinearIncludingBoundsKeepsItsBucketsAndEndsBucketsExactlyAtTheBounds() {
        BucketLayout ll = BucketLayout.logLinear(3_600_000_000_000L, 5);
        BucketLayout l = ll.including(BucketLayout.prometheusDefaultSeconds());
        BucketLayout timer = new PerCpuTimer().histogram().layout();
        assertEquals(l, timer, "the default timer's layout");
        double[] defaults = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
        int found = 0;
        for (int i = 0; i < l.bucketCount(); i++) {
            assertEquals(i, l.index(l.lowerBound(i)), "lower bound of " + i);
            assertEquals(i, l.index(l.upperBound(i)), "upper bound of " + i);
            if (i > 0) {
                assertEquals(l.upperBound(i - 1) + 1, l.lowerBound(i));
            }
            double le = l.upperBound(i, BucketLayout.NANOS_PER_SECOND);
            if (found < defaults.length && le == defaults[found]) {
                assertEquals((long) Math.rint(defaults[found] * 1e9), l.upperBound(i));
                found++;
            } else if (i < l.bucketCount() - 1) {
                assertEquals((double) l.upperBound(i) / 1e9, le, "a log-linear bound at " + i);
            }
            // never wider than the log-linear bucket it came from
            int j = ll.index(l.upperBound(i));
            assertTrue(ll.lowerBound(j) <= l.lowerBound(i) || ll.upperBound(j - 1) == l.lowerBound(i) - 1, "bucket " + i);
        }
        assertEquals(defaults.length, found, "every default bound is a bucket bound, exported as given");
        assertEquals(ll.bucketCount() + defaults.length, l.bucketCount(), "none of them was a log-linear bound");
        assertThrows(IllegalArgumentException.class, () -> BucketLayout.explicit(1, 2).including(BucketLayout.explicit(1)));
        assertThrows(IllegalArgumentException.class,
                () -> ll.including(BucketLayout.exponential(2, 100)));
        assertThrows(IllegalArgumentException.class,
                () -> BucketLayout.logLinear(1000, 3).including(BucketLayout.explicit(5_000)));
    }

    // ------------------------------------------------------------------ presets

    @Test
    void presetsAreTheKnownLists() {
        BucketLayout p = BucketLayout.prometheusDefaultSeconds();
        double[] expected = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
        assertEquals(expected.length + 1, p.bucketCount());
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], p.upperBound(i, BucketLayout.NANOS_PER_SECOND));
        }
        // Micrometer's ladder from 1 ms to 30 s (checked against Micrometer itself in rseq4j-micrometer)
        BucketLayout m = BucketLayout.micrometerTimerDefault();
        assertEquals(69, m.bucketCount());
        assertEquals(1_000_000, m.upperBound(0));
        assertEquals(1_048_576, m.upperBound(1));
        assertEquals(1_398_101, m.upperBound(2));
        assertEquals(28_633_115_306L, m.upperBound(66));
        assertEquals(30_000_000_000L, m.upperBound(67));
    }

    /** A histogram of each kind of layout records exactly what the layout maps (whole snapshot). */
    @Test
    void histogramsRecordIntoTheLayoutsBuckets() {
        BucketLayout[] layouts = {BucketLayout.explicitSeconds(0.001, 0.005, 0.01, 0.1, 1),
                BucketLayout.exponential(3, 1L << 30), BucketLayout.exponentialSeconds(-1, Duration.ofNanos(1),
                Duration.ofSeconds(10)), BucketLayout.micrometerTimerDefault(), new PerCpuTimer().histogram().layout()};
        SplittableRandom r = new SplittableRandom(9);
        for (BucketLayout l : layouts) {
            PerCpuHistogram h = new PerCpuHistogram(l);
            assertEquals(l, h.layout());
            long[] expected = new long[l.bucketCount()];
            for (int k = 0; k < 5000; k++) {
                long v = r.nextLong(1L << r.nextInt(1, 34));
                h.record(v);
                expected[l.index(v)]++;
            }
            HistogramCounts s = h.snapshotThenReset();
            assertEquals(l, s.layout());
            long[] got = new long[s.bucketCount()];
            for (int i = 0; i < got.length; i++) {
                got[i] = s.recordsInBucket(i);
            }
            assertEquals(Arrays.toString(expected), Arrays.toString(got), l.toString());
        }
    }
}
