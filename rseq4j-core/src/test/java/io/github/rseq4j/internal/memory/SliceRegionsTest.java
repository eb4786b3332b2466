package io.github.rseq4j.internal.memory;

import io.github.rseq4j.internal.abi.SliceLayout;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.os.Libc;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Regions: sized to a power of two, pages dropped on release, ranges reused only after the grace period. */
class SliceRegionsTest {

    @Test
    void regionSizesArePageMultiplesWithinAnEighthOfTheRequest() {
        assertEquals(4096, SliceRegions.regionBytes(1));
        assertEquals(4096, SliceRegions.regionBytes(4096));
        assertEquals(8192, SliceRegions.regionBytes(4097));
        assertEquals(65_536 + 8192, SliceRegions.regionBytes(65_536 + 128), "a 64 KiB ring and its header");
        assertEquals(1 << 19, SliceRegions.regionBytes((1 << 19) - 100));
        for (long b = 1; b < SliceLayout.STRIDE; b = b * 3 + 7) {
            long r = SliceRegions.regionBytes(b);
            assertEquals(0, r % 4096, "page multiple for " + b);
            assertTrue(r >= b && r - b < Math.max(4096, r / 8), b + " -> " + r);
        }
        assertEquals(SliceLayout.STRIDE, SliceRegions.regionBytes(SliceLayout.STRIDE - 1));
        assertEquals(SliceLayout.STRIDE, SliceRegions.regionBytes(SliceLayout.STRIDE));
    }

    @Test
    void aReleasedRangeIsZeroedAndReusedOnlyAfterTheGracePeriod() throws InterruptedException {
        assumeTrue(Libc.AVAILABLE, "needs mmap and madvise");
        SliceRegions regions = new SliceRegions(3);
        SliceRegions.Region a = regions.allocate(100);
        SliceRegions.Region b = regions.allocate(100);
        assertNotEquals(a.offset(), b.offset(), "live regions never overlap");
        assertEquals(a.chunk(), b.chunk(), "small regions share a chunk");
        MemorySegment w = regions.whole(a);
        for (int i = 0; i < 3; i++) {
            w.set(JAVA_LONG, (long) i * SliceLayout.STRIDE + 8, 42 + i);
        }
        regions.release(a);
        assertEquals(1, regions.quarantined());
        for (int i = 0; i < 3; i++) {
            assertEquals(0, w.get(JAVA_LONG, (long) i * SliceLayout.STRIDE + 8), "pages dropped at release");
        }
        w.set(JAVA_LONG, 8, 7);  // a thread that raced the close writes into the quarantined range
        SliceRegions.Region c = regions.allocate(100);
        assertNotEquals(a.offset(), c.offset(), "not reused during the grace period");
        Thread.sleep(SliceRegions.GRACE_NANOS / 1_000_000 + 50);
        SliceRegions.Region d = regions.allocate(100);
        assertEquals(a.offset(), d.offset(), "reused after the grace period");
        assertEquals(0, regions.whole(d).get(JAVA_LONG, 8), "the late write is gone");
        assertNotEquals(a.token(), d.token(), "the next owner of the range has another token");
        assertEquals(a.token() % SliceLayout.MAX_TOKEN + 1, d.token(), "the next generation of the range");
        for (SliceRegions.Region r : new SliceRegions.Region[] {b, c, d}) {
            assertTrue(r.token() >= 1 && r.token() <= SliceLayout.MAX_TOKEN, "a token is never 0: " + r.token());
            for (int i = 0; i < 3; i++) {
                assertEquals(r.token(), regions.whole(r).get(JAVA_LONG, (long) i * SliceLayout.STRIDE
                        + SliceLayout.OWNER_WORD_OFFSET), "every slice's owner word holds the token from the start");
            }
        }
        assertEquals(3, regions.liveRegions());
        assertEquals(3L * SliceLayout.STRIDE, regions.mappedBytes(), "one chunk for all of them");
    }

    @Test
    void aLateFreeOnAClosedOwnerNeverTouchesTheRangesNextOwner() throws InterruptedException {
        assumeTrue(io.github.rseq4j.internal.runtime.JitConstants.RSEQ, "regions exist in rseq mode");
        SliceMemory first = new SliceMemory(io.github.rseq4j.internal.abi.IndexField.CPU_ID, 8_000, JitConstants.CONTEXT.fences());
        long item = first.allocate(8, 8);
        first.close();
        Thread.sleep(SliceRegions.GRACE_NANOS / 1_000_000 + 50);
        SliceMemory next = new SliceMemory(io.github.rseq4j.internal.abi.IndexField.CPU_ID, 8_000, JitConstants.CONTEXT.fences());
        try {
            assumeTrue(next.base() == first.base(), "the range was reused (the same size, after the grace period)");
            long mine = next.allocate(8, 8);
            assertEquals(item, mine, "the next owner's first item is at the same offset");
            next.whole().set(JAVA_LONG, next.at(0, mine), 42);
            first.free(item);   // a stale handle of the closed owner
            assertEquals(42, next.whole().get(JAVA_LONG, next.at(0, mine)), "the late free zeroed another owner's item");
        } finally {
            next.close();
        }
    }
}
