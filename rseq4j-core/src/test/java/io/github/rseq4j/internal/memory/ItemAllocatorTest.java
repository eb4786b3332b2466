package io.github.rseq4j.internal.memory;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link ItemAllocator}, the pure offset bookkeeping behind {@link SliceMemory}: bump
 * allocation at the requested alignment, exact-size free lists searched first fit (most
 * recently freed first) when reuse is allowed, fresh offsets only when it is not, and -1
 * when the range is full.
 */
class ItemAllocatorTest {

    private static final long START = 64;

    @Test
    void bumpAllocationAlignsEachItemAndPacksTheRest() {
        ItemAllocator a = new ItemAllocator(START, 4096);
        assertEquals(START, a.start());
        assertEquals(64, a.allocate(8, 8, true));
        assertEquals(72, a.allocate(16, 8, true));
        assertEquals(128, a.allocate(8, 64, true), "88 rounded up to 64");
        assertEquals(136, a.allocate(24, 8, true), "right after the aligned item: the gap before it is not filled");
        assertEquals(256, a.allocate(8, 256, true));
        assertEquals(264, a.allocate(8, 8, false));
        assertEquals(6, a.liveItems());
        assertEquals(8, a.sizeOf(64));
        assertEquals(16, a.sizeOf(72));
        assertEquals(24, a.sizeOf(136));
        assertEquals(-1, a.sizeOf(80), "inside an item, not the start of one");
        assertEquals(-1, a.sizeOf(88), "alignment gap");
    }

    @Test
    void freeReturnsTheSizeOnceAndForgetsTheItem() {
        ItemAllocator a = new ItemAllocator(START, 4096);
        long x = a.allocate(32, 8, true);
        long y = a.allocate(8, 8, true);
        assertEquals(2, a.liveItems());
        assertEquals(32, a.free(x));
        assertEquals(-1, a.sizeOf(x));
        assertEquals(1, a.liveItems());
        assertEquals(-1, a.free(x), "a second free finds nothing");
        assertEquals(-1, a.free(x + 8), "not an item's start");
        assertEquals(-1, a.free(4000), "never allocated");
        assertEquals(1, a.liveItems());
        assertEquals(8, a.sizeOf(y));
    }

    @Test
    void reuseTakesAFreedOffsetOfExactlyTheSameSize() {
        ItemAllocator a = new ItemAllocator(START, 4096);
        long x = a.allocate(16, 8, true);       // 64
        long y = a.allocate(8, 8, true);        // 80
        assertEquals(64, x);
        assertEquals(80, y);
        a.free(x);
        assertEquals(88, a.allocate(8, 8, true), "no free item of 8 bytes: bump");
        assertEquals(96, a.allocate(24, 8, true), "no free item of 24 bytes either");
        assertEquals(64, a.allocate(16, 8, true), "the freed 16-byte item");
        assertEquals(16, a.sizeOf(64));
        assertEquals(120, a.allocate(16, 8, true), "the free list is empty again: bump");
    }

    @Test
    void freshAllocationsNeverTakeAFreedOffset() {
        ItemAllocator a = new ItemAllocator(START, 4096);
        long x = a.allocate(8, 8, true);        // 64
        a.allocate(8, 8, true);                 // 72
        a.free(x);
        assertEquals(80, a.allocate(8, 8, false), "fresh: bump, although 64 is free");
        assertEquals(88, a.allocate(8, 8, false));
        assertEquals(64, a.allocate(8, 8, true), "the freed offset is still there for reuse");
        assertEquals(96, a.allocate(8, 8, true));
    }

    @Test
    void reuseIsFirstFitInFreeOrderSkippingMisalignedOffsets() {
        ItemAllocator a = new ItemAllocator(START, 4096);
        long[] o = new long[6];
        for (int i = 0; i < o.length; i++) {
            o[i] = a.allocate(16, 8, true);     // 64, 80, 96, 112, 128, 144
        }
        assertEquals(144, o[5]);
        a.free(o[0]);   // 64  (64-aligned)
        a.free(o[1]);   // 80  (16-aligned only)
        a.free(o[4]);   // 128 (128-aligned)
        a.free(o[3]);   // 112 (16-aligned only)
        assertEquals(112, a.allocate(16, 8, true), "the most recently freed fits first");
        assertEquals(128, a.allocate(16, 32, true), "80 does not fit a 32 alignment: the next that does");
        assertEquals(256, a.allocate(16, 128, true), "64 is only 64-aligned: bump to 256");
        assertEquals(80, a.allocate(16, 16, true));
        assertEquals(64, a.allocate(16, 8, true));
        assertEquals(272, a.allocate(16, 8, true), "free list used up");
        assertEquals(8, a.liveItems());
    }

    @Test
    void aFullRangeAnswersMinusOneAndStaysUsable() {
        ItemAllocator a = new ItemAllocator(START, 256);
        assertEquals(-1, a.allocate(256, 8, true), "larger than the range");
        assertEquals(64, a.allocate(128, 8, true));
        assertEquals(-1, a.allocate(72, 8, true), "192 + 72 > 256");
        assertEquals(-1, a.allocate(8, 128, true), "rounded up to 256: past the end");
        assertEquals(192, a.allocate(64, 8, true), "fits exactly up to the end");
        assertEquals(-1, a.allocate(8, 8, true));
        assertEquals(-1, a.allocate(8, 8, false));
        assertEquals(2, a.liveItems(), "failed allocations leave no trace");
        assertEquals(128, a.free(64));
        assertEquals(-1, a.allocate(128, 8, false), "fresh: the range is still used up");
        assertEquals(-1, a.allocate(64, 8, true), "reuse is exact-size only");
        assertEquals(64, a.allocate(128, 8, true));
        assertEquals(-1, a.allocate(128, 8, true));
    }
}
