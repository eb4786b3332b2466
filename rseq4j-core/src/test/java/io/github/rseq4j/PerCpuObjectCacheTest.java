package io.github.rseq4j;

import io.github.rseq4j.internal.os.CpuSets;
import io.github.rseq4j.testsupport.Pinned;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static io.github.rseq4j.PerCpuCounterTest.runThreads;
import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PerCpuObjectCacheTest {

    /** A cached object that knows whether someone holds it. */
    static final class Item {
        final AtomicBoolean inUse = new AtomicBoolean();
    }

    /** CPUs (slices) the cache has: its capacity with one object per CPU. */
    private static int cpus() {
        try (PerCpuObjectCache<Item> one = new PerCpuObjectCache<>(Item::new, 1)) {
            return one.capacity();
        }
    }

    /**
     * Every object made is, at the end, either cached (counted by clear) or dropped (counted
     * by the cache): created == cleared + dropped, exactly; no object is handed to two holders
     * at once; pooledCount never exceeds CPUs x per-CPU capacity while threads run.
     */
    @ParameterizedTest(name = "virtual={0}")
    @ValueSource(booleans = {false, true})
    void conservationUnderConcurrency(boolean virtual) throws Exception {
        int perCpu = 4;
        AtomicLong made = new AtomicLong();
        PerCpuObjectCache<Item> cache = new PerCpuObjectCache<>(() -> {
            made.incrementAndGet();
            return new Item();
        }, perCpu);
        int bound = cpus() * perCpu;
        assertEquals(bound, cache.capacity());
        AtomicLong violations = new AtomicLong();
        AtomicLong acquires = new AtomicLong();
        AtomicLong releases = new AtomicLong();
        AtomicInteger peak = new AtomicInteger();
        AtomicBoolean done = new AtomicBoolean();
        Thread sampler = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                peak.accumulateAndGet(cache.pooledCount(), Math::max);
                Thread.onSpinWait();
            }
        });
        int threads = virtual ? 16 : 6;
        int rounds = virtual ? 8_000 : 20_000;
        runThreads(threads, virtual, id -> {
            List<Item> held = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                int take = 1 + ((r + id) % 3);
                for (int k = 0; k < take; k++) {
                    Item it = cache.acquire();
                    assertNotNull(it);
                    if (!it.inUse.compareAndSet(false, true)) {
                        violations.incrementAndGet();
                    }
                    held.add(it);
                    acquires.incrementAndGet();
                }
                if ((r & 31) == 0) {
                    Thread.yield();
                }
                for (Item it : held) {
                    if (!it.inUse.compareAndSet(true, false)) {
                        violations.incrementAndGet();
                    }
                    cache.release(it);
                    releases.incrementAndGet();
                }
                held.clear();
            }
        });
        done.set(true);
        sampler.join();
        assertEquals(0, violations.get(), "an object was handed to two holders at once");
        assertEquals(acquires.get(), releases.get());
        assertEquals(made.get(), cache.created(), "created() counts every factory call");
        int pooled = cache.pooledCount();
        assertTrue(pooled <= bound, "pooled " + pooled + " > bound " + bound);
        assertTrue(peak.get() <= bound, "peak pooled " + peak.get() + " > bound " + bound);
        for (int cpu = 0; cpu < cpus(); cpu++) {
            assertTrue(cache.pooledCount(cpu) <= perCpu, "CPU " + cpu + " holds " + cache.pooledCount(cpu));
        }
        // conservation: nothing is held now, so each object made is cached or was dropped
        assertEquals(made.get(), pooled + cache.dropped(),
                "created " + made.get() + " = pooled " + pooled + " + dropped " + cache.dropped());
        assertTrue(made.get() < acquires.get(), "the cache reused nothing: " + made.get() + " made for "
                + acquires.get() + " acquires");
        assertEquals(pooled, cache.clear(), "clear drops exactly what is cached");
        assertEquals(0, cache.pooledCount());
        cache.close();
    }

    /** The objects cached are distinct and are the ones released: take them all back. */
    @Test
    void acquireReturnsWhatWasReleasedOnThatCpuThenCreates() throws Throwable {
        int cpu = CpuSets.allowed().getFirst();
        Pinned.run(cpu, () -> {
            AtomicInteger made = new AtomicInteger();
            try (PerCpuObjectCache<Item> cache = new PerCpuObjectCache<>(() -> {
                made.incrementAndGet();
                return new Item();
            }, 3)) {
                Item a = cache.acquire(), b = cache.acquire(), c = cache.acquire(), d = cache.acquire(), e = cache.acquire();
                assertEquals(5, made.get());
                assertEquals(0, cache.pooledCount());
                for (Item it : List.of(a, b, c, d, e)) {
                    cache.release(it);
                }
                assertEquals(3, cache.pooledCount(cpu), "the CPU keeps its capacity");
                assertEquals(3, cache.pooledCount());
                assertEquals(2, cache.dropped(), "the rest is dropped");
                // LIFO: the last three kept come back, newest first
                assertSame(c, cache.acquire());
                assertSame(b, cache.acquire());
                assertSame(a, cache.acquire());
                assertEquals(5, made.get());
                assertEquals(0, cache.pooledCount());
                assertNotSame(a, cache.acquire(), "an empty CPU makes a new object");
                assertEquals(6, made.get());
            }
        });
    }

    /**
     * Slots are conserved: after many acquire/release cycles on one CPU, that CPU still
     * keeps exactly its capacity (an acquire that lost its slot, or a release that kept
     * one, would shrink or grow it).
     */
    @Test
    void cyclesConserveEveryCpusCapacity() throws Throwable {
        int cpu = CpuSets.allowed().getFirst();
        Pinned.run(cpu, () -> {
            try (PerCpuObjectCache<Item> cache = new PerCpuObjectCache<>(Item::new, 4)) {
                int expected = 0;
                for (int round = 0; round < 1_000; round++) {
                    int k = 1 + round % 6;          // sometimes more than the CPU keeps
                    List<Item> held = new ArrayList<>();
                    for (int i = 0; i < k; i++) {
                        held.add(cache.acquire());
                    }
                    held.forEach(cache::release);
                    expected = Math.min(4, Math.max(expected, k)); // took min(k, kept), gave back k
                    assertEquals(expected, cache.pooledCount(cpu), "round " + round);
                }
                for (int i = 0; i < 6; i++) {
                    cache.release(new Item());
                }
                assertEquals(4, cache.pooledCount(cpu), "the CPU keeps exactly its capacity");
                assertEquals(4, cache.clear());
                for (int i = 0; i < 6; i++) {
                    cache.release(new Item());
                }
                assertEquals(4, cache.pooledCount(cpu), "and again after clear");
                assertEquals(cache.created() + 12, 4 + 4 + cache.dropped() + 0L,
                        "made + given = cleared + kept + dropped (none held)");
            }
        });
    }

    @Test
    void clearIsExactAndTheCacheFillsAgain() throws Throwable {
        int cpu = CpuSets.allowed().getFirst();
        Pinned.run(cpu, () -> {
            PerCpuObjectCache<Item> cache = new PerCpuObjectCache<>(Item::new, 8);
            List<Item> items = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                items.add(cache.acquire());
            }
            items.forEach(cache::release);
            assertEquals(6, cache.pooledCount());
            assertEquals(6, cache.clear());
            assertEquals(0, cache.pooledCount());
            assertEquals(0, cache.clear());
            long before = cache.created();
            Item fresh = cache.acquire();
            assertFalse(items.contains(fresh), "clear dropped every object");
            assertEquals(before + 1, cache.created());
            // every slot is usable again: the CPU fills to its capacity
            for (int i = 0; i < 10; i++) {
                cache.release(new Item());
            }
            assertEquals(8, cache.pooledCount());
            assertEquals(2, cache.dropped());
            cache.close();
        });
    }

    @Test
    void afterCloseItAllocatesAndDropsButNeverFails() {
        AtomicInteger made = new AtomicInteger();
        PerCpuObjectCache<Item> cache = new PerCpuObjectCache<>(() -> {
            made.incrementAndGet();
            return new Item();
        }, 2);
        Item a = cache.acquire();
        cache.release(a);
        cache.close();
        assertTrue(cache.isClosed());
        assertEquals(0, cache.pooledCount());
        assertEquals(0, cache.clear());
        Item b = cache.acquire();
        assertNotSame(a, b, "closed: nothing cached any more");
        assertEquals(2, made.get());
        long dropped = cache.dropped();
        cache.release(b);
        assertEquals(dropped + 1, cache.dropped());
        cache.close(); // idempotent
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(NullPointerException.class, () -> new PerCpuObjectCache<>(null));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuObjectCache<>(Item::new, 0));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuObjectCache<>(Item::new, 4097));
        try (PerCpuObjectCache<Item> cache = new PerCpuObjectCache<>(() -> null, 2)) {
            assertThrows(NullPointerException.class, cache::acquire);
            assertThrows(NullPointerException.class, () -> cache.release(null));
            assertThrows(IndexOutOfBoundsException.class, () -> cache.pooledCount(-1));
        }
    }
}
