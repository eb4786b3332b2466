package io.github.rseq4j.internal.structures;

import io.github.rseq4j.testsupport.TimeScale;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.runtime.JitConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Counter-word reclamation in {@link CounterSlabs}: the word of a counter that becomes
 * unreachable is freed once the collector has enqueued its reference, zeroed in every
 * slice, and handed to a later counter, which so starts at zero.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CounterSlabsTest {

    /** Live words once the collector has caught up with what is garbage now (bounded wait). */
    private static long settledLive() throws InterruptedException {
        long deadline = System.nanoTime() + TimeScale.nanosOfSeconds(20);
        long previous = -1, live = CounterSlabs.liveCounters();
        int stable = 0;
        while (stable < 2 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(50);
            previous = live;
            live = CounterSlabs.liveCounters();
            stable = live == previous ? stable + 1 : 0;
        }
        return live;
    }

    /** Waits (bounded) until the live count drops to {@code target}; returns the last count seen. */
    private static long awaitLive(long target) throws InterruptedException {
        long deadline = System.nanoTime() + TimeScale.nanosOfSeconds(30);
        long live;
        while ((live = CounterSlabs.liveCounters()) > target && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        return live;
    }

    private static void fill(SliceMemory slab, long offset, long value) {
        MemorySegment w = slab.whole();
        for (int i = 0; i < slab.slices(); i++) {
            w.set(JAVA_LONG, slab.at(i, offset), value + i);
        }
    }

    private static List<Long> copies(SliceMemory slab, long offset) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < slab.slices(); i++) {
            out.add(slab.whole().get(JAVA_LONG, slab.at(i, offset)));
        }
        return out;
    }

    @Test
    void anUnreachableCountersWordIsZeroedAndReusedByTheNextCounter() throws Exception {
        long before = settledLive();
        Object counter = new Object();
        long handle = CounterSlabs.allocate(counter, JitConstants.CONTEXT.fences());
        int slabsBefore = CounterSlabs.slabCount();
        int slab = (int) (handle >>> 32);
        long offset = (int) handle;
        SliceMemory memory = CounterSlabs.slab(slab);
        for (long v : copies(memory, offset)) {
            assertEquals(0, v, "a new word reads zero in every slice");
        }
        assertEquals(before + 1, CounterSlabs.liveCounters());
        fill(memory, offset, 1000);                        // what the counter added, per CPU

        Reference.reachabilityFence(counter);
        counter = null;
        long live = awaitLive(before);
        assertEquals(before, live, "the unreachable counter's word was freed");
        for (long v : copies(memory, offset)) {
            assertEquals(0, v, "a freed word is zeroed in every slice");
        }

        // The next allocations take free words of the same slab, lowest first in the block
        // the slab searches from: the freed word comes back within one slab's worth.
        List<Object> keep = new ArrayList<>();
        long reused = -1;
        for (int k = 0; k <= CounterSlabs.COUNTERS_PER_SLAB && reused < 0; k++) {
            Object next = new Object();
            keep.add(next);
            long h = CounterSlabs.allocate(next, JitConstants.CONTEXT.fences());
            if (h == handle) {
                reused = k;
            }
        }
        assertTrue(reused >= 0, "the freed word was handed out again");
        System.out.println("freed counter word reused by allocation #" + reused);
        assertEquals(slabsBefore, CounterSlabs.slabCount(), "no slab was added to find it");
        for (long v : copies(memory, offset)) {
            assertEquals(0, v, "the new counter starts at zero");
        }
        assertEquals(before + keep.size(), CounterSlabs.liveCounters());
        Reference.reachabilityFence(keep);
    }
}
