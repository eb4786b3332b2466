package io.github.rseq4j.bench.cli;

import io.github.rseq4j.PerCpuCounter;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The counter memory test: many counters, each hammered by two threads at once, then
 * the memory they keep, per counter.
 *
 * <p><b>Why hammer.</b> A {@code LongAdder} starts as a bare object; the first time two
 * threads collide on it (a failed CAS on its base) it grows a cells array, and then a
 * {@code @Contended}-padded {@code Cell} per slot a thread hashes to (up to the number of
 * CPUs, rounded up to a power of two). That is the steady state of a contended adder, and
 * the one to compare. Here two platform threads walk the counters in lockstep: both start
 * counter {@code i} together (each waits for the other to finish {@code i - 1}) and both
 * keep incrementing it until each has made at least {@code overlapped} increments while
 * the other was demonstrably running too (see {@code hammer}), so their updates overlap
 * on every counter even when the OS deschedules one of them.
 * {@code PerCpuCounter} and {@code AtomicLong} are treated the same way (their size does
 * not depend on it). Every counter's sum is checked against the increments made.
 *
 * <p><b>How heap is measured</b>, two independent ways ({@link RetainedHeap}):
 * <ol>
 * <li>retained heap: {@code MemoryMXBean} heap used after {@code System.gc()} (repeated
 *     until it settles), before creating the counters and after hammering them, with
 *     the array holding them allocated beforehand; the difference over the count;</li>
 * <li>the JVM's live-object class histogram (as {@code jcmd GC.class_histogram}) before
 *     and after: per class, the instances and bytes that appeared. Classes with at least
 *     one new instance per 100 counters are the counters' own objects (for LongAdder:
 *     the adder, its {@code Cell[]} and the {@code Cell}s; for PerCpuCounter: the counter,
 *     its cleaner registration, and the slab allocator's bookkeeping); their bytes over the
 *     count are the histogram figure, and the breakdown is reported.</li>
 * </ol>
 * <b>Native memory</b> (PerCpuCounter only): each counter is one 8-byte word in every
 * slice of a shared slab, one slice per possible CPU: 8 x (highest possible CPU + 1) bytes,
 * computed, not measured (slab pages are touched as counters are used; the 64-byte slice
 * headers are shared by 131,000 counters and left out).
 *
 * <p><b>Total</b> = retained heap + native.
 */
public final class MemorySuite {
    private MemorySuite() {
    }

    /** Threads hammering each counter. */
    public static final int HAMMER_THREADS = 2;

    /** What the counter test's rows count, as {@link MemoryResult#unit()}. */
    public static final String COUNTER = "counter";

    /** One class's share of the memory of one counter (or series: the row's unit). */
    public record ClassShare(String className, double instancesPerUnit, double bytesPerUnit) {
    }

    /**
     * The memory of one kind of counter (or series): bytes per {@code unit}.
     *
     * @param name                 row name (as in the throughput table)
     * @param unit                 what was made and is counted per row: {@value #COUNTER}, or
     *                             {@code series} (see {@link SeriesSuite#SERIES_UNIT})
     * @param count                how many were made
     * @param setup                how they were made and used, for the table's heading
     *                             ("each hammered by 2 threads at once ...")
     * @param overlappedPerThread  counters: least increments per counter per thread made while the
     *                             other ran; 0 where it does not apply
     * @param retainedHeapPerUnit  MemoryMXBean: heap used after GC, difference / count
     * @param histogramHeapPerUnit class histogram: bytes of the objects' own classes / count
     *                             (NaN when the histogram is unavailable)
     * @param nativePerUnit        off-heap bytes per unit (computed; 0 for JDK counters)
     * @param totalPerUnit         retained heap + native
     * @param classes              the histogram breakdown, largest first
     * @param detail               a line of explanation (cells per LongAdder, ...)
     * @param check                "ok" when every counter's sum (every series' count) was right
     * @param kind                 rseq4j's or an alternative
     * @param vsBest               total bytes against the alternative of the same unit with the
     *                             fewest (see {@link Comparisons#compareMemory}), or null
     */
    public record MemoryResult(String name, String unit, int count, String setup, int overlappedPerThread,
                               double retainedHeapPerUnit, double histogramHeapPerUnit, double nativePerUnit,
                               double totalPerUnit, List<ClassShare> classes, String detail, String check,
                               RowKind kind, Comparison vsBest) {

        /** This row with its comparison. */
        public MemoryResult withComparison(Comparison c) {
            return new MemoryResult(name, unit, count, setup, overlappedPerThread, retainedHeapPerUnit,
                    histogramHeapPerUnit, nativePerUnit, totalPerUnit, classes, detail, check, kind, c);
        }

        /** The unit's plural: "counters", "series". */
        public String units() {
            return unit.endsWith("s") ? unit : unit + "s";
        }

        /** What the rows of this unit are compared by. */
        public Comparison.Metric metric() {
            return unit.equals(COUNTER) ? Comparison.Metric.BYTES : Comparison.Metric.BYTES_PER_SERIES;
        }
    }

    private record Kind(String name, RowKind rowKind, Supplier<Object> factory, Hit hit, ToLongFunction<Object> sum,
                        long nativeBytes) {
    }

    /** Increments {@code counter} {@code times} times. */
    @FunctionalInterface
    private interface Hit {
        void hit(Object counter, int times);
    }

    /**
     * Runs the test for AtomicLong, LongAdder (the alternatives) and PerCpuCounter.
     *
     * @param slices per-CPU slices of rseq4j's memory: highest possible CPU + 1 (see
     *               {@link MachineFacts#slices()})
     */
    public static List<MemoryResult> run(int counters, int overlapped, int slices) {
        List<Kind> kinds = List.of(
                new Kind("AtomicLong", RowKind.ALTERNATIVE, AtomicLong::new, (c, k) -> {
                    AtomicLong a = (AtomicLong) c;
                    for (int i = 0; i < k; i++) {
                        a.getAndIncrement();
                    }
                }, c -> ((AtomicLong) c).get(), 0),
                new Kind("LongAdder", RowKind.ALTERNATIVE, LongAdder::new, (c, k) -> {
                    LongAdder a = (LongAdder) c;
                    for (int i = 0; i < k; i++) {
                        a.increment();
                    }
                }, c -> ((LongAdder) c).sum(), 0),
                new Kind("rseq4j counter", RowKind.RSEQ4J, PerCpuCounter::new, (c, k) -> {
                    PerCpuCounter a = (PerCpuCounter) c;
                    for (int i = 0; i < k; i++) {
                        a.increment();
                    }
                }, c -> ((PerCpuCounter) c).sum(), 8L * slices));
        List<MemoryResult> out = new ArrayList<>();
        for (Kind k : kinds) {
            out.add(measure(k, counters, overlapped, slices));
        }
        return out;
    }

    private static MemoryResult measure(Kind kind, int n, int overlapped, int slices) {
        long[] bad = new long[1];
        RetainedHeap.Delta<Object[]> heap = RetainedHeap.measure(n, () -> {
            Object[] holder = new Object[n];
            for (int i = 0; i < n; i++) {
                holder[i] = kind.factory.get();
            }
            bad[0] = hammer(holder, kind.hit, kind.sum, overlapped);
            return holder;
        });
        double retained = (double) heap.retained() / n;
        List<ClassShare> classes = heap.classes();
        String detail = "";
        if (kind.name.equals("LongAdder") && !classes.isEmpty()) {
            ClassShare cells = find(classes, "java.util.concurrent.atomic.Striped64$Cell");
            ClassShare arrays = find(classes, "[Ljava.util.concurrent.atomic.Striped64$Cell;");
            double cellsPer = cells == null ? 0 : cells.instancesPerUnit();
            double cellSize = cells == null || cells.instancesPerUnit() == 0 ? 0
                    : cells.bytesPerUnit() / cells.instancesPerUnit();
            ClassShare adder = find(classes, "java.util.concurrent.atomic.LongAdder");
            double adderSize = adder == null ? 0 : adder.bytesPerUnit() / adder.instancesPerUnit();
            double arraySize = arrays == null || arrays.instancesPerUnit() == 0 ? 0
                    : arrays.bytesPerUnit() / arrays.instancesPerUnit();
            // Striped64 grows the cells array up to the first power of two >= the CPU count
            int maxCells = Integer.highestOneBit(Math.max(1, Runtime.getRuntime().availableProcessors() - 1)) << 1;
            detail = String.format("%.1f%% of the adders grew a cells array; %.2f cells per adder, %.0f bytes per"
                            + " padded Cell; an adder with all its cells (%d here, at most the CPU count rounded up"
                            + " to a power of two) takes %.0f + %.0f + %d x %.0f = %.0f bytes",
                    100 * (arrays == null ? 0 : arrays.instancesPerUnit()), cellsPer, cellSize, maxCells,
                    adderSize, arraySize, maxCells, cellSize, adderSize + arraySize + maxCells * cellSize);
        }
        if (kind.nativeBytes > 0) {
            detail = String.format("native: 8 bytes x %d slices (possible CPUs) per counter, in shared slabs", slices);
        }
        String setup = String.format(java.util.Locale.ROOT, "each hammered by %d threads at once (each thread >= %d"
                + " increments while the other ran)", HAMMER_THREADS, overlapped);
        return new MemoryResult(kind.name, COUNTER, n, setup, overlapped, retained,
                heap.histogram() / n, kind.nativeBytes, retained + kind.nativeBytes, classes, detail,
                bad[0] == 0 ? "ok" : bad[0] + " counters had a wrong sum", kind.rowKind, null);
    }

    private static ClassShare find(List<ClassShare> classes, String name) {
        for (ClassShare c : classes) {
            if (c.className().equals(name)) {
                return c;
            }
        }
        return null;
    }

    /**
     * Two threads increment every counter, in lockstep and provably at the same time:
     * both begin counter {@code i} once both have finished counter {@code i - 1}; each
     * increments in batches of {@value #BATCH}, and a batch counts as overlapped when the
     * other thread's count moved during it (so the other was running then, not merely
     * scheduled). Both go on until each has {@code overlapped} overlapped increments, so a
     * thread the OS descheduled for a while does not leave a counter uncontended. Returns
     * how many counters did not end with exactly the increments made.
     */
    private static long hammer(Object[] counters, Hit hit, ToLongFunction<Object> sum, int overlapped) {
        int n = counters.length;
        // per thread, 16 longs apart: [0] counters finished, [1] increments on the current
        // counter, [2] overlapped increments on it
        AtomicLongArray state = new AtomicLongArray(16 * HAMMER_THREADS);
        long[][] made = new long[HAMMER_THREADS][n];
        Throwable[] failure = new Throwable[1];
        Thread[] ts = new Thread[HAMMER_THREADS];
        for (int t = 0; t < HAMMER_THREADS; t++) {
            int me = t;
            int other = 1 - t;
            ts[t] = Thread.ofPlatform().daemon().name("bench-hammer-" + t).unstarted(() -> {
                try {
                    for (int i = 0; i < n; i++) {
                        int spins = 0;
                        while (state.get(16 * other) < i) {
                            if (++spins < 10_000) {
                                Thread.onSpinWait();
                            } else {
                                Thread.yield();
                            }
                        }
                        long mine = 0, lapped = 0;
                        state.set(16 * me + 2, 0);
                        // the other's counts of the previous counter are stale until it
                        // resets them; use the done count as the generation
                        while (lapped < overlapped || otherLapped(state, other, i) < overlapped) {
                            long before = state.get(16 * other + 1);
                            hit.hit(counters[i], BATCH);
                            mine += BATCH;
                            state.set(16 * me + 1, (long) i << 32 | (mine & 0xffffffffL));
                            if (state.get(16 * other + 1) != before && (before >>> 32) == i) {
                                lapped += BATCH;
                                state.set(16 * me + 2, (long) i << 32 | lapped);
                            } else if ((mine & 1023) == 0) {
                                // waiting for the other thread: let a safepoint in (C2 may
                                // leave no poll in a loop of critical downcalls, and the
                                // other thread may be the one stopped at the safepoint)
                                Thread.yield();
                            }
                        }
                        made[me][i] = mine;
                        state.set(16 * me, i + 1);
                    }
                } catch (Throwable e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                    state.set(16 * me, Long.MAX_VALUE / 2); // let the other finish
                    state.set(16 * me + 2, Long.MAX_VALUE);
                }
            });
        }
        for (Thread t : ts) {
            t.start();
        }
        for (Thread t : ts) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        if (failure[0] != null) {
            throw new IllegalStateException("hammer thread failed: " + failure[0], failure[0]);
        }
        long bad = 0;
        for (int i = 0; i < n; i++) {
            if (sum.applyAsLong(counters[i]) != made[0][i] + made[1][i]) {
                bad++;
            }
        }
        return bad;
    }

    /** Batch of increments between overlap checks. */
    static final int BATCH = 8;

    /** The other thread's overlapped increments on counter {@code i} (0 while it has not begun it). */
    private static long otherLapped(AtomicLongArray state, int other, int i) {
        long v = state.get(16 * other + 2);
        if (v == Long.MAX_VALUE) {
            return Long.MAX_VALUE; // it failed
        }
        if (state.get(16 * other) > i) {
            return Long.MAX_VALUE; // it finished counter i
        }
        return (v >>> 32) == i ? v & 0xffffffffL : 0;
    }
}
