package io.github.rseq4j.prometheus;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.HistogramCounts;
import io.github.rseq4j.PerCpuHistogram;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exported classic buckets are exact: for every exported bound, the cumulative count is the
 * number of recorded values at or below it (counted by brute force), whatever bounds were
 * asked for and however the histogram is laid out; requested bounds are exported as given,
 * and a bound that no bucket ends at is refused.
 */
class ClassicBoundsTest {

    @Test
    void exportedCumulativeCountsAreExactForRandomBoundsAndLayouts() {
        SplittableRandom r = new SplittableRandom(42);
        for (int round = 0; round < 40; round++) {
            PerCpuHistogram h = switch (round % 5) {
                case 3 -> new PerCpuHistogram(BucketLayout.explicit(randomIncreasing(r, 1 + r.nextInt(80))));
                case 4 -> new PerCpuHistogram(BucketLayout.exponential(r.nextInt(-2, 5), 1L << (10 + r.nextInt(30))));
                default -> new PerCpuHistogram(BucketLayout.logLinear(1L << (10 + r.nextInt(30)), 1 + r.nextInt(7)));
            };
            long divisor = r.nextBoolean() ? 1 : 1_000_000_000L;
            long[] values = new long[2000];
            long top = h.highestTrackableValue() == Long.MAX_VALUE - 1 ? 1L << 40 : h.highestTrackableValue();
            for (int i = 0; i < values.length; i++) {
                values[i] = r.nextInt(4) == 0 ? r.nextLong(64) : (long) Math.exp(r.nextDouble() * Math.log(top));
                h.record(values[i]);
            }
            HistogramCounts s = h.snapshot();
            for (ClassicBounds bounds : new ClassicBounds[] {ClassicBounds.every(), ClassicBounds.powersOfTwo(),
                    ClassicBounds.auto(), randomBucketBounds(r, h.layout(), divisor)}) {
                ClassicBounds.Mapping m = bounds.mapping(h.layout(), divisor);
                long[] counts = m.counts(s);
                double[] le = m.upperBounds();
                assertEquals(le.length, counts.length);
                assertEquals(Double.POSITIVE_INFINITY, le[le.length - 1]);
                long cumulative = 0;
                for (int j = 0; j < le.length; j++) {
                    if (j > 0) {
                        assertTrue(le[j] > le[j - 1], "bounds increase");
                    }
                    cumulative += counts[j];
                    long expected = 0;
                    for (long v : values) {
                        long clamped = Math.min(v, h.highestTrackableValue());
                        if ((double) clamped / divisor <= le[j]) {
                            expected++;
                        }
                    }
                    assertEquals(expected, cumulative, "round " + round + ", " + bounds + ", le=" + le[j] + " of "
                            + h);
                }
                assertEquals(values.length, cumulative);
            }
        }
    }

    @Test
    void requestedBoundsAreExportedAsGivenOrRefused() {
        BucketLayout layout = BucketLayout.explicit(10, 20, 30);
        // 20.5 holds the same integers as 20: the same bucket, exported under both numbers as given
        ClassicBounds.Mapping m = ClassicBounds.of(10, 20, 20.5, 30).mapping(layout, 1);
        assertEquals(java.util.List.of(10.0, 20.0, 20.5, 30.0, Double.POSITIVE_INFINITY),
                java.util.Arrays.stream(m.upperBounds()).boxed().toList());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClassicBounds.of(10, 25).mapping(layout, 1));
        assertTrue(e.getMessage().contains("bound 25.0 is not a bucket bound") && e.getMessage().contains("20.0 and 30.0"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ClassicBounds.of(5).mapping(layout, 1));
        // above the last bound, values up to 1000 share the +Inf bucket with larger ones: refused
        assertThrows(IllegalArgumentException.class, () -> ClassicBounds.of(1000).mapping(layout, 1));
        // a clamping layout holds nothing above its highest value: a bound above it holds every record
        ClassicBounds.Mapping all = ClassicBounds.of(10_000).mapping(BucketLayout.logLinear(1000, 3), 1);
        assertEquals(java.util.List.of(10_000.0, Double.POSITIVE_INFINITY),
                java.util.Arrays.stream(all.upperBounds()).boxed().toList());
        // the old defect: a log-linear timer has no bucket ending at 1 ms
        e = assertThrows(IllegalArgumentException.class, () -> ClassicBounds.of(0.001)
                .mapping(BucketLayout.logLinear(3_600_000_000_000L, 5), BucketLayout.NANOS_PER_SECOND));
        assertTrue(e.getMessage().contains("9.99423E-4 and 0.001015807"), e.getMessage());
        assertEquals(5_000_000L, ClassicBounds.toNative(0.005, 1_000_000_000L));
        assertEquals(100_000_000L, ClassicBounds.toNative(0.1, 1_000_000_000L));
        assertEquals(2_500_000_000L, ClassicBounds.toNative(2.5, 1_000_000_000L));
        assertEquals(2L, ClassicBounds.toNative(2.9, 1));
    }

    private static long[] randomIncreasing(SplittableRandom r, int n) {
        long[] b = new long[n];
        long x = r.nextLong(10);
        for (int i = 0; i < n; i++) {
            x += 1 + r.nextLong(1L << r.nextInt(1, 30));
            b[i] = x;
        }
        return b;
    }

    /** Some of the layout's bucket bounds, in the exported unit (each exactly a bound, so exportable as given). */
    private static ClassicBounds randomBucketBounds(SplittableRandom r, BucketLayout layout, long divisor) {
        double[] b = new double[1 + r.nextInt(20)];
        for (int i = 0; i < b.length; i++) {
            int k = r.nextInt(layout.bucketCount() - 1);
            b[i] = layout.upperBound(k, divisor);
            if (ClassicBounds.toNative(b[i], divisor) != layout.upperBound(k)) {
                b[i] = (double) layout.upperBound(0) / divisor;  // a quotient that does not survive the decimal round trip
            }
        }
        return ClassicBounds.of(java.util.Arrays.stream(b).distinct().toArray());
    }
}
