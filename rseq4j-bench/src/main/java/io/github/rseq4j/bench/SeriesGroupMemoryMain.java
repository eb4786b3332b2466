package io.github.rseq4j.bench;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.HistogramGroup;
import io.github.rseq4j.PerCpuTimer;
import io.github.rseq4j.Rseq;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The figures of {@code HistogramGroup}'s cost formula and snapshot target, measured in one
 * JVM: heap per series (10,000 timer series of Micrometer's 69-bucket layout, each recorded
 * once, heap after GC), the group's bytes per CPU, the time of {@code snapshotThenReset} of
 * 10,000 series, one thread's record rate over 10,000 series round-robin (which includes the
 * folds: the group's fold throughput bound), and the cost of the lock-and-unlock pair per
 * entry that per-series fold locks would add (the reason for one group fold lock).
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp <rseq4j-bench classpath>
 * io.github.rseq4j.bench.SeriesGroupMemoryMain [series]}. Not a JMH benchmark: one pass of
 * each measurement, medians where it repeats; quote the machine's load with the figures.
 */
public final class SeriesGroupMemoryMain {
    private SeriesGroupMemoryMain() {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        System.out.println("rseq mode: " + Rseq.isRseqMode() + ", CPUs: " + Runtime.getRuntime().availableProcessors());
        BucketLayout layout = BucketLayout.micrometerTimerDefault();
        long before = heapAfterGc();
        HistogramGroup group = new HistogramGroup();
        List<PerCpuTimer> timers = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            PerCpuTimer t = group.newTimer(layout);
            t.record(1_000_000L + i, java.util.concurrent.TimeUnit.NANOSECONDS);
            timers.add(t);
        }
        group.snapshot((s, c) -> { });         // fold the logs: every series' statistics touched
        long after = heapAfterGc();
        System.out.printf("heap per timer series (%d buckets, %d series, heap after GC): %.0f B (formula: %d B + 16 B timer)%n",
                layout.bucketCount(), n, (double) (after - before) / n,
                ((io.github.rseq4j.HistogramSeries) timers.get(0).histogram()).heapBytes());
        System.out.printf("bytes per CPU (fixed): %d%n", group.bytesPerCpu());

        long[] snap = new long[41];
        for (int r = 0; r < snap.length; r++) {
            for (PerCpuTimer t : timers) {
                t.record(2_000_000L, java.util.concurrent.TimeUnit.NANOSECONDS);
            }
            long t0 = System.nanoTime();
            group.snapshotThenReset((s, c) -> { });
            snap[r] = System.nanoTime() - t0;
        }
        Arrays.sort(snap);
        System.out.printf("group.snapshotThenReset, %d series (1 record each): median %.2f ms, min %.2f ms, p90 %.2f ms%n",
                n, snap[snap.length / 2] / 1e6, snap[0] / 1e6, snap[snap.length * 9 / 10] / 1e6);

        int rounds = Math.max(1, 4_000_000 / n);      // the same number of records whatever n
        long[] rec = new long[5];
        for (int r = 0; r < rec.length; r++) {
            long t0 = System.nanoTime();
            for (int k = 0; k < rounds; k++) {
                for (int i = 0; i < n; i++) {
                    timers.get(i).histogram().record(1_000 + k);
                }
            }
            rec[r] = System.nanoTime() - t0;
        }
        Arrays.sort(rec);
        System.out.printf("one thread, %d series round-robin, records and folds: median %.1f ns per record%n",
                n, (double) rec[rec.length / 2] / ((long) rounds * n));
        group.snapshotThenReset((s, c) -> { });

        // What per-series fold locks would add per entry: an uncontended CAS and a release store.
        AtomicInteger[] locks = new AtomicInteger[n];
        for (int i = 0; i < n; i++) {
            locks[i] = new AtomicInteger();
        }
        long[] lockCost = new long[5];
        int entries = 4_000_000;
        long sink = 0;
        for (int r = 0; r < lockCost.length; r++) {
            long t0 = System.nanoTime();
            for (int e = 0; e < entries; e++) {
                AtomicInteger l = locks[(int) ((e * 7919L) % n)];
                if (l.compareAndSet(0, 1)) {
                    sink++;
                    l.setRelease(0);
                }
            }
            lockCost[r] = System.nanoTime() - t0;
        }
        Arrays.sort(lockCost);
        System.out.printf("per-series fold locks would add: %.1f ns per entry (lock + unlock, uncontended; %d)%n",
                (double) lockCost[lockCost.length / 2] / entries, sink % 2);
        group.close();
    }

    private static long heapAfterGc() {
        for (int i = 0; i < 4; i++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
