package io.github.rseq4j.internal.structures;

import io.github.rseq4j.internal.abi.BoundedStackLayout;
import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.abi.OpResult;
import io.github.rseq4j.internal.codegen.PerCpuOperation;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The engine of {@code PerCpuHistogram}: per CPU, two sample logs and the folded statistics.
 *
 * <p>Implementation notes. Recording several independent words (a bucket, the count, the
 * sum, min and max) in one critical section is impossible: a section commits one store,
 * and a restarted section must not re-apply stores it made before the abort. So a record
 * is one {@link PerCpuOperation#LOG_APPEND} of the value into the CPU's <em>active</em>
 * sample log (speculative store of the entry, commit of the log cursor), like a ring
 * write. Each CPU has two logs, interleaved: the cursor is {@code 16 * count + 8 * log},
 * so its bit 3 selects the active log and entry {@code k} of log {@code b} is word
 * {@code 2k + b} after the cursor. The statistics (buckets, count, sum, min, max, clamped) are guarded by a
 * per-CPU <em>fold lock</em> (a spin lock word in per-CPU memory, taken with a CAS); no
 * critical section reads or writes the statistics or the lock.
 *
 * <p>Folding without stopping. When a record finds its CPU's active log full, it takes
 * the fold lock of the CPU it runs on and switches the logs: the cursor goes from
 * {@code 16n + 8b} to {@code 8(1 - b)} (the other log, empty) with
 * {@link PerCpuOperation#COMPARE_INDEX_AND_STORE} pinned to that CPU. That commit proves
 * the thread was running on that CPU, so no other critical section of the slice was in
 * flight: one that had read the old cursor was preempted to let the switcher run, and the
 * kernel aborts it before it resumes; it restarts, reads the new cursor and appends to the
 * other log. From the switch on nothing writes the old log, whose {@code n} entries the
 * replaced cursor names, and the lock holder folds them into the statistics with plain
 * accesses while records keep going into the other log: no membarrier fence, no stopped
 * slice, no record sent to the fallback path. Switches happen only under the CPU's fold
 * lock and the holder folds the log it switched out before it unlocks, so a log that
 * becomes active again holds nothing anyone still needs. A record whose CPU's fold lock is
 * busy (another thread folding there, or a snapshot) adds itself to the statistics of the
 * first CPU whose lock it gets, as do {@code record(value, n)} and out-of-range values. If
 * the switch fails (the thread moved to another CPU), the value is added under the lock
 * anyway and a later record retries.
 *
 * <p>Snapshots take each CPU's fold lock, then stop its slice with the stop protocol
 * (the fence makes the active log and its cursor stable), fold the active log, empty it,
 * read (and with reset, zero) the statistics, restart the slice and unlock. A record is
 * therefore in a log, or folded, never both and never half, and a snapshot sees every
 * record whole in exactly one interval. Lock order: fold lock, then stop; nothing waits
 * for a fold lock while holding a stop, and a record never waits for one particular lock.
 *
 * <p>Per-CPU layout (one item, 64-byte aligned): the fold lock (a cache line of its own),
 * the cursor and the two interleaved logs after it ({@value #LOG_ENTRIES} entries
 * each), then {@code COUNT, SUM, MIN, MAX, CLAMPED}, then one word per bucket.
 * Zeroed memory is a valid empty state except MIN (Long.MAX_VALUE when empty).
 */
public final class HistogramEngine {
    /** Entries in each of a CPU's two sample logs. */
    public static final int LOG_ENTRIES = 256;

    private static final VarHandle LONG = JAVA_LONG.varHandle();
    /** Spins before a waiting snapshot or recorder starts yielding. */
    private static final int SPINS_BEFORE_YIELD = 64;
    /** Tries of a log switch whose cursor moved under it (records still appending). */
    private static final int SWITCH_TRIES = 4;

    private static final long LOCK = 0;
    private static final long CURSOR = 64;
    /** The cursor's bound: {@value #LOG_ENTRIES} entries of 16 bytes (one word of each log). */
    private static final long CURSOR_LIMIT = 16L * LOG_ENTRIES;
    private static final long STATS = CURSOR + 8 + CURSOR_LIMIT;
    private static final int COUNT = 0, SUM = 8, MIN = 16, MAX = 24, CLAMPED = 32;
    private static final long BUCKETS = STATS + 40;

    private final HistogramBuckets buckets;
    /** {@code buckets} when they are log-linear (a final class: a direct, inlined call in the fold), else null. */
    private final HistogramBuckets.LogLinear logLinear;
    private final long highest;
    private final SliceMemory memory;
    private final long item;
    private final long bytesPerCpu;

    public HistogramEngine(HistogramBuckets buckets) {
        this.buckets = buckets;
        this.logLinear = buckets instanceof HistogramBuckets.LogLinear l ? l : null;
        this.highest = buckets.highest();
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
        VarHandle.releaseFence();
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
     * the fast path; when the CPU's active log is full, a switch of the logs and a fold first.
     */
    public void record(long value) {
        if (value < 0 || value > highest) {
            recordLocked(value < 0 ? 0 : highest, 1, true);
            return;
        }
        long r = SliceOps.DEFAULT.run(PerCpuOperation.LOG_APPEND, memory, item + CURSOR, value, CURSOR_LIMIT, 0, 0,
                null);
        if (r < 0) {
            logFull(value, r);
        }
    }

    /** Records {@code value} {@code n} times (n >= 1) under a fold lock. */
    public void record(long value, long n) {
        if (n == 1) {
            record(value);
            return;
        }
        boolean clamped = value < 0 || value > highest;
        recordLocked(clamped ? (value < 0 ? 0 : highest) : value, n, clamped);
    }

    private void recordLocked(long v, long n, boolean clamped) {
        int i = lockSome(memory.hint());
        try {
            add(i, v, n);
            if (clamped) {
                long at = memory.at(i, item + STATS + CLAMPED);
                memory.whole().set(JAVA_LONG, at, memory.whole().get(JAVA_LONG, at) + n);
            }
        } finally {
            unlock(i);
        }
    }

    /** The append found the caller's active log full: switch and fold that CPU's logs if its lock is free. */
    private void logFull(long v, long r) {
        if (r != OpResult.FULL) {
            throw new IllegalStateException("sample log append returned " + OpResult.describe(r));
        }
        int cpu = memory.hint();
        int i = lockSome(cpu);
        try {
            if (i == cpu) {
                switchAndFold(i);
            }
            add(i, v, 1);
        } finally {
            unlock(i);
        }
    }

    /**
     * Makes slice {@code i}'s other log the active one, with a commit pinned to CPU
     * {@code i}, and folds the one it replaced; the caller holds {@code i}'s fold lock. Does
     * nothing when the caller is no longer on that CPU.
     */
    private void switchAndFold(int i) {
        long at = memory.at(i, item + CURSOR);
        long cursor = (long) LONG.getAcquire(memory.whole(), at);
        for (int tries = 0; tries < SWITCH_TRIES; tries++) {
            long r = SliceOps.DEFAULT.run(PerCpuOperation.COMPARE_INDEX_AND_STORE, memory, item + CURSOR, i, cursor,
                    (cursor & 8) ^ 8, 0, null);
            if (r >= 0) {
                fold(i, cursor);
                return;
            }
            long now = (long) LONG.getAcquire(memory.whole(), at);
            if (now == cursor) {
                return;     // not on CPU i any more
            }
            cursor = now;   // appends went on: try again with the new count
        }
    }

    /**
     * Folds the log that {@code cursor} describes in slice {@code i} into its statistics;
     * the caller holds the fold lock and nothing appends to that log (it was switched out,
     * or the slice is stopped). The count, sum, min and max of the log are gathered in
     * locals and written once; each entry costs one bucket increment.
     */
    private void fold(int i, long cursor) {
        int n = (int) (cursor >>> 4);
        if (n == 0) {
            return;
        }
        MemorySegment w = memory.whole();
        long entries = memory.at(i, item + CURSOR + 8 + (cursor & 8));
        long sum = 0, min = Long.MAX_VALUE, max = Long.MIN_VALUE;
        long bucketBase = memory.at(i, item + BUCKETS);
        for (int k = 0; k < n; k++) {
            long v = w.get(JAVA_LONG, entries + 16L * k);
            sum += v;
            min = Math.min(min, v);
            max = Math.max(max, v);
            long b = bucketBase + 8L * bucketIndex(v);
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
    }

    private int bucketIndex(long v) {
        return logLinear != null ? logLinear.index(v) : buckets.index(v);
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
        long b = memory.at(i, item + BUCKETS) + 8L * bucketIndex(v);
        w.set(JAVA_LONG, b, w.get(JAVA_LONG, b) + n);
    }

    // ------------------------------------------------------------------ fold locks

    private boolean tryLock(int i) {
        return LONG.compareAndSet(memory.whole(), memory.at(i, item + LOCK), 0L, 1L);
    }

    /** Takes fold lock {@code i}, waiting while another thread holds it. */
    private void lock(int i) {
        for (int spins = 0; !tryLock(i); spins++) {
            backOff(spins);
        }
    }

    /** Takes some fold lock, {@code hint}'s if free, never waiting for one in particular; returns its index. */
    private int lockSome(int hint) {
        int slices = memory.slices();
        for (int spins = 0; ; spins++) {
            for (int k = 0; k < slices; k++) {
                int i = hint + k < slices ? hint + k : hint + k - slices;
                if (tryLock(i)) {
                    return i;
                }
            }
            backOff(spins);
        }
    }

    private void unlock(int i) {
        LONG.setRelease(memory.whole(), memory.at(i, item + LOCK), 0L);
    }

    private static void backOff(int spins) {
        if (spins < SPINS_BEFORE_YIELD) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }

    /** What a snapshot collects. */
    public record Totals(long count, long sum, long min, long max, long clamped, long[] bucketCounts) {}

    /**
     * Folds and reads every slice, each under its fold lock and stopped; with {@code reset},
     * zeroes what it read in the same hold, so every record lands in exactly one snapshot.
     */
    public Totals collect(boolean reset) {
        MemorySegment w = memory.whole();
        long count = 0, sum = 0, min = Long.MAX_VALUE, max = Long.MIN_VALUE, clamped = 0;
        long[] counts = new long[buckets.count()];
        for (int i = 0; i < memory.slices(); i++) {
            lock(i);
            try {
                memory.stop(i);
                try {
                    long cursorAt = memory.at(i, item + CURSOR);
                    long cursor = w.get(JAVA_LONG, cursorAt);
                    fold(i, cursor);
                    w.set(JAVA_LONG, cursorAt, cursor & 8);     // the same log, empty
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
            } finally {
                unlock(i);
            }
        }
        return new Totals(count, sum, count == 0 ? 0 : min, count == 0 ? 0 : max, clamped, counts);
    }

    /** Forbids further use. */
    public void close() {
        memory.close();
    }
}
