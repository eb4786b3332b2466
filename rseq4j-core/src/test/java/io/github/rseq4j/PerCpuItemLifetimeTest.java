package io.github.rseq4j;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The life of a {@link PerCpuItem} after {@link PerCpuItem#free()}: its handle is dead
 * (every use throws, so it can neither write into nor free the item that takes its offset
 * next), and the words structures keep in the same memory (list heads) are never placed at
 * a freed item's offset, so a stale handle could not reach them even if it were used.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PerCpuItemLifetimeTest {

    @Test
    void aFreedItemsHandleRefusesEveryUseAndLeavesTheItemReusingItsOffsetAlone() {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            PerCpuItem x = mem.newItem(8);
            x.free();
            PerCpuItem y = mem.newItem(8);   // same size: takes x's offset from the free list
            for (var use : List.<Executable>of(
                    () -> x.add(0, 7), () -> x.tryAdd(0, 7), () -> x.compareAndStore(0, 0, 7),
                    () -> x.compare2AndStore(0, 0, 0, 0, 7), () -> x.get(0, 0), () -> x.sum(0), x::free)) {
                IllegalStateException e = assertThrows(IllegalStateException.class, use);
                assertNotNull(e.getMessage());
                assertTrue(e.getMessage().contains("freed"), e.getMessage());
            }
            for (int i = 0; i < mem.slices(); i++) {
                assertEquals(0, y.get(i, 0), "slice " + i + ": the reusing item was not written through the dead handle");
            }
            y.add(0, 5);
            assertEquals(5, y.sum(0));
            y.free();   // and the dead handle did not free it either
            assertThrows(IllegalStateException.class, y::free);
        }
    }

    @Test
    void listHeadsNeverTakeAFreedItemsOffset() {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            PerCpuItem x = mem.newItem(8);
            x.free();
            PerCpuList list = mem.newList(8);   // its head must not land on x's freed offset...
            PerCpuItem z = mem.newItem(8);     // ...which this data item takes instead
            for (int i = 0; i < mem.slices(); i++) {
                try (StoppedSlice s = mem.stop(i)) {
                    z.setStopped(s, 0, 0x1000);   // junk that would crash a pop if it were a head
                }
            }
            for (int i = 0; i < mem.slices(); i++) {
                assertEquals(0x1000, z.get(i, 0));
            }
            assertNull(list.pop(), "the list is empty: its head is not the data item's word");
            MemorySegment n = list.newNode();
            list.push(n);
            MemorySegment popped = list.pop();
            assertNotNull(popped);
            assertEquals(n.address(), popped.address());
            assertEquals(0x1000, z.sum(0) / mem.slices(), "the push and pop left the data item alone");
        }
    }
}
