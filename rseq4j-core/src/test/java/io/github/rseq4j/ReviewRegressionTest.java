package io.github.rseq4j;

import io.github.rseq4j.testsupport.ChildJvm;
import io.github.rseq4j.internal.os.Platform;
import io.github.rseq4j.internal.os.CpuSets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Regression tests for defects found in review. */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReviewRegressionTest {

    /** A freed item's handle must neither write into the item that reuses its offset nor free it. */
    @Test
    void aFreedItemCannotBeUsedOrFreedAgain() {
        try (PerCpuMemory mem = PerCpuMemory.create(IndexMode.CPU_ID)) {
            PerCpuItem x = mem.allocate(8);
            x.free();
            PerCpuItem y = mem.allocate(8);   // may reuse x's offset
            assertThrows(IllegalStateException.class, () -> x.add(0, 7));
            assertThrows(IllegalStateException.class, () -> x.tryAdd(0, 7));
            assertThrows(IllegalStateException.class, () -> x.get(0, 0));
            assertThrows(IllegalStateException.class, () -> x.sum(0));
            assertThrows(IllegalStateException.class, x::free);
            assertEquals(0, y.sum(0));
            y.add(0, 5);
            assertEquals(5, y.sum(0));
        }
    }

    /** Structure words (list heads) never take a freed item's offset, so stale handles cannot corrupt them. */
    @Test
    void listHeadsNeverReuseFreedItemOffsets() {
        try (PerCpuMemory mem = PerCpuMemory.create(IndexMode.CPU_ID)) {
            PerCpuItem x = mem.allocate(8);
            x.free();
            PerCpuList list = mem.newList(8);
            PerCpuItem z = mem.allocate(8);   // this one does reuse the freed offset
            for (int i = 0; i < mem.slices(); i++) {
                try (StoppedSlice s = mem.stop(i)) {
                    z.setStopped(s, 0, 0x1000);   // junk that would crash a pop if it were a head
                }
            }
            assertNull(list.pop(), "the list is empty; its head is not the freed item's word");
            MemorySegment n = list.newNode();
            list.push(n);
            assertEquals(n.address(), list.pop().address());
        }
    }

    /** A child pinned to CPU 0 with affinity fences: fencing CPU 1 fails, and nothing is lost or left stopped. */
    public static final class FenceFailureChild {
        public static void main(String[] args) {
            int r = CpuSets.setAffinity(List.of(0));
            ChildJvm.emit("pinned", r == 0);
            PerCpuCounter c = new PerCpuCounter();
            for (int i = 0; i < 1000; i++) {
                c.increment();
            }
            String thrown = "none";
            try {
                c.sumThenReset();
            } catch (IllegalStateException e) {
                thrown = "IllegalStateException";
            }
            ChildJvm.emit("fence", Rseq.status().fence());
            ChildJvm.emit("thrown", thrown);
            ChildJvm.emit("sumAfter", c.sum());
            c.increment();                         // must not hang on a slice left stopped
            ChildJvm.emit("sumAfterAdd", c.sum());
        }
    }

    @Test
    void aFailedFenceLeavesNoSliceStoppedAndLosesNothing() {
        assumeTrue(Platform.get().linux() && Platform.get().possibleCpus().size() >= 2, "needs Linux and 2+ CPUs");
        ChildJvm.Result r = ChildJvm.run(FenceFailureChild.class, List.of("-Drseq4j.fence=affinity"), Map.of(),
                Duration.ofSeconds(60)).requireSuccess();
        assumeTrue("affinity".equals(r.value("fence")), "no affinity fences in the child (no rseq)\n" + r.describe());
        assertEquals("true", r.value("pinned"), r.describe());
        assertEquals("IllegalStateException", r.value("thrown"), r.describe());
        assertEquals("1000", r.value("sumAfter"), "a failed sumThenReset gives back what it took\n" + r.describe());
        assertEquals("1001", r.value("sumAfterAdd"), r.describe());
    }

    /** A thread holding a slice itself, with every other slice held too, still completes once one frees up. */
    @Test
    void aFallbackNeverWaitsOnASliceItsOwnThreadHolds() throws Exception {
        try (PerCpuMemory mem = PerCpuMemory.create(IndexMode.CPU_ID)) {
            assumeTrue(mem.slices() >= 2, "needs 2 slices");
            PerCpuItem item = mem.allocate(8);
            int mine = 0;
            StoppedSlice held = mem.stop(mine);          // held by this thread
            Thread other = Thread.ofPlatform().start(() -> {
                List<StoppedSlice> others = new java.util.ArrayList<>();
                for (int i = 1; i < mem.slices(); i++) {
                    others.add(mem.stop(i));
                }
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                others.forEach(StoppedSlice::close);
            });
            Thread.sleep(100);
            List<Integer> allowed = CpuSets.allowed();
            CpuSets.setAffinity(List.of(mine));         // the add lands on the slice we hold
            try {
                item.add(0, 1);                         // must complete on a slice freed by the other thread
            } finally {
                CpuSets.setAffinity(allowed);
                held.close();
            }
            other.join();
            assertEquals(1, item.sum(0));
        }
    }
}
