package io.github.rseq4j;

import io.github.rseq4j.testsupport.TimeScale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.github.rseq4j.PerCpuCounterTest.runThreads;
import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PerCpuBufferPoolTest {

    @ParameterizedTest(name = "virtual={0}")
    @ValueSource(booleans = {false, true})
    void conservationUnderConcurrencyWithRebalancing(boolean virtual) throws Exception {
        int buffers = 32;
        int size = 100;                       // not a multiple of 64: buffers are 64-aligned anyway
        PerCpuBufferPool pool = new PerCpuBufferPool(size, buffers, 6);
        ConcurrentHashMap<Long, AtomicBoolean> inUse = new ConcurrentHashMap<>();
        ConcurrentHashMap<Long, AtomicLong> uses = new ConcurrentHashMap<>();
        AtomicLong violations = new AtomicLong(), acquired = new AtomicLong();
        AtomicBoolean done = new AtomicBoolean();
        Thread rebalancer = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                pool.rebalance();
                Thread.yield();
            }
        });
        int threads = virtual ? 80 : 6;
        int rounds = virtual ? 2_000 : 20_000;
        runThreads(threads, virtual, id -> {
            List<MemorySegment> held = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < 1 + (r % 2); k++) {
                    MemorySegment b;
                    if (k == 0) {
                        try {
                            b = pool.acquire(TimeScale.seconds(20));
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                        assertNotNull(b, "no buffer within 20 s");
                    } else if ((b = pool.acquire()) == null) {
                        break;
                    }
                    assertEquals(size, b.byteSize());
                    assertEquals(0, b.address() % 64);
                    if (!inUse.computeIfAbsent(b.address(), a -> new AtomicBoolean()).compareAndSet(false, true)) {
                        violations.incrementAndGet();
                    }
                    uses.computeIfAbsent(b.address(), a -> new AtomicLong()).incrementAndGet();
                    b.fill((byte) id);                  // the holder's mark, checked before release
                    b.set(ValueLayout.JAVA_INT_UNALIGNED, size - 4, r);
                    held.add(b);
                    acquired.incrementAndGet();
                }
                for (MemorySegment b : held) {
                    if (b.get(ValueLayout.JAVA_BYTE, 0) != (byte) id || b.get(ValueLayout.JAVA_INT_UNALIGNED, size - 4) != r) {
                        violations.incrementAndGet();   // someone else wrote into our buffer
                    }
                    inUse.get(b.address()).set(false);
                    pool.release(b);
                }
                held.clear();
            }
        });
        done.set(true);
        rebalancer.join();
        assertEquals(0, violations.get());
        assertEquals(buffers, pool.available());
        assertEquals(acquired.get(), uses.values().stream().mapToLong(AtomicLong::get).sum());
        assertTrue(uses.size() <= buffers);

        Set<Long> addresses = new HashSet<>();
        List<MemorySegment> all = new ArrayList<>();
        for (int i = 0; i < buffers; i++) {
            MemorySegment b = pool.acquire();
            assertNotNull(b, "buffer " + i);
            assertTrue(addresses.add(b.address()), "handed out twice");
            all.add(b);
        }
        assertNull(pool.acquire());
        for (MemorySegment b : all) {
            pool.release(b);
        }
        assertEquals(buffers, pool.available());
        System.out.println("buffer pool: " + acquired.get() + " acquisitions by " + threads
                + (virtual ? " virtual" : " platform") + " threads; " + pool);
        pool.close();
    }

    @Test
    void buffersAreFixedSizeDistinctAndZeroAtFirst() throws Exception {
        try (PerCpuBufferPool pool = new PerCpuBufferPool(4096, 8)) {
            assertEquals(4096, pool.bufferSize());
            assertEquals(8, pool.capacity());
            List<MemorySegment> got = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                MemorySegment b = pool.acquire();
                assertEquals(4096, b.byteSize());
                assertEquals(-1, b.mismatch(MemorySegment.ofArray(new byte[4096])), "zero on first use");
                for (MemorySegment o : got) {
                    assertFalse(o.asOverlappingSlice(b).isPresent(), "buffers overlap");
                }
                got.add(b);
            }
            assertNull(pool.acquire());
            long t0 = System.nanoTime();
            assertNull(pool.acquire(Duration.ofMillis(30)));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(25));
            Thread releaser = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                pool.release(got.get(3));
            });
            MemorySegment back = pool.acquire(TimeScale.seconds(10));
            releaser.join();
            assertEquals(got.get(3).address(), back.address());
            for (MemorySegment b : got) {
                pool.release(b);
            }
        }
    }

    @Test
    void badInput() {
        assertThrows(IllegalArgumentException.class, () -> new PerCpuBufferPool(0, 4));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuBufferPool(-8, 4));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuBufferPool(64, 0));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuBufferPool(64, -1));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuBufferPool(64, 4, -1));

        PerCpuBufferPool pool = new PerCpuBufferPool(256, 4);
        PerCpuBufferPool other = new PerCpuBufferPool(256, 4);
        MemorySegment b = pool.acquire();
        MemorySegment foreign = other.acquire();
        assertThrows(NullPointerException.class, () -> pool.release(null));
        assertThrows(IllegalArgumentException.class, () -> pool.release(foreign), "another pool's buffer");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mine = arena.allocate(256, 64);
            assertThrows(IllegalArgumentException.class, () -> pool.release(mine), "not a pool segment");
        }
        assertThrows(IllegalArgumentException.class, () -> pool.release(MemorySegment.ofArray(new byte[256])));
        assertThrows(IllegalArgumentException.class, () -> pool.release(b.asSlice(0, 128)), "a slice");
        assertThrows(IllegalArgumentException.class, () -> pool.release(b.asSlice(64, 192)), "a slice");
        // Same address and size, but not the pool's scope.
        assertThrows(IllegalArgumentException.class,
                () -> pool.release(MemorySegment.ofAddress(b.address()).reinterpret(256)));
        MemorySegment sameBytes = b.asSlice(0);
        assertNotSame(b, sameBytes);
        pool.release(sameBytes);                          // not the segment handed out, but the same buffer: accepted
        IllegalStateException twice = assertThrows(IllegalStateException.class, () -> pool.release(b));
        assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
        assertEquals(4, pool.available());
        other.release(foreign);

        MemorySegment held = pool.acquire();
        held.set(ValueLayout.JAVA_LONG, 0, 42);
        pool.close();
        assertTrue(pool.isClosed());
        pool.close();                                     // idempotent
        assertThrows(IllegalStateException.class, pool::acquire);
        assertThrows(IllegalStateException.class, () -> pool.acquire(Duration.ofMillis(1)));
        assertThrows(IllegalStateException.class, () -> pool.release(held));
        assertThrows(IllegalStateException.class, () -> held.get(ValueLayout.JAVA_LONG, 0), "use after close");
        assertThrows(IllegalStateException.class, () -> b.set(ValueLayout.JAVA_LONG, 0, 1), "use after close");
        other.close();
        assertThrows(IllegalStateException.class, () -> foreign.fill((byte) 1));
    }

    @Test
    void manyVirtualThreadsShareAFewBuffers() throws Exception {
        // The case thread-local buffers handle badly: 10,000 virtual threads, 16 buffers.
        try (PerCpuBufferPool pool = new PerCpuBufferPool(8192, 16)) {
            AtomicLong sum = new AtomicLong();
            runThreads(10_000, true, id -> {
                MemorySegment b;
                try {
                    b = pool.acquire(TimeScale.seconds(20));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                assertNotNull(b);
                try {
                    b.set(ValueLayout.JAVA_INT, 0, id);
                    Thread.yield();
                    assertEquals(id, b.get(ValueLayout.JAVA_INT, 0));
                    sum.addAndGet(b.get(ValueLayout.JAVA_INT, 0));
                } finally {
                    pool.release(b);
                }
            });
            assertEquals(10_000L * 9_999 / 2, sum.get());
            assertEquals(16, pool.available());
        }
    }
}
