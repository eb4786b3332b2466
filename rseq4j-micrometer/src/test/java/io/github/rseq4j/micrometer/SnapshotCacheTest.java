package io.github.rseq4j.micrometer;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.HistogramCounts;
import io.github.rseq4j.PerCpuHistogram;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Which reads of a {@link SnapshotCache} share a snapshot, on a clock the test moves. */
class SnapshotCacheTest {
    private static final int COUNT = SnapshotCache.COUNT_READER, TOTAL = SnapshotCache.TOTAL_READER,
            P50 = SnapshotCache.FIRST_PERCENTILE_READER;

    private final AtomicLong now = new AtomicLong(1_000);
    private final SnapshotCache cache = new SnapshotCache(now::get);

    @Test
    void aSlowPublicationAndTheNextOneEachReadOneSnapshot() {
        try (PerCpuHistogram h = new PerCpuHistogram(BucketLayout.explicit(4, 8))) {
            h.record(7);
            HistogramCounts count = cache.get(h, COUNT);
            h.record(7);
            now.addAndGet(7_000_000_000L);      // 7 s to the total of the same publication (seen at load 20)
            HistogramCounts total = cache.get(h, TOTAL);
            assertSame(count, total, "one publication, one snapshot, however slow");
            assertSame(count, cache.get(h, P50));
            assertEquals(1, total.count());

            now.addAndGet(150_000_000L);        // the next publication
            HistogramCounts count2 = cache.get(h, COUNT);
            assertNotSame(count, count2, "a reader that read the last snapshot gets a new one");
            assertSame(count2, cache.get(h, TOTAL), "and the rest of its publication shares it");
            assertSame(count2, cache.get(h, P50));
            assertEquals(2, count2.count());
            assertEquals(14, count2.sum());
        }
    }

    @Test
    void aReaderAfterAnIdleCacheGetsANewSnapshot() {
        try (PerCpuHistogram h = new PerCpuHistogram(BucketLayout.explicit(4, 8))) {
            HistogramCounts count = cache.get(h, COUNT);
            cache.get(h, TOTAL);
            h.record(7);
            now.addAndGet(SnapshotCache.MAX_IDLE_NANOS + 1);
            HistogramCounts p50 = cache.get(h, P50);
            assertNotSame(count, p50, "nobody read the cache for longer than MAX_IDLE: a new publication");
            assertEquals(1, p50.count());
            now.addAndGet(SnapshotCache.MAX_IDLE_NANOS - 1);
            assertSame(p50, cache.get(h, COUNT), "reads less than MAX_IDLE apart belong to one publication");
        }
    }
}
