package io.github.rseq4j.internal.structures;

import io.github.rseq4j.internal.runtime.JitConstants;

import io.github.rseq4j.internal.os.CpuSets;
import io.github.rseq4j.testsupport.Pinned;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The per-CPU caches of {@link SlotPool}: bounded stacks whose counts the critical sections
 * keep exact. Threads are pinned to one CPU at a time ({@link CpuSets#setAffinity}), so
 * each acquire and release goes to a known slice, in rseq and portable mode alike.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SlotPoolCachesTest {

    /** Runs {@code body} on a new platform thread pinned to {@code cpu}, and waits for it. */
    static void pinned(int cpu, Executable body) throws Throwable {
        Pinned.run(cpu, body);
    }

    private static int[] twoCpus(SlotPool pool) {
        List<Integer> cpus = CpuSets.allowed().stream().filter(c -> c < pool.slices()).toList();
        assumeTrue(cpus.size() >= 2, "needs two allowed CPUs: " + cpus);
        return new int[]{cpus.get(0), cpus.get(1)};
    }

    private static long cachedInAll(SlotPool pool) {
        long n = 0;
        for (int i = 0; i < pool.slices(); i++) {
            n += pool.cached(i);
        }
        return n;
    }

    private static int[] acquireAll(SlotPool pool) {
        int[] slots = new int[pool.capacity()];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = pool.acquire();
            assertTrue(slots[i] >= 0, "slot " + i);
        }
        assertEquals(-1, pool.acquire(), "all out");
        return slots;
    }

    /**
     * The state words are written on every acquire and release: each must have a cache line
     * to itself, away from the array's header (its length is read by every bounds check, on
     * every CPU) and from whatever the heap puts after the array. Slot 0's word used to sit
     * 16 bytes into the array, in the header's line: two threads on two CPUs then took
     * twice as long per acquire + release as one.
     */
    @Test
    void everyStateWordHasACacheLineOfItsOwnAwayFromTheArraysEnds() {
        for (int capacity : new int[]{1, 2, 64, SlotPool.PADDED_UP_TO}) {
            SlotPool pool = new SlotPool("test", capacity, 0, JitConstants.CONTEXT);
            try {
                long header = 16;                                  // mark word, class word, length (upper bound)
                long bytes = header + 4L * pool.stateLength();
                for (int slot = 0; slot < capacity; slot++) {
                    long at = header + 4L * pool.stateIndex(slot);
                    assertTrue(at >= header + 64 + 64 - 4, "slot " + slot + " of " + capacity + " at byte " + at
                            + ": within two lines of the array's header");
                    assertTrue(bytes - at >= 64 + 64, "slot " + slot + " of " + capacity + " at byte " + at
                            + " of " + bytes + ": within two lines of the array's end");
                    if (slot > 0) {
                        assertEquals(64, 4L * (pool.stateIndex(slot) - pool.stateIndex(slot - 1)),
                                "bytes between the words of slots " + (slot - 1) + " and " + slot);
                    }
                }
            } finally {
                pool.close();
            }
        }
    }

    @Test
    void releasesFillTheCallersCacheExactlyThenSpillABatch() throws Throwable {
        SlotPool pool = new SlotPool("test", 8, 4, JitConstants.CONTEXT);
        int cpu = twoCpus(pool)[0];
        int[] slots = acquireAll(pool);
        pinned(cpu, () -> {
            for (int k = 0; k < 4; k++) {
                pool.release(slots[k]);
                assertEquals(k + 1, pool.cached(cpu), "exact after each release");
            }
            pool.release(slots[4]);             // full: a batch of 2 goes to the depot first
        });
        assertEquals(3, pool.cached(cpu));
        assertEquals(2, pool.depotSize());
        assertEquals(5, cachedInAll(pool) + pool.depotSize());
        assertEquals(5, pool.available());
    }

    @Test
    void anEmptyCacheTakesABatchFromTheDepotThenSteals() throws Throwable {
        SlotPool pool = new SlotPool("test", 8, 4, JitConstants.CONTEXT);
        int[] cpus = twoCpus(pool);
        int[] slots = acquireAll(pool);
        pinned(cpus[0], () -> {
            for (int k = 0; k < 6; k++) {
                pool.release(slots[k]);         // 4, spill 2, then 2 more: cache 4, depot 2
            }
        });
        assertEquals(4, pool.cached(cpus[0]));
        assertEquals(2, pool.depotSize());
        int[] got = new int[3];
        pinned(cpus[1], () -> {
            got[0] = pool.acquire();            // depot: one for the caller, one onto cpu 1
            assertEquals(0, pool.depotSize());
            assertEquals(1, pool.cached(cpus[1]));
            got[1] = pool.acquire();            // cpu 1's cache
            assertEquals(0, pool.cached(cpus[1]));
            got[2] = pool.acquire();            // steal a batch (2) from cpu 0: one for the caller, one to the depot
        });
        assertEquals(2, pool.cached(cpus[0]));
        assertEquals(1, pool.depotSize());
        BitSet seen = new BitSet();
        for (int s : got) {
            assertTrue(s >= 0);
            assertFalse(seen.get(s), "slot " + s + " handed out twice");
            seen.set(s);
        }
        assertEquals(3, pool.available(), "8 - 2 never released - 3 acquired");
    }

    @Test
    void rebalanceEvensOutTwoCaches() throws Throwable {
        SlotPool pool = new SlotPool("test", 8, 8, JitConstants.CONTEXT);
        int[] cpus = twoCpus(pool);
        int[] slots = acquireAll(pool);
        pinned(cpus[0], () -> {
            for (int s : slots) {
                pool.release(s);
            }
        });
        assertEquals(8, pool.cached(cpus[0]));
        assertEquals(4, pool.rebalance());
        assertEquals(4, pool.cached(cpus[0]));
        assertEquals(4, pool.cached(cpus[1]));
        assertEquals(0, pool.rebalance(), "already even");
    }

    /** Pinned workers on two CPUs and a concurrent rebalance: every slot ends in exactly one place. */
    @Test
    void slotsAreConservedUnderConcurrentRebalance() throws Throwable {
        SlotPool pool = new SlotPool("test", 64, 8, JitConstants.CONTEXT);
        int[] cpus = twoCpus(pool);
        AtomicBoolean stop = new AtomicBoolean();
        Thread balancer = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                pool.rebalance();
            }
        });
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int w = 0; w < 4; w++) {
            int cpu = cpus[w % 2];
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    pinned(cpu, () -> {
                        int[] held = new int[5];
                        for (int round = 0; round < 20_000; round++) {
                            int n = 0;
                            for (; n < held.length; n++) {
                                held[n] = pool.acquire();
                                if (held[n] < 0) {
                                    break;
                                }
                            }
                            for (int k = 0; k < n; k++) {
                                pool.release(held[k]);
                            }
                        }
                    });
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        for (Thread t : workers) {
            t.join();
        }
        stop.set(true);
        balancer.join();
        assertEquals(List.of(), failures);
        assertEquals(64, pool.available(), "nothing out");
        BitSet seen = new BitSet();
        for (int i = 0; i < 64; i++) {
            int s = pool.acquire();
            assertTrue(s >= 0, "slot " + i + " of 64");
            assertFalse(seen.get(s), "slot " + s + " twice");
            seen.set(s);
        }
        assertEquals(-1, pool.acquire(), "exactly 64");
    }
}
