package io.github.rseq4j;

import io.github.rseq4j.internal.structures.SeriesGroupEngine;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many histogram series sharing one per-CPU recording path: exact totals per series while a
 * taker resets the whole group, series closed while records are in flight (never folded into a
 * later owner of the slot, dropped and counted), and the API's contract.
 */
class HistogramGroupTest {

    /** Bounds 0..63, one bucket per value (and one above): sums and min/max can be checked from buckets. */
    private static BucketLayout exact64() {
        long[] bounds = new long[64];
        for (int i = 0; i < 64; i++) {
            bounds[i] = i;
        }
        return BucketLayout.explicit(bounds);
    }

    /** Checks that one interval is whole: count == sum of bucket counts, sum, min and max from the buckets. */
    private static void assertWhole(HistogramCounts s) {
        long inBuckets = 0, fromBuckets = 0, min = -1, max = -1;
        for (int i = 0; i < s.bucketCount(); i++) {
            long c = s.recordsInBucket(i);
            inBuckets += c;
            fromBuckets += c * s.bucketLowerBound(i);
            if (c > 0) {
                min = min < 0 ? s.bucketLowerBound(i) : min;
                max = s.bucketLowerBound(i);
            }
        }
        assertEquals(s.count(), inBuckets, "count == sum of bucket counts in " + s);
        assertEquals(s.sum(), fromBuckets, "the sum belongs to the same records as the buckets in " + s);
        if (s.count() > 0) {
            assertEquals(min, s.min(), "min of " + s);
            assertEquals(max, s.max(), "max of " + s);
        }
    }

    @Test
    void seriesRecordSnapshotAndReset() {
        try (HistogramGroup g = new HistogramGroup()) {
            HistogramSeries a = g.newSeries(exact64());
            HistogramSeries b = g.newSeries(BucketLayout.logLinear(1 << 20, 5));
            assertEquals(2, g.seriesCount());
            for (int k = 0; k < 5000; k++) {      // several logs' worth: switches and folds
                a.record(k % 64);
            }
            a.record(7, 10);
            a.record(-5);                          // clamped to 0
            b.record(1L << 30);                    // clamped to the highest value
            HistogramCounts s = a.snapshot();
            assertEquals(5000 + 10 + 1, s.count());
            assertEquals(1, s.clamped());
            assertWhole(s);
            assertEquals(s.count(), a.snapshotThenReset().count(), "snapshot() kept the records");
            assertEquals(0, a.snapshot().count());
            HistogramCounts t = b.snapshotThenReset();
            assertEquals(1, t.count());
            assertEquals(1, t.clamped());
            assertEquals(1 << 20, t.max());
            assertSame(a.layout(), a.snapshot().layout());
            assertSame(g, a.group());
            assertEquals(0, g.droppedRecords());
            assertTrue(a.heapBytes() < 2_254, "below Micrometer's percentile-histogram timer: " + a.heapBytes());
            assertEquals(156 + 8 * 65, a.heapBytes(), "the documented formula, 156 + 8 x buckets");
            assertEquals(SeriesGroupEngine.ITEM_BYTES, g.bytesPerCpu());
            assertTrue(g.bytesPerCpu() <= 256 * 1024, "per-CPU cost at most 256 KiB: " + g.bytesPerCpu());
        }
    }

    @Test
    void groupSnapshotsEverySeriesAtOnce() {
        try (HistogramGroup g = new HistogramGroup()) {
            List<HistogramSeries> all = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                HistogramSeries s = g.newSeries(exact64());
                all.add(s);
                for (int k = 0; k <= i % 7; k++) {
                    s.record(i % 64);
                }
            }
            Map<HistogramSeries, HistogramCounts> got = new IdentityHashMap<>();
            g.snapshot((s, c) -> got.put(s, c));
            assertEquals(300, got.size());
            for (int i = 0; i < 300; i++) {
                HistogramCounts c = got.get(all.get(i));
                assertEquals(i % 7 + 1, c.count());
                assertEquals(i % 7 + 1, c.recordsInBucket(i % 64));
            }
            got.clear();
            g.snapshotThenReset(got::put);
            assertEquals(300, got.size(), "snapshot() kept the records");
            g.snapshot((s, c) -> assertEquals(0, c.count()));
        }
    }

    @Test
    void closingRefusesEveryUseAndFreesTheSlot() {
        HistogramGroup g = new HistogramGroup();
        HistogramSeries a = g.newSeries(exact64());
        a.record(3);
        a.record(4);
        a.close();
        assertTrue(a.isClosed());
        g.snapshot((s, c) -> { });     // folds the log that still holds a's records
        assertEquals(2, g.droppedRecords(), "records never returned by a snapshot are dropped and counted");
        assertEquals(0, g.seriesCount());
        for (Runnable use : List.<Runnable>of(() -> a.record(1), () -> a.record(1, 2), a::snapshot, a::snapshotThenReset)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, use::run);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        a.close();      // idempotent
        HistogramSeries b = g.newSeries(exact64());
        assertEquals(0, b.snapshot().count(), "a new series in a freed slot starts empty");
        PerCpuTimer t = g.newTimer(BucketLayout.micrometerTimerDefault());
        t.record(Duration.ofMillis(2));
        assertEquals(2_000_000, t.snapshot().sum());
        assertTrue(t.histogram() instanceof HistogramSeries);
        g.close();
        assertTrue(g.isClosed());
        assertTrue(b.isClosed(), "closing the group closes its series");
        assertTrue(t.histogram().isClosed());
        assertThrows(IllegalStateException.class, () -> b.record(1));
        assertThrows(IllegalStateException.class, () -> g.snapshot((s, c) -> { }));
        assertThrows(IllegalStateException.class, () -> g.newSeries(exact64()));
        assertThrows(IllegalArgumentException.class, () -> new HistogramGroup().newSeries(exact64()).record(1, 0));
        assertThrows(NullPointerException.class, () -> new HistogramGroup().newSeries(null));
        g.close();      // idempotent
    }

    /**
     * Exact per series: 1,000 series recorded concurrently by platform and virtual threads
     * (single values, counts, clamped values) while a taker resets the whole group: summed
     * over the intervals, every series' count, sum and bucket counts equal what was recorded
     * into it, and every interval is whole.
     */
    @Test
    void everyRecordOfEverySeriesIsInExactlyOneGroupInterval() throws Exception {
        int seriesCount = 1_000, platform = 4, virtual = 100, perThread = 200_000;
        try (HistogramGroup g = new HistogramGroup()) {
            List<HistogramSeries> series = new ArrayList<>();
            Map<HistogramSeries, Integer> index = new IdentityHashMap<>();
            for (int i = 0; i < seriesCount; i++) {
                HistogramSeries s = g.newSeries(exact64());
                index.put(s, i);
                series.add(s);
            }
            long[][] got = new long[seriesCount][65];
            long[] gotSum = new long[seriesCount], gotCount = new long[seriesCount], gotClamped = new long[seriesCount];
            java.util.function.BiConsumer<HistogramSeries, HistogramCounts> add = (s, c) -> {
                assertWhole(c);
                int i = index.get(s);
                for (int b = 0; b < 65; b++) {
                    got[i][b] += c.recordsInBucket(b);
                }
                gotSum[i] += c.sum();
                gotCount[i] += c.count();
                gotClamped[i] += c.clamped();
            };
            AtomicBoolean done = new AtomicBoolean();
            int[] intervals = {0};
            java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
            Thread taker = Thread.ofPlatform().uncaughtExceptionHandler((th, e) -> failed.set(e)).start(() -> {
                while (!done.get()) {
                    g.snapshotThenReset(add);
                    intervals[0]++;
                    started.countDown();
                }
            });
            started.await();        // the recorders start once the taker runs: several intervals overlap them
            try {   // a recorder's failure is rethrown (its records are missing: say why, not only that)
                PerCpuCounterTest.runThreads(platform, virtual, id -> {
                    for (int k = 0; k < perThread / (id < platform ? 1 : 20); k++) {
                        HistogramSeries s = series.get((id * 31 + k) % seriesCount);
                        switch (k % 97) {
                            case 0 -> s.record((id + k) % 64, 3);
                            case 1 -> s.record(-k);
                            default -> s.record((id + k) % 64);
                        }
                    }
                });
            } finally {
                done.set(true);
                taker.join();
            }
            if (failed.get() != null) {
                throw new AssertionError("the taker failed", failed.get());
            }
            g.snapshotThenReset(add);
            long[][] expected = new long[seriesCount][65];
            long[] clamped = new long[seriesCount];
            for (int id = 0; id < platform + virtual; id++) {
                for (int k = 0; k < perThread / (id < platform ? 1 : 20); k++) {
                    int i = (id * 31 + k) % seriesCount;
                    switch (k % 97) {
                        case 0 -> expected[i][(id + k) % 64] += 3;
                        case 1 -> { expected[i][0]++; clamped[i]++; }
                        default -> expected[i][(id + k) % 64]++;
                    }
                }
            }
            for (int i = 0; i < seriesCount; i++) {
                long count = 0, sum = 0;
                for (int b = 0; b < 65; b++) {
                    assertEquals(expected[i][b], got[i][b], "series " + i + ", bucket " + b);
                    count += expected[i][b];
                    sum += expected[i][b] * b;
                }
                assertEquals(count, gotCount[i], "series " + i + ": every record in exactly one interval");
                assertEquals(sum, gotSum[i], "series " + i);
                assertEquals(clamped[i], gotClamped[i], "series " + i);
            }
            assertTrue(intervals[0] > 2, "the taker took several intervals: " + intervals[0]);
            assertEquals(0, g.droppedRecords());
            System.out.println("group exactness: " + intervals[0] + " intervals, "
                    + g.engine().overflowed() + " records through the overflow");
        }
    }

    /**
     * Series closed while records are in flight and replaced by new series, which often get
     * the freed slots: every series records only its own value, so a record of a closed series
     * folded into a later owner of its slot shows up as a foreign bucket. For the open series,
     * the intervals hold exactly what was recorded; for the closed ones, the intervals plus the
     * dropped count do.
     */
    @Test
    void closedSeriesNeverLeakIntoLaterOwnersOfTheirSlots() throws Exception {
        int slots = 64, platform = 3, virtual = 40, rounds = 100;
        try (HistogramGroup g = new HistogramGroup()) {
            Map<HistogramSeries, Integer> valueOf = new ConcurrentHashMap<>();
            Map<HistogramSeries, LongAdder> recorded = new ConcurrentHashMap<>();
            Map<HistogramSeries, long[]> reported = new ConcurrentHashMap<>();
            AtomicReferenceArray<HistogramSeries> current = new AtomicReferenceArray<>(slots);
            for (int k = 0; k < slots; k++) {
                HistogramSeries s = g.newSeries(exact64());
                valueOf.put(s, k % 64);
                recorded.put(s, new LongAdder());
                current.set(k, s);
            }
            AtomicBoolean done = new AtomicBoolean();
            java.util.function.BiConsumer<HistogramSeries, HistogramCounts> take = (s, c) -> {
                assertWhole(c);
                int v = valueOf.get(s);
                assertEquals(c.count(), c.recordsInBucket(v), "series of value " + v + " holds only its own records: " + c);
                reported.computeIfAbsent(s, x -> new long[1])[0] += c.count();
            };
            java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
            Thread taker = Thread.ofPlatform().uncaughtExceptionHandler((th, e) -> failed.set(e)).start(() -> {
                while (!done.get()) {
                    g.snapshotThenReset(take);
                    Thread.yield();
                }
            });
            List<HistogramSeries> closed = new ArrayList<>();
            Thread closer = Thread.ofPlatform().start(() -> {
                for (int r = 0; r < rounds; r++) {
                    int k = (r * 7) % slots;
                    HistogramSeries old = current.get(k);
                    HistogramSeries fresh = g.newSeries(exact64());   // made before the close: a new slot or a freed one
                    valueOf.put(fresh, (valueOf.get(old) + 1 + r % 63) % 64);     // never its predecessor's
                    recorded.put(fresh, new LongAdder());
                    current.set(k, fresh);
                    old.close();
                    synchronized (closed) {
                        closed.add(old);
                    }
                    Thread.yield();
                }
            });
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < platform + virtual; t++) {
                int id = t;
                Runnable body = () -> {
                    int k = id;
                    while (!done.get()) {
                        HistogramSeries s = current.get(k++ % slots);
                        try {
                            s.record(valueOf.get(s));
                            recorded.get(s).increment();
                        } catch (IllegalStateException e) {
                            // closed under the recorder: not recorded
                        }
                        if (id >= platform && (k & 63) == 0) {
                            Thread.yield();
                        }
                    }
                };
                ts.add(id < platform ? Thread.ofPlatform().start(body) : Thread.ofVirtual().start(body));
            }
            closer.join();
            done.set(true);
            for (Thread t : ts) {
                t.join();
            }
            taker.join();
            if (failed.get() != null) {
                throw new AssertionError("the taker failed", failed.get());
            }
            g.snapshotThenReset(take);
            long closedRecorded = 0, closedReported = 0;
            synchronized (closed) {
                assertEquals(rounds, closed.size());
                for (HistogramSeries s : closed) {
                    assertTrue(s.isClosed());
                    closedRecorded += recorded.get(s).sum();
                    long[] r = reported.get(s);
                    closedReported += r == null ? 0 : r[0];
                }
            }
            for (int k = 0; k < slots; k++) {
                HistogramSeries s = current.get(k);
                long[] r = reported.get(s);
                assertEquals(recorded.get(s).sum(), r == null ? 0 : r[0], "open series " + k + ": exactly its records");
            }
            assertTrue(closedRecorded > 0, "the closed series had records");
            assertEquals(closedRecorded, closedReported + g.droppedRecords(),
                    "closed series: reported + dropped == recorded (dropped " + g.droppedRecords() + ")");
            assertEquals(slots, g.seriesCount());
            assertFalse(g.isClosed());
            System.out.println("closed in flight: " + closedRecorded + " records of closed series, " + closedReported
                    + " reported, " + g.droppedRecords() + " dropped");
        }
    }
}
