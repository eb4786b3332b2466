package io.github.rseq4j;

import io.github.rseq4j.testsupport.TimeScale;
import io.github.rseq4j.internal.memory.SliceMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pools under limits: absurd sizes clamp or fail before anything is reserved, waits of any
 * length, and waiters served in arrival order with known counts.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PoolLimitsAndWaitingTest {

    @Test
    void aHugePerCpuCapacityIsClampedToTheCapacity() {
        PerCpuPool<Object> pool = new PerCpuPool<>(Object::new, 4, Integer.MAX_VALUE);
        assertEquals(4, pool.perCpuCapacity(), "no CPU caches more objects than exist");
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            out.add(assertNotNullReturn(pool.acquire()));
        }
        out.forEach(pool::release);
        for (int round = 0; round < 1000; round++) {       // steals and spills size their work by what exists
            Object o = pool.acquire();
            pool.release(o);
        }
        assertEquals(4, pool.available());
        PerCpuBufferPool buffers = new PerCpuBufferPool(64, 3, Integer.MAX_VALUE);
        assertEquals(3, buffers.perCpuCapacity());
        buffers.close();
    }

    private static <T> T assertNotNullReturn(T t) {
        assertNotNull(t);
        return t;
    }

    @Test
    void waitingWithoutLimitDoesNotOverflow() throws Exception {
        Duration forever = ChronoUnit.FOREVER.getDuration();
        PerCpuPool<Object> pool = new PerCpuPool<>(Object::new, 1);
        Object only = pool.acquire(forever);
        assertNotNull(only, "free: returned at once");
        AtomicLong got = new AtomicLong();
        Thread waiter = Thread.ofPlatform().start(() -> {
            try {
                Object o = pool.acquire(forever);
                got.set(o == only ? 1 : -1);
                pool.release(o);
            } catch (InterruptedException e) {
                got.set(-2);
            }
        });
        while (pool.slotPool().waiters() == 0) {
            Thread.sleep(1);
        }
        pool.release(only);
        waiter.join(TimeScale.millis(10_000));
        assertEquals(1, got.get(), "the waiter got the released object");
        try (Lease<Object> l = pool.lease(forever)) {
            assertSame(only, l.get());
        }
    }

    @Test
    void aFailedBufferPoolConstructorReservesNothing() {
        long before = SliceMemory.reservedBytes();
        assertThrows(Throwable.class, () -> new PerCpuBufferPool(Integer.MAX_VALUE, 1 << 26));
        assertEquals(before, SliceMemory.reservedBytes(), "no per-CPU memory was reserved for the failed pool");
        assertThrows(IllegalArgumentException.class, () -> new PerCpuBufferPool(64, 0));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuBufferPool(64, 4, -1));
        assertEquals(before, SliceMemory.reservedBytes());
    }

    @Test
    void waitersAreServedInArrivalOrder() throws Exception {
        PerCpuPool<Object> pool = new PerCpuPool<>(Object::new, 1);
        Object only = pool.acquire();
        List<Integer> order = new CopyOnWriteArrayList<>();
        List<Thread> waiters = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            int id = i;
            waiters.add(Thread.ofVirtual().start(() -> {
                try {
                    Object o = pool.acquire(TimeScale.seconds(30));
                    order.add(id);
                    pool.release(o);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            while (pool.slotPool().waiters() < i + 1) {      // the next one arrives after this one queued
                Thread.sleep(1);
            }
        }
        pool.release(only);
        for (Thread t : waiters) {
            t.join(TimeScale.millis(30_000));
        }
        assertEquals(List.of(0, 1, 2, 3, 4), order, "each release served the longest waiter");
    }

    /** 10,000 virtual threads share 64 objects: every acquire succeeds, none times out, no object is shared. */
    @Test
    void tenThousandVirtualThreadsShareSixtyFourObjects() throws Exception {
        int threads = 10_000, objects = 64;
        PerCpuPool<AtomicInteger> pool = new PerCpuPool<>(AtomicInteger::new, objects);
        AtomicInteger timeouts = new AtomicInteger(), acquired = new AtomicInteger(), overlaps = new AtomicInteger();
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            ts.add(Thread.ofVirtual().start(() -> {
                try {
                    AtomicInteger o = pool.acquire(TimeScale.seconds(5));
                    if (o == null) {
                        timeouts.incrementAndGet();
                        return;
                    }
                    if (o.incrementAndGet() != 1) {
                        overlaps.incrementAndGet();
                    }
                    acquired.incrementAndGet();
                    Thread.sleep(1);
                    o.decrementAndGet();
                    pool.release(o);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        for (Thread t : ts) {
            t.join();
        }
        assertEquals(0, timeouts.get(), "no acquire timed out");
        assertEquals(threads, acquired.get(), "every thread got an object");
        assertEquals(0, overlaps.get(), "no object was held by two threads at once");
        assertEquals(objects, pool.available(), "all back");
        assertTrue(pool.created() <= objects);
    }

    @Test
    void bufferPoolCloseIsRetryableAndTruthful() throws Exception {
        PerCpuBufferPool pool = new PerCpuBufferPool(64, 2);
        MemorySegment held = pool.acquire();
        // A buffer inside a "native call": the FFM API keeps its arena from closing while
        // a segment of it is acquired; simulate with a confined-to-thread acquisition.
        java.util.concurrent.CountDownLatch inCall = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch finish = new java.util.concurrent.CountDownLatch(1);
        Thread caller = Thread.ofPlatform().start(() -> NativeCall.holdDuring(held, inCall, finish));
        inCall.await();
        IllegalStateException busy = assertThrows(IllegalStateException.class, pool::close);
        assertTrue(busy.getMessage().contains("call close() again"), busy.getMessage());
        assertTrue(pool.isClosed(), "closed for acquire and release");
        assertTrue(!pool.isMemoryFreed(), "but the memory is not freed yet, and says so");
        assertThrows(IllegalStateException.class, pool::acquire);
        finish.countDown();
        caller.join(TimeScale.millis(10_000));
        pool.close();
        assertTrue(pool.isMemoryFreed(), "the second close freed it");
        assertThrows(IllegalStateException.class, () -> held.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        pool.close(); // idempotent once freed
    }
}
