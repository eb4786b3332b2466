package io.github.rseq4j;

import io.github.rseq4j.internal.runtime.FallbackStats;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.runtime.RuntimeContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The public structures run the operations of the context their {@link PerCpuMemory} was
 * built with, not the process's: a memory built with a context that has no generated
 * operations and statistics of its own sends every item, list, ring and lock operation
 * down the stop-and-fence path and counts each one in those statistics (with the process's
 * operations, as before the context was handed down, they count nothing there).
 */
@Timeout(60)
class MemoryContextTest {

    @Test
    void itemsListsRingsAndLocksRunTheMemorysContext() {
        RuntimeContext process = JitConstants.CONTEXT;
        FallbackStats own = new FallbackStats();
        RuntimeContext noOperations = new RuntimeContext(null, null, process.fences(), own, process.registrations());
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID, 4096, noOperations);
             Arena arena = Arena.ofConfined()) {
            PerCpuItem item = mem.newItem(16);
            item.add(0, 5);
            item.add(8, 7);
            assertEquals(RseqResult.COMPARE_FAILED, item.compareAndStore(0, 4, 9));
            assertEquals(3, own.portable(), "each always-completing item operation counted once");
            item.compare2AndStore(0, 5, 8, 7, 11);
            assertEquals(11, item.sum(0));
            assertEquals(RseqResult.NOT_REGISTERED, item.tryAdd(0, 1), "no generated operations: one attempt cannot run");

            PerCpuList list = mem.newList(8);
            MemorySegment node = list.newNode();
            list.push(node);
            assertEquals(node.address(), list.pop().address());

            PerCpuRing ring = mem.newRing(256);
            assertTrue(ring.write(arena.allocate(8)) >= 0);

            PerCpuSpinLock lock = mem.newSpinLock();
            lock.unlock(lock.lock());

            assertEquals(4 + 2 + 1 + 1, own.portable(),
                    "every operation took this context's path: 4 item, 2 list, 1 ring, 1 lock");
        }
    }
}
