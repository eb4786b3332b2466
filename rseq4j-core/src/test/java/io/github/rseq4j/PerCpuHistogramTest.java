package io.github.rseq4j;

import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.structures.ExponentialBounds;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.structures.HistogramBuckets;
import io.github.rseq4j.internal.structures.HistogramEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Per-CPU histograms and timers: bucket mapping, exact and whole snapshots under concurrency, bad input. */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PerCpuHistogramTest {

    @Test
    void logLinearBucketsCoverEveryValueOnceWithinTheirPrecision() {
        for (int p : new int[]{1, 3, 5, 8}) {
            HistogramBuckets.LogLinear b = new HistogramBuckets.LogLinear(TimeUnit.HOURS.toNanos(1), p);
            assertEquals(0, b.lowerBound(0));
            for (int i = 0; i < b.count(); i++) {
                assertEquals(i, b.index(b.lowerBound(i)), "lower bound of bucket " + i);
                assertEquals(i, b.index(b.upperBound(i)), "upper bound of bucket " + i);
                if (i > 0) {
                    assertEquals(b.upperBound(i - 1) + 1, b.lowerBound(i), "buckets are contiguous at " + i);
                }
                long width = b.upperBound(i) - b.lowerBound(i) + 1;
                assertTrue(width == 1 || width <= (b.lowerBound(i) >> p) + 1, "bucket " + i + " too wide: " + width);
            }
            assertEquals(b.count() - 1, b.index(b.highest()));
        }
        Random rnd = new Random(7);
        HistogramBuckets.LogLinear b = new HistogramBuckets.LogLinear(1L << 40, 5);
        for (int k = 0; k < 100_000; k++) {
            long v = rnd.nextLong(1L << 40);
            int i = b.index(v);
            assertTrue(b.lowerBound(i) <= v && v <= b.upperBound(i), v + " in bucket " + i);
        }
    }

    /** The branch-free log-linear index agrees with the textbook one (exact below 2^p, then 2^p sub-buckets per power of two). */
    @Test
    void logLinearIndexMatchesTheReferenceFormula() {
        Random rnd = new Random(11);
        for (int p = 1; p <= 10; p++) {
            for (int k = 0; k < 20_000; k++) {
                long v = k < 3000 ? k : rnd.nextLong(Long.MAX_VALUE) >>> rnd.nextInt(63);
                int expected;
                if (v < (1L << p)) {
                    expected = (int) v;
                } else {
                    int shift = 63 - Long.numberOfLeadingZeros(v) - p;
                    expected = (1 << p) + shift * (1 << p) + (int) (v >>> shift) - (1 << p);
                }
                assertEquals(expected, HistogramBuckets.LogLinear.index(v, p), "value " + v + ", precision " + p);
            }
        }
    }

    /**
     * One thread records many times the logs' capacity (every log of its CPU switched out,
     * folded and reused many times), with snapshots in between: per-bucket counts, sum, min
     * and max are exact for both kinds of buckets, and no record found its log full without
     * being able to switch (nothing else competes for the switch).
     */
    @Test
    void logsAreSwitchedFoldedAndReusedExactly() {
        HistogramBuckets[] kinds = {new HistogramBuckets.LogLinear(1L << 30, 5),
                HistogramBuckets.Table.explicit(new long[]{10, 1_000, 100_000, 10_000_000}),
                ExponentialBounds.layout(3, 1, 1, 1L << 30).table(),
                BucketLayout.logLinear(1L << 30, 5).including(BucketLayout.explicit(1_000, 1_000_000)).buckets()};
        for (HistogramBuckets kind : kinds) {
            HistogramEngine e = new HistogramEngine(kind, JitConstants.CONTEXT);
            try {
                Random rnd = new Random(3);
                long[] expected = new long[kind.count()];
                long count = 0, sum = 0, min = Long.MAX_VALUE, max = Long.MIN_VALUE, direct = 0;
                int n = 40 * HistogramEngine.LOG_ENTRIES * HistogramEngine.LOGS;
                for (int k = 1; k <= n; k++) {
                    long v = rnd.nextLong(1L << rnd.nextInt(31));
                    e.record(v);
                    expected[kind.index(v)]++;
                    sum += v;
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                    count++;
                    if (k % 100_003 == 0 || k == n) {
                        HistogramEngine.Totals t = e.collect(true);
                        assertEquals(count, t.count());
                        assertEquals(sum, t.sum());
                        assertEquals(min, t.min());
                        assertEquals(max, t.max());
                        assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(t.bucketCounts()));
                        direct += t.direct();
                        java.util.Arrays.fill(expected, 0);
                        count = 0;
                        sum = 0;
                        min = Long.MAX_VALUE;
                        max = Long.MIN_VALUE;
                    }
                }
                assertEquals(0, direct, "records that found their log full and could not switch, " + kind);
                assertEquals(0, e.collect(false).count());
            } finally {
                e.close();
            }
        }
    }

    @Test
    void explicitBoundsAreInclusiveUpperBounds() {
        HistogramBuckets.Table b = HistogramBuckets.Table.explicit(new long[]{10, 100, 1000});
        assertEquals(4, b.count());
        assertEquals(0, b.index(0));
        assertEquals(0, b.index(10));
        assertEquals(1, b.index(11));
        assertEquals(1, b.index(100));
        assertEquals(3, b.index(1001));
        assertEquals(Long.MAX_VALUE, b.upperBound(3));
    }

    @Test
    void recordsSnapshotsAndPercentiles() {
        PerCpuHistogram h = new PerCpuHistogram(BucketLayout.explicit(10, 20, 30, 40));
        for (int v = 1; v <= 40; v++) {
            h.record(v);
        }
        h.record(25, 10);
        HistogramCounts s = h.snapshot();
        assertEquals(50, s.count());
        assertEquals(820 + 250, s.sum());
        assertEquals(1, s.min());
        assertEquals(40, s.max());
        assertEquals(List.of(10L, 10L, 20L, 10L, 0L), counts(s));
        assertEquals(20, s.valueAtQuantile(0.4));
        assertEquals(30, s.valueAtQuantile(0.8));
        assertEquals(40, s.valueAtQuantile(1));
        assertEquals(1, s.valueAtQuantile(0));
        assertEquals(s.count(), h.snapshotThenReset().count(), "a plain snapshot resets nothing");
        assertEquals(0, h.snapshot().count(), "then reset");
        assertEquals(0, h.snapshot().valueAtQuantile(0.99));
    }

    @Test
    void closeGivesTheMemoryBackAndRefusesEveryUse() throws ReflectiveOperationException {
        PerCpuHistogram h = new PerCpuHistogram(BucketLayout.logLinear(1000, 3));
        h.record(7);
        SliceMemory memory = memoryOf(h);
        assertFalse(memory.isReleased());
        try (h) {
            assertEquals(1, h.snapshot().count());
        }
        assertTrue(h.isClosed());
        assertTrue(memory.isReleased(), "close() gave the per-CPU memory back");
        for (Executable use : List.<Executable>of(() -> h.record(1), () -> h.record(1, 3), () -> h.record(-1),
                h::snapshot, h::snapshotThenReset)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, use);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        h.close();   // idempotent

        PerCpuTimer t = new PerCpuTimer();
        assertTrue(t.toString().startsWith("PerCpuTimer[nanoseconds, PerCpuHistogram["), t.toString());
        t.record(Duration.ofMillis(1));
        SliceMemory timerMemory = memoryOf((PerCpuHistogram) t.histogram());
        t.close();
        assertTrue(t.histogram().isClosed());
        assertTrue(timerMemory.isReleased(), "a timer's close() gives its histogram's memory back");
        assertThrows(IllegalStateException.class, () -> t.record(Duration.ofMillis(1)));
        assertThrows(IllegalStateException.class, t::snapshot);
    }

    @Test
    void thePublicDocsNumbersOfLogsAreTheEngines() {
        // PerCpuHistogram's Javadoc says "four" logs of "256" entries in words (public docs
        // name no internal constant): keep it in step when these change.
        assertEquals(4, HistogramEngine.LOGS);
        assertEquals(256, HistogramEngine.LOG_ENTRIES);
    }

    /** The per-CPU memory behind a histogram (internal, reached by reflection on the class path). */
    private static SliceMemory memoryOf(PerCpuHistogram h) throws ReflectiveOperationException {
        Field engine = PerCpuHistogram.class.getDeclaredField("engine");
        engine.setAccessible(true);
        Field memory = HistogramEngine.class.getSuperclass().getDeclaredField("memory");
        memory.setAccessible(true);
        return (SliceMemory) memory.get(engine.get(h));
    }

    @Test
    void outOfRangeValuesAreClampedAndCounted() {
        PerCpuHistogram h = new PerCpuHistogram(BucketLayout.logLinear(1000, 3));
        h.record(-5);
        h.record(5000);
        h.record(7);
        HistogramCounts s = h.snapshot();
        assertEquals(3, s.count());
        assertEquals(2, s.clamped());
        assertEquals(0, s.min());
        assertEquals(1000, s.max());
        assertEquals(1007, s.sum());
        long inBuckets = 0;
        for (int i = 0; i < s.bucketCount(); i++) {
            inBuckets += s.recordsInBucket(i);
        }
        assertEquals(3, inBuckets);
    }

    @Test
    void badInputIsRefusedClearly() {
        assertThrows(IllegalArgumentException.class, () -> new PerCpuHistogram(BucketLayout.logLinear(1000, 0)));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuHistogram(BucketLayout.logLinear(1000, 11)));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuHistogram(BucketLayout.logLinear(3, 5)));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuHistogram(BucketLayout.explicit()));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuHistogram(BucketLayout.explicit(5, 5)));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuHistogram(BucketLayout.explicit(-1, 5)));
        PerCpuHistogram h = new PerCpuHistogram(BucketLayout.explicit(5));
        assertThrows(IllegalArgumentException.class, () -> h.record(1, 0));
        // one scale, 0 to 1: a percentage, or anything outside, is refused (not read as a tiny rank)
        for (double q : new double[] {99, 1.0001, -0.01, Double.NaN}) {
            assertThrows(IllegalArgumentException.class, () -> h.snapshot().valueAtQuantile(q), "quantile " + q);
        }
        assertThrows(IndexOutOfBoundsException.class, () -> h.snapshot().recordsInBucket(2));
    }

    private static List<Long> counts(HistogramCounts s) {
        List<Long> l = new ArrayList<>();
        s.forEachBucket((lo, hi, c) -> l.add(c));
        return l;
    }

    /**
     * Exact and whole: platform and virtual threads record known values while a taker calls
     * snapshotThenReset(); every record lands in exactly one interval, and in every
     * interval count == sum of bucket counts and the sum matches the buckets' values.
     */
    @Test
    void everyRecordIsInExactlyOneIntervalWhole() throws Exception {
        // Bounds 0..63 exactly: each value has its own bucket, so sums can be checked from buckets.
        long[] bounds = new long[64];
        for (int i = 0; i < 64; i++) {
            bounds[i] = i;
        }
        PerCpuHistogram h = new PerCpuHistogram(BucketLayout.explicit(bounds));
        int platform = 4, virtual = 200, perThread = 20_000;
        AtomicBoolean done = new AtomicBoolean();
        List<HistogramCounts> intervals = new CopyOnWriteArrayList<>();
        Thread taker = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                intervals.add(h.snapshotThenReset());
            }
        });
        try {   // a recorder's failure is rethrown (its records are missing: say why, not only that)
            PerCpuCounterTest.runThreads(platform, virtual, id -> {
                for (int k = 0; k < perThread / (id < platform ? 1 : 20); k++) {
                    h.record((id + k) % 64);
                }
            });
        } finally {
            done.set(true);
            taker.join();
        }
        intervals.add(h.snapshotThenReset());
        long expectedCount = 0, expectedSum = 0;
        for (int id = 0; id < platform + virtual; id++) {
            for (int k = 0; k < perThread / (id < platform ? 1 : 20); k++) {
                expectedCount++;
                expectedSum += (id + k) % 64;
            }
        }
        long count = 0, sum = 0;
        for (HistogramCounts s : intervals) {
            long inBuckets = 0, fromBuckets = 0;
            for (int i = 0; i < s.bucketCount(); i++) {
                inBuckets += s.recordsInBucket(i);
                fromBuckets += s.recordsInBucket(i) * s.bucketLowerBound(i);
            }
            assertEquals(s.count(), inBuckets, "count == sum of bucket counts in " + s);
            assertEquals(s.sum(), fromBuckets, "the sum belongs to the same records as the buckets in " + s);
            count += s.count();
            sum += s.sum();
        }
        assertTrue(intervals.size() > 2, "the taker took several intervals: " + intervals.size());
        assertEquals(expectedCount, count, "every record in exactly one interval");
        assertEquals(expectedSum, sum);
        assertEquals(0, h.snapshot().count());
    }

    /**
     * The paths besides the one-value append: record(value, n), out-of-range values and
     * full logs (switched and folded while other threads keep appending, or added under
     * another CPU's lock when that CPU's fold lock is busy), from more platform threads than
     * CPUs, with a taker resetting all along: totals stay exact and every interval whole.
     */
    @Test
    void countsClampsAndFullLogsStayExactWhenOversubscribed() throws Exception {
        PerCpuHistogram h = new PerCpuHistogram(BucketLayout.logLinear(1 << 20, 4));
        int threads = 3 * Runtime.getRuntime().availableProcessors() + 2, perThread = 30_000;
        AtomicBoolean done = new AtomicBoolean();
        List<HistogramCounts> intervals = new CopyOnWriteArrayList<>();
        Thread taker = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                intervals.add(h.snapshotThenReset());
                Thread.onSpinWait();
            }
        });
        try {
            PerCpuCounterTest.runThreads(threads, false, id -> {
                for (int k = 0; k < perThread; k++) {
                    switch (k % 50) {
                        case 0 -> h.record(k, 3);
                        case 1 -> h.record(-k);
                        case 2 -> h.record((1L << 21) + id);
                        default -> h.record((id * 7919L + k) & 0xFFFF);
                    }
                }
            });
        } finally {
            done.set(true);
            taker.join();
        }
        intervals.add(h.snapshotThenReset());
        long expectedCount = 0, expectedSum = 0, expectedClamped = 0;
        for (int id = 0; id < threads; id++) {
            for (int k = 0; k < perThread; k++) {
                switch (k % 50) {
                    case 0 -> { expectedCount += 3; expectedSum += 3L * k; }
                    case 1 -> { expectedCount++; expectedClamped++; }
                    case 2 -> { expectedCount++; expectedClamped++; expectedSum += 1 << 20; }
                    default -> { expectedCount++; expectedSum += (id * 7919L + k) & 0xFFFF; }
                }
            }
        }
        long count = 0, sum = 0, clamped = 0;
        for (HistogramCounts s : intervals) {
            long inBuckets = 0;
            for (int i = 0; i < s.bucketCount(); i++) {
                inBuckets += s.recordsInBucket(i);
            }
            assertEquals(s.count(), inBuckets, "count == sum of bucket counts in " + s);
            count += s.count();
            sum += s.sum();
            clamped += s.clamped();
        }
        assertEquals(expectedCount, count, "every record in exactly one interval");
        assertEquals(expectedSum, sum);
        assertEquals(expectedClamped, clamped);
        assertEquals(0, h.snapshot().count());
    }

    @Test
    void timersRecordNanoseconds() throws Exception {
        PerCpuTimer t = new PerCpuTimer();
        t.record(Duration.ofMillis(5));
        t.record(2, TimeUnit.MICROSECONDS);
        t.time(() -> { });
        assertEquals("x", t.time(() -> "x"));
        PerCpuTimer.Sample s = t.start();
        assertTrue(s.toString().matches("Sample\\[running for \\d+ ns]"), s.toString());
        long nanos = s.stop();
        assertTrue(nanos >= 0);
        assertEquals("Sample[stopped]", s.toString());
        assertThrows(IllegalStateException.class, s::stop);
        assertThrows(IllegalStateException.class, () -> t.time((Runnable) () -> {
            throw new IllegalStateException("boom");
        }));
        HistogramCounts snap = t.snapshot();
        assertEquals(6, snap.count(), "the failed task was timed too");
        assertTrue(snap.max() >= 5_000_000 * 0.96, snap.toString());
        assertTrue(snap.valueAtQuantile(0) <= 2_000 * 1.04, snap.toString());
        assertTrue(((PerCpuHistogram) t.histogram()).bytesPerCpu() >= HistogramEngine.LOG_ENTRIES * 8L);
    }
}
