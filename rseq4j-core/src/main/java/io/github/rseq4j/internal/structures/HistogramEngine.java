package io.github.rseq4j.internal.structures;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.abi.OpResult;
import io.github.rseq4j.internal.codegen.PerCpuOperation;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The engine of {@code PerCpuHistogram}: per CPU, a ring of sample logs and a shard of the
 * folded statistics.
 *
 * <p>Implementation notes. Recording several independent words (a bucket, the count, the
 * sum, min and max) in one critical section is impossible: a section commits one store,
 * and a restarted section must not re-apply stores it made before the abort. So a record
 * is one {@link PerCpuOperation#LOG_APPEND} of the value into the CPU's <em>active</em>
 * sample log (speculative store of the entry, commit of the log cursor), like a ring
 * write. Each CPU has {@value #LOGS} logs, interleaved: the cursor is
 * {@code STEP * count + 8 * log} ({@code STEP = 8 * LOGS}), so its low bits select the
 * active log and entry {@code k} of log {@code b} is word {@code LOGS * k + b} after the
 * cursor. Each CPU also has a <em>shard</em> of the statistics (buckets, count, sum, min,
 * max, clamped) guarded by a <em>fold lock</em> (a spin lock word in per-CPU memory, taken
 * with a CAS); a snapshot adds the shards up, so anything may be folded into any shard. No
 * critical section reads or writes the statistics, the locks or the log states, so the
 * shards are plain {@code long[]} arrays on the heap: a fold's bucket increment is an array
 * element with one bounds check, about half the cost of a memory segment access.
 *
 * <p>Log states (one word per log): FREE (empty, may become active), ACTIVE (the cursor's
 * log, or claimed by a switcher that is about to make it so), FULL ({@value #LOG_ENTRIES}
 * entries waiting to be folded), FOLDING (a folder claimed it). FREE to ACTIVE is a
 * switcher's CAS (its claim); ACTIVE to FULL (the log it switched out) or back to FREE (a
 * claim whose switch did not commit) is that switcher's store; FULL to FOLDING (a CAS) and
 * FOLDING to FREE happen only under some shard's fold lock.
 *
 * <p>Switching without stopping and without a lock. When a record finds its CPU's active
 * log {@code b} full, it claims a FREE log {@code j} and moves the cursor from
 * {@code STEP * LOG_ENTRIES + 8b} to {@code 8j} (that log, empty) with
 * {@link PerCpuOperation#COMPARE_INDEX_AND_STORE} pinned to that CPU. That commit proves
 * the thread was running on that CPU, so no other critical section of the slice was in
 * flight: one that had read the old cursor was preempted to let the switcher run, and the
 * kernel aborts it before it resumes; it restarts, reads the new cursor and appends to the
 * new log. Of several switchers of one full cursor exactly one commits (the compare); the
 * others give their claims back. The winner marks {@code b} FULL, then folds the CPU's
 * FULL logs under the first fold lock it gets (usually its CPU's), claiming each with a
 * CAS, and marks them FREE. So a thread preempted while it switches or folds holds one log
 * of the ring and no lock a recorder needs: only when every other log of a CPU is still
 * claimed, FULL or FOLDING does a record add itself to the statistics of the first shard
 * whose lock it gets, as do {@code record(value, n)} and out-of-range values.
 *
 * <p>Snapshots take every fold lock (in index order), so no fold is in progress and no
 * shard changes but by the snapshot; then, per CPU, they stop its slice (the fence makes
 * the active log and its cursor stable), fold the active log, empty it and restart the
 * slice; then they fold the CPU's FULL logs and wait (spinning, then yielding) while a log
 * is ACTIVE without being the cursor's: a switcher between its claim and its give-back, or
 * between its commit and its FULL mark, whose log may hold records committed before the
 * stop. Switchers hold no lock while they do that, so the wait ends. Then the snapshot
 * reads (and with reset, zeroes) every shard and releases the fold locks. A record is
 * therefore in a log, or folded, never both and never half, and a snapshot sees every
 * record whole in exactly one interval. Lock order: fold locks by index, then a stop; a
 * recorder waits for no lock while holding one, and never for one particular lock.
 *
 * <p>Per-CPU layout (one item, 64-byte aligned): the fold lock (a cache line of its own),
 * the log states (a line), the cursor and the interleaved logs after
 * it ({@value #LOG_ENTRIES} entries each). Zeroed memory is a valid empty state except log
 * 0's state (ACTIVE). A shard: {@code COUNT, SUM, MIN, MAX, CLAMPED, DIRECT} (DIRECT counts
 * records that found their log full and went to a shard directly: a diagnostic), then one
 * element per bucket; MIN is Long.MAX_VALUE and MAX Long.MIN_VALUE when empty.
 */
public final class HistogramEngine {
    /** Entries in each of a CPU's sample logs. */
    public static final int LOG_ENTRIES = 256;
    /** Sample logs per CPU (a power of two). */
    public static final int LOGS = 4;

    private static final VarHandle LONG = JAVA_LONG.varHandle();
    /** Spins before a waiting snapshot or recorder starts yielding. */
    private static final int SPINS_BEFORE_YIELD = 64;
    /** Rounds of switch, fold and append before a record with a full log goes to a shard directly. */
    private static final int FULL_TRIES = 4;

    private static final long FREE = 0, ACTIVE = 1, FULL = 2, FOLDING = 3;

    private static final long LOCK = 0;
    private static final long STATE = 64;
    private static final long CURSOR = 128;
    /** Bytes the cursor moves per entry: one word of each log. */
    private static final long STEP = 8L * LOGS;
    /** The cursor's bound: {@value #LOG_ENTRIES} entries of every log. */
    private static final long CURSOR_LIMIT = STEP * LOG_ENTRIES;
    private static final long ITEM_BYTES = CURSOR + 8 + CURSOR_LIMIT;
    /** Elements of a shard. */
    private static final int COUNT = 0, SUM = 1, MIN = 2, MAX = 3, CLAMPED = 4, DIRECT = 5, BUCKETS = 6;

    private final HistogramBuckets buckets;
    /** Sub-bucket bits of log-linear buckets (the fold's index in line), or -1 for other buckets. */
    private final int precision;
    private final long highest;
    private final SliceMemory memory;
    private final long item;
    private final long bytesPerCpu;
    /** The statistics, one shard per slice, each guarded by that slice's fold lock. */
    private final long[][] shards;

    public HistogramEngine(HistogramBuckets buckets) {
        this.buckets = buckets;
        this.precision = buckets instanceof HistogramBuckets.LogLinear l ? l.precision() : -1;
        this.highest = buckets.highest();
        int shardLength = BUCKETS + buckets.count();
        this.bytesPerCpu = ITEM_BYTES + 16 + 8L * shardLength;    // per-CPU memory + the shard (array header)
        this.memory = new SliceMemory(IndexField.CPU_ID, ITEM_BYTES + 64);
        long off = memory.allocateFresh(ITEM_BYTES, 64);
        if (off < 0) {
            throw new IllegalStateException("no room for the sample logs in per-CPU memory");
        }
        this.item = off;
        this.shards = new long[memory.slices()][];
        for (int i = 0; i < memory.slices(); i++) {
            shards[i] = new long[shardLength];
            emptyStatistics(shards[i]);
            memory.whole().set(JAVA_LONG, memory.at(i, item + STATE), ACTIVE);
        }
        VarHandle.releaseFence();
    }

    public HistogramBuckets buckets() {
        return buckets;
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

    /** One critical section: appends {@code v} to the caller's CPU's active log; the index, or FULL. */
    private long append(long v) {
        return SliceOps.DEFAULT.run(PerCpuOperation.LOG_APPEND, memory, item + CURSOR, v, CURSOR_LIMIT, STEP, 0, null);
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

    /** Adds {@code v} {@code n} times to a shard, and {@code n} to the shard's word {@code also} (CLAMPED, DIRECT) unless it is -1. */
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
     * another thread did), fold its full logs, append again; after a few rounds without
     * success (no free log: the others claimed by preempted switchers, or full and not yet
     * folded), add the value to a shard under its fold lock.
     */
    private void logFull(long v, long r) {
        if (r != OpResult.FULL) {
            throw new IllegalStateException("sample log append returned " + OpResult.describe(r));
        }
        for (int tries = 0; tries < FULL_TRIES; tries++) {
            int cpu = memory.hint();
            boolean switched = trySwitch(cpu);
            boolean folded = foldFull(cpu);
            if (!switched && !(folded && trySwitch(cpu))) {
                Thread.onSpinWait();
            }
            r = append(v);
            if (r >= 0) {
                return;
            }
        }
        recordLocked(v, 1, DIRECT);
    }

    /**
     * Makes a free log of slice {@code i} the active one, with a commit pinned to CPU
     * {@code i}, and marks the one it replaced FULL. Returns whether it switched: not when
     * the active log is not full (someone switched), no log is free, or the caller is no
     * longer on CPU {@code i}. Holds no lock: the log it switches to is claimed with a CAS
     * (FREE to ACTIVE) and given back if the switch does not commit.
     */
    private boolean trySwitch(int i) {
        MemorySegment w = memory.whole();
        // acquire (ldar on aarch64): the entries before the cursor, which LOG_APPEND's stlr published
        long cursor = (long) LONG.getAcquire(w, memory.at(i, item + CURSOR));
        if (cursor < CURSOR_LIMIT) {
            return false;
        }
        int b = activeLog(cursor);
        long states = memory.at(i, item + STATE);
        int j = -1;
        for (int k = 1; k < LOGS && j < 0; k++) {
            int c = (b + k) & (LOGS - 1);
            long at = states + 8L * c;
            if ((long) LONG.getAcquire(w, at) == FREE && LONG.compareAndSet(w, at, FREE, ACTIVE)) {
                j = c;
            }
        }
        if (j < 0) {
            return false;
        }
        boolean switched = false;
        try {
            switched = SliceOps.DEFAULT.run(PerCpuOperation.COMPARE_INDEX_AND_STORE, memory, item + CURSOR, i, cursor,
                    8L * j, 0, null) >= 0;
        } finally {
            LONG.setRelease(w, states + 8L * (switched ? b : j), switched ? FULL : FREE);
        }
        return switched;
    }

    private static int activeLog(long cursor) {
        return (int) ((cursor & (STEP - 1)) >>> 3);
    }

    /** Folds slice {@code i}'s FULL logs, if any, into the first shard whose lock it gets; returns whether it folded one. */
    private boolean foldFull(int i) {
        MemorySegment w = memory.whole();
        long states = memory.at(i, item + STATE);
        boolean any = false;
        for (int j = 0; j < LOGS; j++) {
            any |= (long) LONG.getAcquire(w, states + 8L * j) == FULL;
        }
        if (!any) {
            return false;
        }
        boolean folded = false;
        int k = lockSome(i);
        try {
            for (int j = 0; j < LOGS; j++) {
                long at = states + 8L * j;
                if ((long) LONG.getAcquire(w, at) == FULL && LONG.compareAndSet(w, at, FULL, FOLDING)) {
                    fold(i, j, LOG_ENTRIES, k);
                    LONG.setRelease(w, at, FREE);
                    folded = true;
                }
            }
        } finally {
            unlock(k);
        }
        return folded;
    }

    /**
     * Folds the first {@code n} entries of log {@code j} of slice {@code i} into shard
     * {@code k}; the caller holds {@code k}'s fold lock and nothing appends to that log. The
     * count, sum, min and max are gathered in locals and written once; each entry costs one
     * bucket increment.
     */
    private void fold(int i, int j, int n, int k) {
        if (n == 0) {
            return;
        }
        MemorySegment w = memory.whole();
        long e = memory.at(i, item + CURSOR + 8 + 8L * j);
        long[] s = shards[k];
        long sum = 0, min = s[MIN], max = s[MAX];
        int p = precision;
        if (p >= 0) {
            for (int x = 0; x < n; x++) {
                long v = w.get(JAVA_LONG, e + STEP * x);
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
                long v = w.get(JAVA_LONG, e + STEP * x);
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

    private boolean tryLock(long at) {
        return LONG.compareAndSet(memory.whole(), at, 0L, 1L);
    }

    /** Takes the lock word at {@code at}, waiting while another thread holds it. */
    private void lock(long at) {
        for (int spins = 0; !tryLock(at); spins++) {
            backOff(spins);
        }
    }

    /** Takes some fold lock, {@code hint}'s if free, never waiting for one in particular; returns its index. */
    private int lockSome(int hint) {
        int slices = memory.slices();
        for (int spins = 0; ; spins++) {
            for (int k = 0; k < slices; k++) {
                int i = hint + k < slices ? hint + k : hint + k - slices;
                if (tryLock(memory.at(i, item + LOCK))) {
                    return i;
                }
            }
            backOff(spins);
        }
    }

    private void unlock(int k) {
        LONG.setRelease(memory.whole(), memory.at(k, item + LOCK), 0L);
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
     * Folds every log and reads every shard under all fold locks, each slice's active log
     * while the slice is stopped; with {@code reset}, zeroes what it read in the same hold, so
     * every record lands in exactly one snapshot.
     */
    public Totals collect(boolean reset) {
        MemorySegment w = memory.whole();
        int slices = memory.slices();
        long count = 0, sum = 0, min = Long.MAX_VALUE, max = Long.MIN_VALUE, clamped = 0, direct = 0;
        long[] counts = new long[buckets.count()];
        int locked = 0;
        try {
            for (; locked < slices; locked++) {
                lock(memory.at(locked, item + LOCK));
            }
            for (int i = 0; i < slices; i++) {
                long cursorAt = memory.at(i, item + CURSOR);
                memory.stop(i);
                try {
                    long cursor = w.get(JAVA_LONG, cursorAt);
                    int b = activeLog(cursor);
                    fold(i, b, (int) (cursor / STEP), i);
                    w.set(JAVA_LONG, cursorAt, 8L * b);     // the same log, empty
                } finally {
                    memory.start(i);
                }
                long states = memory.at(i, item + STATE);
                for (int j = 0; j < LOGS; j++) {
                    long at = states + 8L * j;
                    for (int spins = 0; ; spins++) {
                        long state = (long) LONG.getAcquire(w, at);
                        if (state == FULL) {
                            fold(i, j, LOG_ENTRIES, i);
                            LONG.setRelease(w, at, FREE);
                        } else if (state == FOLDING) {
                            throw new IllegalStateException("a log is being folded while every fold lock is held");
                        } else if (state == ACTIVE && activeLog((long) LONG.getAcquire(w, cursorAt)) != j) {
                            backOff(spins);     // a switcher between its claim or commit and its mark
                            continue;
                        }
                        break;
                    }
                }
            }
            for (long[] s : shards) {
                count += s[COUNT];
                sum += s[SUM];
                clamped += s[CLAMPED];
                direct += s[DIRECT];
                min = Math.min(min, s[MIN]);
                max = Math.max(max, s[MAX]);
                for (int k = 0; k < counts.length; k++) {
                    counts[k] += s[BUCKETS + k];
                }
                if (reset) {
                    emptyStatistics(s);
                }
            }
        } finally {
            for (int i = 0; i < locked; i++) {
                unlock(i);
            }
        }
        return new Totals(count, sum, count == 0 ? 0 : min, count == 0 ? 0 : max, clamped, counts, direct);
    }

    /** Forbids further use. */
    public void close() {
        memory.close();
    }
}
