package io.github.rseq4j;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PerCpuPool} and {@link PerCpuBufferPool} used through {@link Pool} only, by one
 * generic check: the contract the interface documents holds for both.
 */
class PoolInterfaceTest {

    @Test
    void anObjectPoolKeepsThePoolContract() throws Exception {
        checkContract(() -> new PerCpuPool<>(StringBuilder::new, 4));
    }

    @Test
    void aBufferPoolKeepsThePoolContract() throws Exception {
        checkContract(() -> new PerCpuBufferPool(128, 4));
    }

    private static <T> void checkContract(Supplier<Pool<T>> make) throws Exception {
        Pool<T> pool = make.get();
        assertEquals(4, pool.capacity());
        assertTrue(pool.perCpuCapacity() >= 1 && pool.perCpuCapacity() <= 4, "per-CPU capacity " + pool.perCpuCapacity());
        assertEquals(4, pool.available());

        // Every item once, then none: acquire returns null, lease throws, the timed forms time out.
        Set<T> out = Collections.newSetFromMap(new IdentityHashMap<>());
        List<T> held = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            T item = pool.acquire();
            assertNotNull(item, "item " + i);
            assertTrue(out.add(item), "handed out twice: " + item);
            held.add(item);
        }
        assertEquals(0, pool.available());
        assertNull(pool.acquire());
        assertNull(pool.acquire(Duration.ofMillis(5)));
        assertThrows(NoSuchElementException.class, pool::lease);
        assertThrows(NoSuchElementException.class, () -> pool.lease(Duration.ofMillis(5)));

        // Release, double release, lease of the released item.
        T first = held.removeFirst();
        pool.release(first);
        assertEquals(1, pool.available());
        assertThrows(IllegalStateException.class, () -> pool.release(first), "released twice");
        assertThrows(NullPointerException.class, () -> pool.release(null));
        try (Lease<T> lease = pool.lease()) {
            assertSame(first, lease.get(), "the only free item");
            assertEquals(0, pool.available());
        }
        assertEquals(1, pool.available());
        T again = pool.acquire(Duration.ofMillis(5));
        assertSame(first, again);
        held.add(again);
        for (T item : held) {
            pool.release(item);
        }
        assertEquals(4, pool.available());
        pool.rebalance();
        assertEquals(4, pool.available(), "rebalancing moves items, it does not make or lose them");

        // A foreign item is refused; after close, everything throws.
        T foreign;
        try (Pool<T> other = make.get()) {
            foreign = other.acquire();
            assertThrows(IllegalArgumentException.class, () -> pool.release(foreign));
            other.release(foreign);
        }
        assertTrue(!pool.isClosed());
        pool.close();
        assertTrue(pool.isClosed());
        assertThrows(IllegalStateException.class, pool::acquire);
        assertThrows(IllegalStateException.class, pool::lease);
        assertThrows(IllegalStateException.class, pool::rebalance);
    }

    @Test
    void aBufferPoolIsAPoolOfSegments() {
        try (PerCpuBufferPool buffers = new PerCpuBufferPool(64, 2)) {
            Pool<MemorySegment> pool = buffers;
            assertEquals(2, pool.capacity());
            MemorySegment b = pool.acquire();
            assertEquals(64, b.byteSize());
            pool.release(b);
        }
    }
}
