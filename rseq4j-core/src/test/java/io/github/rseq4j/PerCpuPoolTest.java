package io.github.rseq4j;

import io.github.rseq4j.testsupport.TimeScale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static io.github.rseq4j.PerCpuCounterTest.runThreads;
import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PerCpuPoolTest {

    /** A pooled object that knows whether someone holds it. */
    static final class Item {
        final int id;
        final AtomicBoolean inUse = new AtomicBoolean();
        long holder = -1;
        long uses;

        Item(int id) {
            this.id = id;
        }
    }

    @ParameterizedTest(name = "virtual={0}")
    @ValueSource(booleans = {false, true})
    void conservationUnderConcurrencyWithRebalancing(boolean virtual) throws Exception {
        int capacity = 48;
        AtomicInteger made = new AtomicInteger();
        PerCpuPool<Item> pool = new PerCpuPool<>(() -> new Item(made.getAndIncrement()), capacity, 8);
        AtomicLong violations = new AtomicLong();
        AtomicLong acquired = new AtomicLong();
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong rebalanced = new AtomicLong();
        Thread rebalancer = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                rebalanced.addAndGet(pool.rebalance());
                Thread.yield();
            }
        });
        int threads = virtual ? 96 : 6;           // more holders than objects: exhaustion happens
        int rounds = virtual ? 1_500 : 15_000;
        runThreads(threads, virtual, id -> {
            List<Item> held = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                int take = 1 + (r % 3);
                for (int k = 0; k < take; k++) {
                    Item it;
                    if (k == 0) {           // wait only while holding nothing (no hold-and-wait deadlock)
                        try {
                            it = pool.acquire(TimeScale.seconds(20));
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                        assertNotNull(it, "no object within " + TimeScale.seconds(20));
                    } else if ((it = pool.acquire()) == null) {
                        break;
                    }
                    if (!it.inUse.compareAndSet(false, true)) {
                        violations.incrementAndGet();   // handed to two holders at once
                    }
                    it.holder = id;
                    it.uses++;
                    held.add(it);
                    acquired.incrementAndGet();
                }
                if ((r & 63) == 0) {
                    Thread.yield();
                }
                for (Item it : held) {
                    if (it.holder != id) {
                        violations.incrementAndGet();
                    }
                    it.inUse.set(false);
                    pool.release(it);
                }
                held.clear();
                if ((r & 7) == 0) {
                    try (Lease<Item> lease = pool.lease(TimeScale.seconds(20))) {
                        assertNotNull(lease);
                        Item it = lease.get();
                        if (!it.inUse.compareAndSet(false, true)) {
                            violations.incrementAndGet();
                        }
                        it.uses++;
                        acquired.incrementAndGet();
                        it.inUse.set(false);
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }
            }
        });
        done.set(true);
        rebalancer.join();
        assertEquals(0, violations.get(), "objects handed to two holders at once");
        assertTrue(made.get() <= capacity, "made " + made.get());
        assertEquals(capacity, pool.available(), "every object back in the pool");
        pool.rebalance();                        // quiescent rebalance keeps everything
        assertEquals(capacity, pool.available());

        // Now take everything: exactly `capacity` distinct objects, then nothing.
        Set<Item> all = Collections.newSetFromMap(new IdentityHashMap<>());
        long totalUses = 0;
        for (int i = 0; i < capacity; i++) {
            Item it = pool.acquire();
            assertNotNull(it, "object " + i + " of " + capacity);
            assertTrue(all.add(it), "handed out twice: " + it.id);
            assertFalse(it.inUse.get());
            totalUses += it.uses;
        }
        assertNull(pool.acquire(), "more than capacity objects");
        assertNull(pool.acquire());
        assertEquals(capacity, made.get());
        assertEquals(capacity, pool.created());
        // Each holder counted its use with a plain increment: exact only if every hand-over
        // was ordered (release happens-before the next acquisition) and no use overlapped.
        assertEquals(acquired.get(), totalUses);
        for (Item it : all) {
            pool.release(it);
        }
        assertEquals(capacity, pool.available());
        System.out.println("pool: " + acquired.get() + " acquisitions by " + threads + (virtual ? " virtual" : " platform")
                + " threads, " + rebalanced.get() + " objects moved by rebalance; " + pool);
        pool.close();
    }

    @Test
    void exhaustionAndTimeouts() throws Exception {
        PerCpuPool<Item> pool = new PerCpuPool<>(() -> new Item(0), 3);
        Item a = pool.acquire(), b = pool.acquire(), c = pool.acquire();
        assertNotNull(a);
        assertNotNull(b);
        assertNotNull(c);
        assertEquals(3, Set.of(System.identityHashCode(a), System.identityHashCode(b), System.identityHashCode(c)).size());
        assertNull(pool.acquire());
        long t0 = System.nanoTime();
        assertNull(pool.acquire(Duration.ofMillis(50)));
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(45));
        Thread releaser = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(30);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            pool.release(b);
        });
        assertSame(b, pool.acquire(TimeScale.seconds(10)));
        releaser.join();
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, () -> pool.acquire(Duration.ofSeconds(10)));
        assertFalse(Thread.interrupted());
        pool.release(a);
        pool.release(b);
        pool.release(c);
        assertEquals(3, pool.available());
    }

    @Test
    void leases() {
        PerCpuPool<StringBuilder> pool = new PerCpuPool<>(StringBuilder::new, 2);
        Lease<StringBuilder> lease;
        try (Lease<StringBuilder> l = pool.lease()) {
            lease = l;
            l.get().append("x");
            assertTrue(l.toString().contains("x"));
        }
        assertThrows(IllegalStateException.class, lease::close, "double close");
        assertThrows(IllegalStateException.class, lease::get, "get after close");
        try (Lease<StringBuilder> l1 = pool.lease(); Lease<StringBuilder> l2 = pool.lease()) {
            assertNotSame(l1.get(), l2.get());
            assertNull(pool.acquire());
            java.util.NoSuchElementException none = assertThrows(java.util.NoSuchElementException.class, pool::lease);
            assertTrue(none.getMessage().contains("exhausted"), none.getMessage());
            assertThrows(java.util.NoSuchElementException.class, () -> pool.lease(Duration.ofMillis(20)));
            // The stale lease must not release the object someone else holds now.
            assertThrows(IllegalStateException.class, lease::close);
        }
        assertEquals(2, pool.available());
    }

    /**
     * Issue 18 (suspicion, confirmed): a lease whose object was released by hand and
     * acquired again by another thread released the new holder's object when closed.
     */
    @Test
    void aLeaseWhoseObjectWasReleasedByHandLeavesTheNextHolderAlone() throws Exception {
        PerCpuPool<StringBuilder> pool = new PerCpuPool<>(StringBuilder::new, 1);
        Lease<StringBuilder> lease = pool.lease();
        StringBuilder sb = lease.get();
        pool.release(sb);
        java.util.concurrent.atomic.AtomicReference<StringBuilder> other = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> other.set(pool.acquire()));
        t.join();
        assertSame(sb, other.get(), "the other thread holds the object now");
        IllegalStateException e = assertThrows(IllegalStateException.class, lease::close);
        assertTrue(e.getMessage().contains("given back already"), e.getMessage());
        assertEquals(0, pool.available(), "the other holder still has it");
        assertNull(pool.acquire());
        pool.release(other.get());
        assertEquals(1, pool.available());
    }

    /** Issue 22: closing a lease after its pool was closed does nothing (no exception to hide another). */
    @Test
    void aLeaseClosedAfterItsPoolDoesNothing() {
        PerCpuPool<StringBuilder> pool = new PerCpuPool<>(StringBuilder::new, 1);
        Lease<StringBuilder> lease = pool.lease();
        pool.close();
        lease.close();
        assertThrows(IllegalStateException.class, lease::get);
        PerCpuBufferPool buffers = new PerCpuBufferPool(64, 1);
        Lease<java.lang.foreign.MemorySegment> b = buffers.lease();
        buffers.close();
        b.close();
    }

    /** Issue 22: one rule for waits (a negative one is refused), sizes checked before allocating, readable toString. */
    @Test
    void negativeWaitsOversizedBufferPoolsAndToString() throws InterruptedException {
        try (PerCpuPool<StringBuilder> pool = new PerCpuPool<>(StringBuilder::new, 4, 2);
             PerCpuBufferPool buffers = new PerCpuBufferPool(64, 4)) {
            for (Pool<?> p : List.of(pool, buffers)) {
                assertThrows(IllegalArgumentException.class, () -> p.lease(Duration.ofMillis(-5)));
                assertThrows(IllegalArgumentException.class, () -> p.acquire(Duration.ofNanos(-1)));
                assertNotNull(p.acquire(Duration.ZERO));
            }
            StringBuilder sb = pool.acquire();
            assertEquals("PerCpuPool[capacity=4, out=2, free=2 (never used 2, in the depot 0), perCpu=2]", pool.toString());
            pool.release(sb);
            assertTrue(buffers.toString().startsWith("PerCpuBufferPool[capacity=4, out=1, free=3 "), buffers.toString());
        }
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                () -> new PerCpuBufferPool(1 << 20, 1 << 20));
        assertTrue(big.getMessage().contains("1099511627776 bytes"), big.getMessage());
    }

    @Test
    void badInput() {
        assertThrows(NullPointerException.class, () -> new PerCpuPool<>(null, 4));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuPool<>(Object::new, 0));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuPool<>(Object::new, -1));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuPool<>(Object::new, 4, -1));

        PerCpuPool<Object> pool = new PerCpuPool<>(Object::new, 4);
        PerCpuPool<Object> other = new PerCpuPool<>(Object::new, 4);
        Object o = pool.acquire();
        Object p = other.acquire();
        assertThrows(NullPointerException.class, () -> pool.release(null));
        assertThrows(IllegalArgumentException.class, () -> pool.release(p), "release to the wrong pool");
        assertThrows(IllegalArgumentException.class, () -> pool.release(new Object()), "not a pool object");
        pool.release(o);
        IllegalStateException twice = assertThrows(IllegalStateException.class, () -> pool.release(o));
        assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
        assertEquals(4, pool.available());
        other.release(p);

        Object q = pool.acquire();
        pool.close();
        assertTrue(pool.isClosed());
        assertThrows(IllegalStateException.class, pool::acquire);
        assertThrows(IllegalStateException.class, pool::acquire);
        assertThrows(IllegalStateException.class, () -> pool.release(q));
        assertThrows(IllegalStateException.class, pool::rebalance);
        other.close();
    }

    @Test
    void concurrentDoubleReleaseHasExactlyOneWinner() throws Exception {
        PerCpuPool<Object> pool = new PerCpuPool<>(Object::new, 16);
        for (int round = 0; round < 200; round++) {
            Object o = pool.acquire();
            AtomicInteger ok = new AtomicInteger(), refused = new AtomicInteger();
            runThreads(2, false, id -> {
                try {
                    pool.release(o);
                    ok.incrementAndGet();
                } catch (IllegalStateException e) {
                    refused.incrementAndGet();
                }
            });
            assertEquals(1, ok.get());
            assertEquals(1, refused.get());
        }
        assertEquals(16, pool.available());
        Set<Object> all = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < 16; i++) {
            assertTrue(all.add(pool.acquire()));
        }
        assertNull(pool.acquire());
    }

    @Test
    void factoryFailuresKeepTheSlot() {
        AtomicInteger calls = new AtomicInteger();
        PerCpuPool<Object> pool = new PerCpuPool<>(() -> {
            int n = calls.incrementAndGet();
            if (n == 1) {
                throw new IllegalStateException("boom");
            }
            return n == 2 ? null : new Object();
        }, 2);
        assertThrows(IllegalStateException.class, pool::acquire);
        assertThrows(NullPointerException.class, pool::acquire);
        Object a = pool.acquire(), b = pool.acquire();
        assertNotNull(a);
        assertNotNull(b);
        assertNotSame(a, b);
        assertNull(pool.acquire());

        Object shared = new Object();
        PerCpuPool<Object> same = new PerCpuPool<>(() -> shared, 2);
        assertSame(shared, same.acquire());
        assertThrows(IllegalStateException.class, same::acquire, "the factory returned an object already pooled");
        same.release(shared);
    }

    @Test
    void rebalanceEvensOutTheCaches() throws Exception {
        int capacity = 200;
        PerCpuPool<Object> pool = new PerCpuPool<>(Object::new, capacity, capacity);
        var slots = pool.slotPool();
        // One thread takes and gives back everything: the caches fill where it ran.
        List<Object> all = new ArrayList<>();
        for (int i = 0; i < capacity; i++) {
            all.add(pool.acquire());
        }
        for (Object o : all) {
            pool.release(o);
        }
        long total = 0, max = Long.MIN_VALUE, min = Long.MAX_VALUE;
        for (int i = 0; i < slots.slices(); i++) {
            total += slots.cached(i);
        }
        assertEquals(capacity, total + slots.depotSize());
        pool.rebalance();
        total = 0;
        for (int i = 0; i < slots.slices(); i++) {
            long c = slots.cached(i);
            total += c;
            max = Math.max(max, c);
            min = Math.min(min, c);
        }
        assertEquals(capacity, total + slots.depotSize());
        assertTrue(max - min <= 1, "after rebalance: max " + max + ", min " + min);
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < capacity; i++) {
            assertTrue(seen.add(pool.acquire()));
        }
        assertNull(pool.acquire());
    }
}
