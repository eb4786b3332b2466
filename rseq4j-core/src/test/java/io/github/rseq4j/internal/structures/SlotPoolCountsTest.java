package io.github.rseq4j.internal.structures;

import io.github.rseq4j.internal.os.CpuSets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The per-CPU counts of {@link SlotPool}: heuristic words that a migration between a push
 * (or pop) and its count can leave wrong, and the two repairs: {@link SlotPool#rebalance()}
 * recounts every slice exactly, and a spill that finds fewer slots than its slice's count
 * claimed recounts that slice.
 *
 * <p>Threads are pinned to one CPU at a time ({@link CpuSets#setAffinity}), so each
 * acquire and release goes to a known slice, in rseq and portable mode alike. Drift is made
 * on purpose with {@code SlotPool.driftCounts} (package-private), exactly the effect of a
 * migration; the exact length of a slice's list is measured with public methods only by
 * {@link #countError}.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SlotPoolCountsTest {

    /** A per-CPU limit so large that nothing ever spills. */
    private static final int NO_SPILL = 1 << 20;

    /** Runs {@code body} on a new platform thread pinned to {@code cpu}, and waits for it. */
    static void pinned(int cpu, Executable body) throws Throwable {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("pinned-" + cpu).start(() -> {
            List<Integer> original = CpuSets.allowed();
            try {
                assertEquals(0, CpuSets.setAffinity(List.of(cpu)), "pin to CPU " + cpu);
                body.execute();
            } catch (Throwable e) {
                failure.set(e);
            } finally {
                CpuSets.setAffinity(original);
            }
        });
        t.join();
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    /** Two allowed CPUs that have slices, or the test is skipped. */
    private static int[] twoCpus(SlotPool pool) {
        List<Integer> cpus = CpuSets.allowed().stream().filter(c -> c < pool.slices()).toList();
        assumeTrue(cpus.size() >= 2, "needs two allowed CPUs: " + cpus);
        return new int[]{cpus.get(0), cpus.get(1)};
    }

    /** For tests that measure every slice: each slice's CPU must be one this thread may run on. */
    private static void assumeEverySliceReachable(SlotPool pool) {
        List<Integer> cpus = CpuSets.allowed();
        for (int i = 0; i < pool.slices(); i++) {
            assumeTrue(cpus.contains(i), "slice " + i + "'s CPU is not allowed here: " + cpus);
        }
    }

    /** Acquires every slot (all fresh: 0, 1, 2, ... in order). */
    private static void acquireAll(SlotPool pool) {
        for (int s = 0; s < pool.capacity(); s++) {
            assertEquals(s, pool.acquire(), "fresh slots come in order");
        }
        assertEquals(-1, pool.acquire());
        assertEquals(pool.capacity(), pool.used());
    }

    private static void releaseOn(SlotPool pool, int cpu, int from, int to) throws Throwable {
        pinned(cpu, () -> {
            for (int s = from; s < to; s++) {
                pool.release(s);
            }
        });
    }

    private static long[] counts(SlotPool pool) {
        long[] c = new long[pool.slices()];
        for (int i = 0; i < c.length; i++) {
            c[i] = pool.cached(i);
        }
        return c;
    }

    /**
     * {@code cached(cpu)} minus the number of slots {@code cpu}'s cache really holds,
     * measured with public methods: pinned to the CPU, acquire while each acquire is a local
     * pop (it counts the CPU down by one and changes no other count, the depot nor the
     * fresh slots), then release everything taken on the same CPU. Pops and pushes on a
     * pinned thread change list and count together, so the error is the same afterwards; the
     * slots, though, may have moved between caches and the depot (the last acquire may have
     * stolen or taken from the depot), so callers measure last.
     */
    static long countError(SlotPool pool, int cpu) throws Throwable {
        AtomicLong error = new AtomicLong();
        pinned(cpu, () -> {
            long counted = pool.cached(cpu);
            long[] before = counts(pool);
            int depot = pool.depotSize(), used = pool.used();
            List<Integer> taken = new ArrayList<>();
            long local = 0;
            for (int s; (s = pool.acquire()) >= 0; local++) {
                taken.add(s);
                long[] now = counts(pool);
                boolean othersChanged = false;
                for (int i = 0; i < now.length; i++) {
                    othersChanged |= i != cpu && now[i] != before[i];
                }
                if (othersChanged || pool.depotSize() != depot || pool.used() != used) {
                    break;                                  // not from this CPU's cache: it is empty
                }
                assertEquals(counted - local - 1, now[cpu], "a local acquire counts its CPU down by one");
            }
            for (int i = taken.size() - 1; i >= 0; i--) {
                pool.release(taken.get(i));                 // back in the same order
            }
            error.set(counted - local);
        });
        return error.get();
    }

    @Test
    void pinnedReleasesAndAcquiresCountOnTheirCpuExactly() throws Throwable {
        SlotPool pool = new SlotPool("counts", 32, NO_SPILL);
        int[] ab = twoCpus(pool);
        int a = ab[0], b = ab[1];
        acquireAll(pool);
        releaseOn(pool, a, 0, 10);
        releaseOn(pool, b, 10, 13);
        long[] c = counts(pool);
        for (int i = 0; i < c.length; i++) {
            assertEquals(i == a ? 10 : i == b ? 3 : 0, c[i], "slice " + i);
        }
        assertEquals(0, pool.depotSize());
        assertEquals(13, pool.available());
        List<Integer> got = new ArrayList<>();
        pinned(a, () -> {
            for (int k = 0; k < 4; k++) {
                got.add(pool.acquire());
            }
        });
        assertEquals(List.of(9, 8, 7, 6), got, "a CPU's cache is a stack");
        assertEquals(6, pool.cached(a));
        assertEquals(3, pool.cached(b));
        assertThrows(IndexOutOfBoundsException.class, () -> pool.cached(pool.slices()));
        assertThrows(IndexOutOfBoundsException.class, () -> pool.cached(-1));
        assertEquals(0, countError(pool, a));
        assertEquals(0, countError(pool, b));
    }

    @Test
    void theExactnessMeasureSeesDriftedCounts() throws Throwable {
        SlotPool pool = new SlotPool("drift", 16, NO_SPILL);
        int[] ab = twoCpus(pool);
        int a = ab[0], b = ab[1];
        acquireAll(pool);
        releaseOn(pool, a, 0, 6);
        pool.driftCounts(a, b, 2);
        assertEquals(4, pool.cached(a));
        assertEquals(2, pool.cached(b));
        assertEquals(-2, countError(pool, a), "a's count is 2 short of its 6 slots");
        assertEquals(2, countError(pool, b), "b counts 2 slots it does not have");
    }

    @Test
    void rebalanceRecountsEverySliceAndRepairsDriftedCounts() throws Throwable {
        SlotPool pool = new SlotPool("rebalance", 32, NO_SPILL);
        int[] ab = twoCpus(pool);
        int a = ab[0], b = ab[1];
        acquireAll(pool);
        releaseOn(pool, a, 0, 10);
        releaseOn(pool, b, 10, 12);
        pool.driftCounts(a, b, 3);
        assertEquals(7, pool.cached(a), "drifted");
        assertEquals(5, pool.cached(b), "drifted");
        // Recounted: a holds 10, b 2; then a gives b half the difference.
        assertEquals(4, pool.rebalance(), "slots moved");
        long[] c = counts(pool);
        for (int i = 0; i < c.length; i++) {
            assertEquals(i == a || i == b ? 6 : 0, c[i], "slice " + i + " after rebalance");
        }
        assertEquals(0, pool.depotSize());
        assertEquals(0, pool.rebalance(), "balanced and exact: nothing to do");
        assertEquals(0, countError(pool, a));
        assertEquals(0, countError(pool, b));
    }

    @Test
    void aReleaseAboveThePerCpuLimitSpillsHalfALimitToTheDepot() throws Throwable {
        SlotPool pool = new SlotPool("spill", 8, 4);
        int a = twoCpus(pool)[0];
        acquireAll(pool);
        releaseOn(pool, a, 0, 4);
        assertEquals(4, pool.cached(a), "at the limit, not above it");
        assertEquals(0, pool.depotSize());
        releaseOn(pool, a, 4, 5);
        assertEquals(2, pool.depotSize(), "a batch of limit / 2");
        assertEquals(3, pool.cached(a));
        assertEquals(0, countError(pool, a));
    }

    @Test
    void aSpillThatFindsFewerSlotsThanCountedRecountsItsSlice() throws Throwable {
        SlotPool pool = new SlotPool("spill-recount", 8, 4);
        int[] ab = twoCpus(pool);
        int a = ab[0], b = ab[1];
        acquireAll(pool);
        pool.driftCounts(b, a, 4);               // a claims 4 slots it does not have
        assertEquals(4, pool.cached(a));
        assertEquals(-4, pool.cached(b));
        releaseOn(pool, a, 0, 1);                // count 5 > 4: spill, which finds 1 slot, not a batch of 2
        assertEquals(1, pool.depotSize(), "the one slot a really had");
        assertEquals(0, pool.cached(a), "recounted: a's cache is empty");
        assertEquals(-4, pool.cached(b), "the spill recounts its own slice only");
        assertEquals(0, pool.rebalance(), "nothing to move: every cache is empty");
        assertEquals(0, pool.cached(b), "rebalance recounted b");
        assertEquals(1, pool.depotSize());
        assertEquals(0, pool.acquire(), "the spilled slot comes back from the depot");
    }

    @Test
    void afterConcurrentUseRebalanceLeavesEveryCountExact() throws Throwable {
        final int capacity = 64;
        SlotPool pool = new SlotPool("concurrent", capacity, NO_SPILL);
        assumeEverySliceReachable(pool);
        List<Integer> cpus = CpuSets.allowed().stream().filter(c -> c < pool.slices()).toList();
        acquireAll(pool);
        int workers = 2 * cpus.size();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            int cpu = cpus.get(w % cpus.size());
            List<Integer> mine = new ArrayList<>();
            for (int s = w; s < capacity; s += workers) {
                mine.add(s);
            }
            threads.add(Thread.ofPlatform().start(() -> {
                List<Integer> original = CpuSets.allowed();
                try {
                    // Half the time pinned (counts on one CPU), half free to migrate.
                    for (int round = 0; !stop.get(); round++) {
                        CpuSets.setAffinity((round & 1) == 0 ? List.of(cpu) : original);
                        for (int s : mine) {
                            pool.release(s);
                        }
                        for (int k = 0; k < mine.size(); k++) {
                            int s = pool.acquire(Duration.ofSeconds(10));
                            assertTrue(s >= 0, "a free slot within 10 s");
                            mine.set(k, s);
                        }
                    }
                    for (int s : mine) {
                        pool.release(s);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    CpuSets.setAffinity(original);
                }
            }));
        }
        Thread rebalancer = Thread.ofPlatform().start(() -> {
            try {
                while (!stop.get()) {
                    pool.rebalance();   // stops slices: releases and acquires meanwhile take the fallback
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        });
        Thread.sleep(400);
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        rebalancer.join();
        if (failure.get() != null) {
            throw failure.get();
        }
        assertEquals(capacity, pool.available(), "every slot given back");
        long[] before = new long[pool.slices()];
        for (int i = 0; i < before.length; i++) {
            before[i] = countError(pool, i);
        }
        System.out.println("SlotPool count errors after concurrent use (before the repair): "
                + Arrays.toString(before));
        pool.rebalance();
        long total = pool.depotSize();
        for (int i = 0; i < pool.slices(); i++) {
            total += pool.cached(i);
        }
        assertEquals(capacity, total, "every free slot is in a cache or the depot, and counted once");
        for (int i = 0; i < pool.slices(); i++) {
            assertEquals(0, countError(pool, i), "slice " + i + " after rebalance");
        }
    }
}
