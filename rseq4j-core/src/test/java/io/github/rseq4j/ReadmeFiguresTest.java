package io.github.rseq4j;

import io.github.rseq4j.internal.structures.HistogramEngine;
import io.github.rseq4j.testsupport.ReadmeJava;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The README's memory figures are the code's: each sentence is rebuilt from what the code
 * returns and must appear in README.md word for word. When a layout changes, this test names
 * the sentence to update (ReadmeSnippetsTest does the same for the README's Java blocks).
 */
class ReadmeFiguresTest {

    private static String readme() throws IOException {
        return String.join(" ", ReadmeJava.readme()).replaceAll("\\s+", " ");
    }

    @Test
    void aTimersBucketsAndBytesPerCpu() throws IOException {
        try (PerCpuTimer timer = new PerCpuTimer()) {
            PerCpuHistogram h = (PerCpuHistogram) timer.histogram();
            assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "on one CPU a histogram keeps two shards: the README's per-CPU figure is for 2 CPUs or more");
            int buckets = h.layout().bucketCount();
            long logs = HistogramEngine.ITEM_BYTES;
            long shard = h.bytesPerCpu() - logs;
            String sentence = String.format("`new PerCpuTimer()`: %,d buckets, %,d bytes per CPU: %,d of sample logs"
                    + " and their words in per-CPU memory, %,d of statistics shard on the heap", buckets, h.bytesPerCpu(), logs, shard);
            assertTrue(readme().contains(sentence), "README.md should say: " + sentence);
        }
    }

    @Test
    void aHistogramGroupsBytesPerCpuAndHeapPerSeries() throws IOException {
        try (HistogramGroup group = new HistogramGroup()) {
            String perCpu = String.format("Memory: %,d bytes per CPU for the group, fixed,", group.bytesPerCpu());
            assertTrue(readme().contains(perCpu), "README.md should say: " + perCpu);
        }
        long fixed = HistogramGroup.heapBytesPerSeries(0);
        long perBucket = HistogramGroup.heapBytesPerSeries(1) - fixed;
        for (int b : new int[] {1, 12, 69, 1216}) {
            assertEquals(fixed + perBucket * b, HistogramGroup.heapBytesPerSeries(b), "linear in the buckets");
        }
        String heap = String.format("plus `%d + %d x b` bytes of heap per series of `b` buckets", fixed, perBucket);
        assertTrue(readme().contains(heap), "README.md should say: " + heap);
    }
}
