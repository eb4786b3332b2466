package io.github.rseq4j.prometheus;

import io.github.rseq4j.HistogramCounts;
import io.github.rseq4j.PerCpuHistogram;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exported classic buckets are exact: for every exported bound, the cumulative count is the
 * number of recorded values at or below it (counted by brute force), whatever bounds were
 * asked for and however the histogram is laid out.
 */
class ClassicBoundsTest {

    @Test
    void exportedCumulativeCountsAreExactForRandomBoundsAndLayouts() {
        SplittableRandom r = new SplittableRandom(42);
        for (int round = 0; round < 40; round++) {
            PerCpuHistogram h = round % 4 == 3
                    ? PerCpuHistogram.withBounds(randomIncreasing(r, 1 + r.nextInt(80)))
                    : PerCpuHistogram.logLinear(1L << (10 + r.nextInt(30)), 1 + r.nextInt(7));
            long divisor = r.nextBoolean() ? 1 : 1_000_000_000L;
            long[] values = new long[2000];
            long top = h.highestTrackableValue() == Long.MAX_VALUE - 1 ? 1L << 40 : h.highestTrackableValue();
            for (int i = 0; i < values.length; i++) {
                values[i] = r.nextInt(4) == 0 ? r.nextLong(64) : (long) Math.exp(r.nextDouble() * Math.log(top));
                h.record(values[i]);
            }
            HistogramCounts s = h.snapshot();
            for (ClassicBounds bounds : new ClassicBounds[] {ClassicBounds.every(), ClassicBounds.powersOfTwo(),
                    ClassicBounds.auto(), ClassicBounds.prometheusDefaultSeconds(), randomBounds(r, top, divisor)}) {
                ClassicBounds.Mapping m = bounds.mapping(s, divisor);
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
    void requestedBoundsAreRoundedDownToBucketUpperBounds() {
        PerCpuHistogram h = PerCpuHistogram.withBounds(10, 20, 30);
        HistogramCounts s = h.snapshot();
        ClassicBounds.Mapping m = ClassicBounds.of(5, 10, 15, 25, 29.9, 30, 1000).mapping(s, 1);
        // 5 is below the first bound (dropped); 15 -> 10 (once); 25, 29.9 -> 20; 1000 -> 30
        assertEquals(java.util.List.of(10.0, 20.0, 30.0, Double.POSITIVE_INFINITY),
                java.util.Arrays.stream(m.upperBounds()).boxed().toList());
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

    private static ClassicBounds randomBounds(SplittableRandom r, long top, long divisor) {
        double[] b = new double[1 + r.nextInt(20)];
        for (int i = 0; i < b.length; i++) {
            b[i] = Math.exp(r.nextDouble() * Math.log(top * 1.5)) / divisor;
        }
        return ClassicBounds.of(b);
    }
}
