package io.github.rseq4j.internal.structures;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.codegen.PerCpuOperation;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;
import io.github.rseq4j.internal.runtime.RuntimeContext;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.lang.ref.Reference;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The engine of {@code PerCpuHistogram}: per CPU, a {@link SampleLogRing} of sample logs and
 * a shard of the folded statistics.
 *
 * <p><b>Implementation notes.</b> A record is one {@link PerCpuOperation#LOG_APPEND} of the
 * value into the CPU's active sample log; the engine is a {@link SampleLogRing} of {@value #LOGS} logs per CPU,
 * {@value #LOG_ENTRIES} entries each, switched without a stop and without a lock (the
 * protocol, and why no record is lost or folded twice, is in {@link SampleLogRing}'s notes).
 * The statistics (buckets, count, sum, min, max, clamped) live in <em>shards</em>, one per
 * CPU (two on a one-CPU machine), each guarded by a <em>fold lock</em> (a spin lock word in
 * per-CPU memory, taken with a CAS); a snapshot adds the shards up, so anything may be
 * folded into any shard. No critical section reads or writes the statistics, the locks or
 * the log states, so the shards are plain {@code long[]} arrays on the heap: a fold's bucket
 * increment is an array element with one bounds check, about half the cost of a memory
 * segment access.
 *
 * <p>Recorders never wait for a snapshot or a switcher. A switcher folds the CPU's FULL logs
 * into the first shard whose lock it gets with one {@code tryLock} pass and leaves them for
 * later (a later switch, fold or snapshot) when all are taken. Only when every other log of
 * the CPU is CLAIMED, FULL or FOLDING after a few rounds does a record add itself to the
 * statistics of the first shard whose lock it gets, as do {@code record(value, n)} and
 * out-of-range values; that may wait only while every shard lock is held at once.
 * Snapshots run one at a time and hold one fold lock at a time, and the other holders
 * (folders, direct records) do bounded work without waiting, so with at least two shards a
 * recorder never waits for a snapshot, nor for a switcher (a switcher holds no lock while it
 * switches).
 *
 * <p>Snapshots visit the shards in turn. For shard {@code i} (a CPU's) a snapshot takes its
 * fold lock, drains the CPU's ring into it ({@link SampleLogRing#drain}: the slice stopped
 * while the active log is folded and emptied, then the FULL logs), reads (and with reset,
 * zeroes) the shard and releases the lock. Every record is in a log or in exactly one
 * shard, never both and never half (a log is folded whole under one lock, a direct record
 * is added whole under one lock), and each shard is read and zeroed whole under its lock, so
 * every record is whole in exactly one interval. A record that completed before
 * {@code collect} began is in it, unless another thread was folding its log at that moment
 * into a shard the snapshot had already read: then it is in the next interval. Lock order: a
 * fold lock, then a stop; a recorder waits for no lock while holding one, and never for one
 * particular lock.
 *
 * <p>Per-CPU layout (one item, 64-byte aligned): the fold lock (a cache line of its own; on a
 * one-CPU machine slice 0 holds the second shard's lock in the next word), then the ring
 * (its state word's line, the cursor and the interleaved logs). A shard:
 * {@code COUNT, SUM, MIN, MAX, CLAMPED, DIRECT} (DIRECT counts records that found their log
 * full and went to a shard directly: a diagnostic), then one element per bucket; MIN is
 * Long.MAX_VALUE and MAX Long.MIN_VALUE when empty.
 */
public final class HistogramEngine extends SampleLogRing {
    /** Entries in each of a CPU's sample logs. */
    public static final int LOG_ENTRIES = 256;
    /** Sample logs per CPU (a power of two). */
    public static final int LOGS = SampleLogRing.LOGS;

    private static final VarHandle LONG = JAVA_LONG.varHandle();
    /** Spins before a waiting snapshot or recorder starts yielding. */
    private static final int SPINS_BEFORE_YIELD = 64;
    /** Rounds of switch, fold and append before a record with a full log goes to a shard directly. */
    private static final int FULL_TRIES = 4;

    private static final long LOCK = 0;
    private static final long RING = 64;
    /** Words per sample-log entry: a value. */
    private static final int WORDS_PER_ENTRY = 1;
    /** Per-CPU memory bytes of one histogram: its fold lock's line and its ring (the README states the figure). */
    public static final long ITEM_BYTES = RING + SampleLogRing.bytes(WORDS_PER_ENTRY, LOG_ENTRIES);
    /** Elements of a shard. */
    private static final int COUNT = 0, SUM = 1, MIN = 2, MAX = 3, CLAMPED = 4, DIRECT = 5, BUCKETS = 6;

    private final HistogramBuckets buckets;
    /** Sub-bucket bits of log-linear buckets (the fold's index in line), or -1 for other buckets. */
    private final int precision;
    private final long highest;
    private final long item;
    private final long bytesPerCpu;
    /** The statistics: shard {@code k} for {@code k < slices} is slice {@code k}'s, guarded by its fold lock. */
    private final long[][] shards;
    /** The fold of a log into shard {@code k}, one object per shard. */
    private final SampleLogRing.Fold[] shardFolds;
    /** Held by the snapshot in progress: snapshots run one at a time. */
    private final Object collecting = new Object();

    /**
     * An empty histogram engine.
     *
     * @param buckets how values map to buckets
     * @param context the runtime's collaborators: the operations every record runs
     */
    public HistogramEngine(HistogramBuckets buckets, RuntimeContext context) {
        this(buckets, context, SwitchPauses.NONE);
    }

    /**
     * An empty histogram engine whose switch protocol pauses where {@code pauses} says (tests).
     *
     * @param buckets how values map to buckets
     * @param context the runtime's collaborators: the operations every record runs
     * @param pauses  called at each {@link SwitchPauses.Point} of the switch protocol
     */
    HistogramEngine(HistogramBuckets buckets, RuntimeContext context, SwitchPauses pauses) {
        SliceMemory memory = new SliceMemory(IndexField.CPU_ID, ITEM_BYTES + 64, context.fences());
        long off = memory.allocateFresh(ITEM_BYTES, 64);
        if (off < 0) {
            throw new IllegalStateException("no room for the sample logs in per-CPU memory");
        }
        super(memory, off + RING, SliceOps.of(context), pauses);
        this.item = off;
        this.buckets = buckets;
        this.precision = buckets instanceof HistogramBuckets.LogLinear l ? l.precision() : -1;
        this.highest = buckets.highest();
        int shardLength = BUCKETS + buckets.count();
        this.shards = new long[Math.max(2, memory.slices())][];
        this.shardFolds = new SampleLogRing.Fold[shards.length];
        for (int k = 0; k < shards.length; k++) {
            shards[k] = new long[shardLength];
            emptyStatistics(shards[k]);
            int shard = k;
            shardFolds[k] = (w, first, n) -> fold(w, first, n, shard);
        }
        // per-CPU memory + this CPU's share of the shards (array headers included)
        this.bytesPerCpu = ITEM_BYTES + (16 + 8L * shardLength) * shards.length / memory.slices();
        VarHandle.releaseFence();
    }

    public HistogramBuckets buckets() {
        return buckets;
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return {@code true} once records and snapshots are refused
     */
    public boolean isClosed() {
        return memory.isClosed();
    }

    /**
     * Checks that the engine is open; every public entry of the histogram calls it first, so
     * that nothing touches the memory once it was given back.
     *
     * @throws IllegalStateException when it was closed
     */
    public void checkOpen() {
        memory.checkOpen();
    }

    /** Bytes per CPU: its per-CPU memory (pages are touched as they are used) and its shard of the statistics. */
    public long bytesPerCpu() {
        return bytesPerCpu;
    }

    public int slices() {
        return memory.slices();
    }

    /**
     * Records {@code value} (clamped to {@code [0, highest]}) once: one critical section on
     * the fast path; when the CPU's active log is full, a switch to another log, a fold of
     * the full ones and the append again.
     */
    public void record(long value) {
        if (Long.compareUnsigned(value, highest) > 0) {
            recordLocked(value < 0 ? 0 : highest, 1, CLAMPED);
            return;
        }
        long r = append(value);
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
        recordLocked(clamped ? (value < 0 ? 0 : highest) : value, n, clamped ? CLAMPED : -1);
    }

    /**
     * Adds {@code v} {@code n} times to a shard, and {@code n} to the shard's word
     * {@code also} (CLAMPED, DIRECT) unless it is -1: waits only while every shard lock is held.
     */
    private void recordLocked(long v, long n, int also) {
        int k = lockSome(memory.hint());
        try {
            long[] s = shards[k];
            s[COUNT] += n;
            s[SUM] += v * n;
            if (v < s[MIN]) {
                s[MIN] = v;
            }
            if (v > s[MAX]) {
                s[MAX] = v;
            }
            s[BUCKETS + bucketIndex(v)] += n;
            if (also >= 0) {
                s[also] += n;
            }
        } finally {
            unlock(k);
        }
    }

    /**
     * The append found the caller's active log full: switch that CPU's logs (or see that
     * another thread did), fold its full logs if a fold lock is free, append again; after a
     * few rounds without success (no free log: the others claimed by preempted switchers,
     * or full and not yet folded), add the value to a shard under its fold lock.
     */
    private void logFull(long v, long r) {
        for (int tries = 0; tries < FULL_TRIES; tries++) {
            makeRoom(r);
            r = append(v);
            if (r >= 0) {
                return;
            }
        }
        recordLocked(v, 1, DIRECT);
    }

    /**
     * Folds slice {@code i}'s FULL logs, if any, into the first shard whose lock is free,
     * without waiting: when every lock is taken, they stay FULL for a later fold.
     *
     * @return whether it folded one
     */
    @Override
    int wordsPerEntry() {
        return WORDS_PER_ENTRY;
    }

    @Override
    int entriesPerLog() {
        return LOG_ENTRIES;
    }

    @Override
    boolean tryFoldFull(int i) {
        if (!hasFull(i)) {
            return false;
        }
        int k = tryLockAny(i);
        if (k < 0) {
            return false;
        }
        try {
            return foldFull(i, shardFolds[k]);
        } finally {
            unlock(k);
        }
    }

    /**
     * Folds {@code n} entries of a log (entry {@code x} at {@code first + VALUE_STRIDE * x}) into
     * shard {@code k}; the caller holds {@code k}'s fold lock and nothing appends to that log.
     * The count, sum, min and max are gathered in locals and written once; each entry costs
     * one bucket increment.
     */
    private void fold(MemorySegment w, long first, int n, int k) {
        if (n == 0) {
            return;
        }
        long[] s = shards[k];
        long sum = 0, min = s[MIN], max = s[MAX];
        int p = precision;
        if (p >= 0) {
            for (int x = 0; x < n; x++) {
                long v = w.get(JAVA_LONG, first + SampleLogRing.VALUE_STRIDE * x);
                sum += v;
                if (v < min) {
                    min = v;    // rarely taken: a branch, not a dependency chain of conditional moves
                }
                if (v > max) {
                    max = v;
                }
                s[BUCKETS + HistogramBuckets.LogLinear.index(v, p)]++;
            }
        } else {
            for (int x = 0; x < n; x++) {
                long v = w.get(JAVA_LONG, first + SampleLogRing.VALUE_STRIDE * x);
                sum += v;
                if (v < min) {
                    min = v;
                }
                if (v > max) {
                    max = v;
                }
                s[BUCKETS + buckets.index(v)]++;
            }
        }
        s[COUNT] += n;
        s[SUM] += sum;
        s[MIN] = min;
        s[MAX] = max;
    }

    private int bucketIndex(long v) {
        return precision >= 0 ? HistogramBuckets.LogLinear.index(v, precision) : buckets.index(v);
    }

    private static void emptyStatistics(long[] s) {
        Arrays.fill(s, 0L);
        s[MIN] = Long.MAX_VALUE;
        s[MAX] = Long.MIN_VALUE;
    }

    // ------------------------------------------------------------------ locks

    /** The lock word of shard {@code k}: slice {@code k}'s, or for the second shard of a one-CPU machine the next word of slice 0's. */
    private long lockAt(int k) {
        return k < memory.slices() ? memory.at(k, item + LOCK) : memory.at(0, item + LOCK + 8);
    }

    private boolean tryLock(int k) {
        return LONG.compareAndSet(memory.whole(), lockAt(k), 0L, 1L);
    }

    /** Takes shard {@code k}'s lock, waiting while another thread holds it (snapshots only). */
    private void lock(int k) {
        for (int spins = 0; !tryLock(k); spins++) {
            backOff(spins);
        }
    }

    /** Takes the first free fold lock from {@code hint}'s on, in one pass; its index, or -1 when all are held. */
    private int tryLockAny(int hint) {
        int n = shards.length;
        for (int x = 0; x < n; x++) {
            int k = hint + x < n ? hint + x : hint + x - n;
            if (tryLock(k)) {
                return k;
            }
        }
        return -1;
    }

    /** Takes some fold lock, {@code hint}'s if free, never waiting for one in particular; returns its index. */
    private int lockSome(int hint) {
        for (int spins = 0; ; spins++) {
            int k = tryLockAny(hint);
            if (k >= 0) {
                return k;
            }
            backOff(spins);
        }
    }

    private void unlock(int k) {
        LONG.setRelease(memory.whole(), lockAt(k), 0L);
        Reference.reachabilityFence(this);
    }

    private static void backOff(int spins) {
        if (spins < SPINS_BEFORE_YIELD) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }

    /** What a snapshot collects. */
    public record Totals(long count, long sum, long min, long max, long clamped, long[] bucketCounts, long direct) {}

    /**
     * Folds every log and reads every shard, one shard at a time under its fold lock, each
     * slice's active log while the slice is stopped; with {@code reset}, zeroes each shard in
     * the same hold, so every record lands whole in exactly one snapshot (see the class notes).
     */
    public Totals collect(boolean reset) {
        memory.checkOpen();
        long count = 0, sum = 0, min = Long.MAX_VALUE, max = Long.MIN_VALUE, clamped = 0, direct = 0;
        long[] counts = new long[buckets.count()];
        synchronized (collecting) {
            for (int k = 0; k < shards.length; k++) {
                lock(k);
                try {
                    if (k < memory.slices()) {
                        drain(k, shardFolds[k]);
                    }
                    long[] s = shards[k];
                    count += s[COUNT];
                    sum += s[SUM];
                    clamped += s[CLAMPED];
                    direct += s[DIRECT];
                    min = Math.min(min, s[MIN]);
                    max = Math.max(max, s[MAX]);
                    for (int b = 0; b < counts.length; b++) {
                        counts[b] += s[BUCKETS + b];
                    }
                    if (reset) {
                        emptyStatistics(s);
                    }
                } finally {
                    unlock(k);
                }
            }
        }
        return new Totals(count, sum, count == 0 ? 0 : min, count == 0 ? 0 : max, clamped, counts, direct);
    }

    /**
     * Forbids further use and gives the per-CPU memory (sample logs, lock, state and cursor
     * words) back, as {@link SliceMemory#close()} does; the heap shards go with the engine.
     * Idempotent.
     */
    public void close() {
        memory.close();
    }
}
