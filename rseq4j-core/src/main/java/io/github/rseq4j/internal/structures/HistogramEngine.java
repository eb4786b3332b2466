package io.github.rseq4j.internal.structures;

import io.github.rseq4j.internal.abi.BoundedStackLayout;
import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.abi.OpResult;
import io.github.rseq4j.internal.codegen.PerCpuOperation;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The engine of {@code PerCpuHistogram}: per CPU, a sample log and the folded statistics.
 *
 * <p>Implementation notes. Recording several independent words (a bucket, the count, the
 * sum, min and max) in one critical section is impossible: a section commits one store,
 * and a restarted section must not re-apply stores it made before the abort. So a record
 * is one {@link PerCpuOperation#BOUNDED_PUSH} of the value into the CPU's sample log
 * (speculative store of the entry, commit of the log's count), like a ring write. The log
 * is folded into the CPU's buckets, count, sum, min and max with plain accesses on the
 * slice held stopped: when a record finds the log full (it stops a slice, folds, and adds
 * its value there), and when a snapshot stops each slice in turn. A record is therefore
 * either in a log or folded, never both and never half, and a snapshot (or
 * snapshot-then-reset) that folds and reads each slice under stop sees every record whole
 * in exactly one interval.
 *
 * <p>Per-CPU layout (one item): the log ({@link BoundedStackLayout}, {@value #LOG_ENTRIES}
 * entries), then {@code COUNT, SUM, MIN, MAX, CLAMPED}, then one word per bucket.
 */
public final class HistogramEngine {
    /** Entries in each CPU's sample log. */
    public static final int LOG_ENTRIES = 256;

    private static final long LOG = 0;
    private static final long STATS = BoundedStackLayout.bytes(LOG_ENTRIES);
    private static final int COUNT = 0, SUM = 8, MIN = 16, MAX = 24, CLAMPED = 32;
    private static final long BUCKETS = STATS + 40;

    private final HistogramBuckets buckets;
    private final SliceMemory memory;
    private final long item;
    private final long bytesPerCpu;

    public HistogramEngine(HistogramBuckets buckets) {
        this.buckets = buckets;
        this.bytesPerCpu = BUCKETS + 8L * buckets.count();
        if (bytesPerCpu + 64 > SliceMemory.MAX_BYTES_PER_SLICE) {
            throw new IllegalArgumentException("too many buckets for per-CPU memory: " + buckets.count());
        }
        this.memory = new SliceMemory(IndexField.CPU_ID, bytesPerCpu + 64);
        long off = memory.allocateFresh(bytesPerCpu, 64);
        if (off < 0) {
            throw new IllegalArgumentException("too many buckets for per-CPU memory: " + buckets.count());
        }
        this.item = off;
        for (int i = 0; i < memory.slices(); i++) {
            memory.whole().set(JAVA_LONG, memory.at(i, item + STATS + MIN), Long.MAX_VALUE);
        }
    }

    public HistogramBuckets buckets() {
        return buckets;
    }

    /** Bytes of per-CPU memory per CPU (pages are touched as they are used). */
    public long bytesPerCpu() {
        return bytesPerCpu;
    }

    public int slices() {
        return memory.slices();
    }

    /**
     * Records {@code value} (clamped to {@code [0, highest]}) once: one critical section on
     * the fast path; a full log is folded first.
     */
    public void record(long value) {
        long v = value;
        boolean clamped = false;
        if (v < 0 || v > buckets.highest()) {
            v = v < 0 ? 0 : buckets.highest();
            clamped = true;
        }
        if (!clamped) {
            long r = SliceOps.DEFAULT.run(PerCpuOperation.BOUNDED_PUSH, memory, item + LOG, v, LOG_ENTRIES, 0, 0, null);
            if (r >= 0) {
                return;
            }
            if (r != OpResult.FULL) {
                throw new IllegalStateException("sample log push returned " + OpResult.describe(r));
            }
        }
        recordStopped(v, 1, clamped);
    }

    /** Records {@code value} {@code n} times (n >= 1) on a slice held stopped. */
    public void record(long value, long n) {
        if (n == 1) {
            record(value);
            return;
        }
        long v = value;
        boolean clamped = false;
        if (v < 0 || v > buckets.highest()) {
            v = v < 0 ? 0 : buckets.highest();
            clamped = true;
        }
        recordStopped(v, n, clamped);
    }

    private void recordStopped(long v, long n, boolean clamped) {
        int i = memory.stopForOperation();
        try {
            fold(i);
            add(i, v, n);
            if (clamped) {
                long at = memory.at(i, item + STATS + CLAMPED);
                memory.whole().set(JAVA_LONG, at, memory.whole().get(JAVA_LONG, at) + n);
            }
        } finally {
            memory.start(i);
        }
    }

    /**
     * Folds slice {@code i}'s log into its statistics; the caller holds the slice stopped.
     * The count, sum, min and max of the log are gathered in locals and written once; each
     * entry costs one bucket increment.
     */
    private void fold(int i) {
        MemorySegment w = memory.whole();
        long log = memory.at(i, item + LOG);
        long n = w.get(JAVA_LONG, log + BoundedStackLayout.COUNT);
        if (n == 0) {
            return;
        }
        long sum = 0, min = Long.MAX_VALUE, max = Long.MIN_VALUE;
        long bucketBase = memory.at(i, item + BUCKETS);
        for (long k = 0; k < n; k++) {
            long v = w.get(JAVA_LONG, log + BoundedStackLayout.ENTRIES + 8 * k);
            sum += v;
            min = Math.min(min, v);
            max = Math.max(max, v);
            long b = bucketBase + 8L * buckets.index(v);
            w.set(JAVA_LONG, b, w.get(JAVA_LONG, b) + 1);
        }
        long s = memory.at(i, item + STATS);
        w.set(JAVA_LONG, s + COUNT, w.get(JAVA_LONG, s + COUNT) + n);
        w.set(JAVA_LONG, s + SUM, w.get(JAVA_LONG, s + SUM) + sum);
        if (min < w.get(JAVA_LONG, s + MIN)) {
            w.set(JAVA_LONG, s + MIN, min);
        }
        if (max > w.get(JAVA_LONG, s + MAX)) {
            w.set(JAVA_LONG, s + MAX, max);
        }
        w.set(JAVA_LONG, log + BoundedStackLayout.COUNT, 0L);
    }

    private void add(int i, long v, long n) {
        MemorySegment w = memory.whole();
        long s = memory.at(i, item + STATS);
        w.set(JAVA_LONG, s + COUNT, w.get(JAVA_LONG, s + COUNT) + n);
        w.set(JAVA_LONG, s + SUM, w.get(JAVA_LONG, s + SUM) + v * n);
        if (v < w.get(JAVA_LONG, s + MIN)) {
            w.set(JAVA_LONG, s + MIN, v);
        }
        if (v > w.get(JAVA_LONG, s + MAX)) {
            w.set(JAVA_LONG, s + MAX, v);
        }
        long b = memory.at(i, item + BUCKETS) + 8L * buckets.index(v);
        w.set(JAVA_LONG, b, w.get(JAVA_LONG, b) + n);
    }

    /** What a snapshot collects. */
    public record Totals(long count, long sum, long min, long max, long clamped, long[] bucketCounts) {}

    /**
     * Folds and reads every slice, each while it is stopped; with {@code reset}, zeroes what
     * it read in the same stop, so every record lands in exactly one snapshot.
     */
    public Totals collect(boolean reset) {
        MemorySegment w = memory.whole();
        long count = 0, sum = 0, min = Long.MAX_VALUE, max = Long.MIN_VALUE, clamped = 0;
        long[] counts = new long[buckets.count()];
        for (int i = 0; i < memory.slices(); i++) {
            memory.stop(i);
            try {
                fold(i);
                long s = memory.at(i, item + STATS);
                long c = w.get(JAVA_LONG, s + COUNT);
                count += c;
                sum += w.get(JAVA_LONG, s + SUM);
                clamped += w.get(JAVA_LONG, s + CLAMPED);
                if (c > 0) {
                    min = Math.min(min, w.get(JAVA_LONG, s + MIN));
                    max = Math.max(max, w.get(JAVA_LONG, s + MAX));
                }
                long b = memory.at(i, item + BUCKETS);
                for (int k = 0; k < counts.length; k++) {
                    counts[k] += w.get(JAVA_LONG, b + 8L * k);
                }
                if (reset) {
                    w.asSlice(s, BUCKETS - STATS + 8L * counts.length).fill((byte) 0);
                    w.set(JAVA_LONG, s + MIN, Long.MAX_VALUE);
                }
            } finally {
                memory.start(i);
            }
        }
        return new Totals(count, sum, count == 0 ? 0 : min, count == 0 ? 0 : max, clamped, counts);
    }

    /** Forbids further use. */
    public void close() {
        memory.close();
    }
}
