package io.github.rseq4j.internal.structures;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.abi.OpResult;
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
 * The engine of {@code PerCpuHistogram}: per CPU, a ring of sample logs and a shard of the
 * folded statistics.
 *
 * <p><b>Implementation notes.</b> Recording several independent words (a bucket, the count, the
 * sum, min and max) in one critical section is impossible: a section commits one store,
 * and a restarted section must not re-apply stores it made before the abort. So a record
 * is one {@link PerCpuOperation#LOG_APPEND} of the value into the CPU's <em>active</em>
 * sample log (speculative store of the entry, commit of the log cursor), like a ring
 * write. Each CPU has {@value #LOGS} logs, interleaved: the cursor is
 * {@code STEP * count + 8 * log} ({@code STEP = 8 * LOGS}), so its low bits select the
 * active log and entry {@code k} of log {@code b} is word {@code LOGS * k + b} after the
 * cursor. The statistics (buckets, count, sum, min, max, clamped) live in <em>shards</em>,
 * one per CPU (two on a one-CPU machine), each guarded by a <em>fold lock</em> (a spin lock
 * word in per-CPU memory, taken with a CAS); a snapshot adds the shards up, so anything may
 * be folded into any shard. No critical section reads or writes the statistics, the locks
 * or the log states, so the shards are plain {@code long[]} arrays on the heap: a fold's
 * bucket increment is an array element with one bounds check, about half the cost of a
 * memory segment access.
 *
 * <p>Log states: FREE (empty, may become active), ACTIVE (the cursor's log, or the log a
 * committed switch left and whose FULL mark is still to come), CLAIMED(b) (a switcher
 * claimed it to replace log {@code b}), FULL ({@value #LOG_ENTRIES} entries waiting to be
 * folded), FOLDING (a folder claimed it). The states of a CPU's logs are 4-bit fields of
 * one <em>state word</em> whose upper 48 bits count its changes; every transition is a CAS
 * of the whole word, so a stale CAS never succeeds (no ABA) and a switch's two marks are
 * one atomic step.
 *
 * <p>Switching without stopping and without a lock. When a record finds its CPU's active
 * log {@code b} full, it claims a FREE log {@code j} (FREE to CLAIMED(b)) and moves the
 * cursor from {@code STEP * LOG_ENTRIES + 8b} to {@code 8j} (that log, empty) with
 * {@link PerCpuOperation#COMPARE_INDEX_AND_STORE} pinned to that CPU. That commit proves
 * the thread was running on that CPU, so no other critical section of the slice was in
 * flight: one that had read the old cursor was preempted to let the switcher run, and the
 * kernel aborts it before it resumes; it restarts, reads the new cursor and appends to the
 * new log. Of several switchers of one full cursor exactly one commits (the compare); the
 * others give their claims back (CLAIMED to FREE). The commit is then <em>settled</em>: in
 * one CAS, {@code j} CLAIMED(b) becomes ACTIVE and {@code b} FULL. A switcher settles before
 * it claims, but it may have read the cursor in an earlier visit of {@code b}: when {@code b}
 * has since been switched to again and filled, its compare succeeds before that switch was
 * settled, leaving a chain ({@code j} CLAIMED(b), {@code b} CLAIMED(c), {@code c} ACTIVE)
 * that the cursor passed through, so every switch on it committed; settling marks the whole
 * chain in the one CAS. A claim is made from a possibly stale cursor too, so the state word
 * may hold CLAIMED(b) for a log {@code b} that is already FULL or FREE: harmless, since that
 * switch cannot commit and is given back, but a settler must not trust a state word that
 * changed while it read the cursor (it reads the word again). Anyone may settle: a log
 * CLAIMED(b) that is the cursor's log was switched to (only its claimer can move the cursor
 * there), so the switcher itself, the next switcher of that CPU (before it claims) and every
 * snapshot (with the slice stopped) settle what they find. So a switcher that never gets
 * past its commit (preempted, or an asynchronous error such as a StackOverflowError or an
 * OutOfMemoryError) loses no record and no log; one that never gets past its claim leaves
 * one empty log CLAIMED (never lost records: the log is empty; an error there costs that
 * CPU one log of its ring for the histogram's life).
 *
 * <p>Recorders never wait for a snapshot or a switcher. A switcher folds the CPU's FULL logs
 * (FULL to FOLDING, fold, FREE) into the first shard whose lock it gets with one
 * {@code tryLock} pass and leaves them for later (a later switch, fold or snapshot) when all
 * are taken. Only when every other log of the CPU is CLAIMED, FULL or FOLDING after a few
 * rounds does a record add itself to the statistics of the first shard whose lock it gets,
 * as do {@code record(value, n)} and out-of-range values; that may wait only while every
 * shard lock is held at once. Snapshots run one at a time and hold one fold lock at a
 * time, and the other holders (folders, direct records) do bounded work without waiting,
 * so with at least two shards a recorder never waits for a snapshot, nor for a switcher
 * (a switcher holds no lock while it switches).
 *
 * <p>Snapshots visit the shards in turn. For shard {@code i} (a CPU's) a snapshot takes its
 * fold lock, stops the slice (the fence makes the cursor stable), settles a committed switch,
 * folds the active log, empties it and restarts the slice, then folds the CPU's FULL logs,
 * reads (and with reset, zeroes) the shard and releases the lock. It never waits for a
 * switcher: a claim that has not committed holds an empty log, and one that has committed is
 * settled. Every record is in a log or in exactly one shard, never both and never half (a
 * log is folded whole under one lock, a direct record is added whole under one lock), and
 * each shard is read and zeroed whole under its lock, so every record is whole in exactly one
 * interval. A record that completed before {@code collect} began is in it, unless another
 * thread was folding its log at that moment into a shard the snapshot had already read: then
 * it is in the next interval. Lock order: a fold lock, then a stop; a recorder waits for no
 * lock while holding one, and never for one particular lock.
 *
 * <p>Per-CPU layout (one item, 64-byte aligned): the fold lock (a cache line of its own; on a
 * one-CPU machine slice 0 holds the second shard's lock in the next word), the state word (a
 * line), the cursor and the interleaved logs after it ({@value #LOG_ENTRIES} entries each).
 * Zeroed memory is a valid empty state except the state word (log 0 ACTIVE). A shard:
 * {@code COUNT, SUM, MIN, MAX, CLAMPED, DIRECT} (DIRECT counts records that found their log
 * full and went to a shard directly: a diagnostic), then one element per bucket; MIN is
 * Long.MAX_VALUE and MAX Long.MIN_VALUE when empty.
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

    /** Log states, 4-bit fields of the state word; CLAIMED + b is "claimed to replace log b". */
    static final int FREE = 0, ACTIVE = 1, FULL = 2, FOLDING = 3, CLAIMED = 4;
    private static final int STATE_BITS = 4;
    private static final long STATE_MASK = (1L << STATE_BITS) - 1;
    /** One change of the state word (its upper bits count changes). */
    private static final long CHANGE = 1L << (STATE_BITS * LOGS);

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
    private final SliceOps ops;
    private final SliceMemory memory;
    private final long item;
    private final long bytesPerCpu;
    /** The statistics: shard {@code k} for {@code k < slices} is slice {@code k}'s, guarded by its fold lock. */
    private final long[][] shards;
    /** Held by the snapshot in progress: snapshots run one at a time. */
    private final Object collecting = new Object();
    /** Where tests stall threads inside the switch protocol; {@link SwitchPauses#NONE} otherwise. */
    private final SwitchPauses pauses;

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
        this.pauses = pauses;
        this.buckets = buckets;
        this.precision = buckets instanceof HistogramBuckets.LogLinear l ? l.precision() : -1;
        this.highest = buckets.highest();
        this.ops = SliceOps.of(context);
        int shardLength = BUCKETS + buckets.count();
        this.memory = new SliceMemory(IndexField.CPU_ID, ITEM_BYTES + 64, context.fences());
        long off = memory.allocateFresh(ITEM_BYTES, 64);
        if (off < 0) {
            throw new IllegalStateException("no room for the sample logs in per-CPU memory");
        }
        this.item = off;
        this.shards = new long[Math.max(2, memory.slices())][];
        for (int k = 0; k < shards.length; k++) {
            shards[k] = new long[shardLength];
            emptyStatistics(shards[k]);
        }
        for (int i = 0; i < memory.slices(); i++) {
            memory.whole().set(JAVA_LONG, memory.at(i, item + STATE), (long) ACTIVE);    // log 0
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

    /** One critical section: appends {@code v} to the caller's CPU's active log; the index, or FULL. */
    private long append(long v) {
        return ops.run(PerCpuOperation.LOG_APPEND, memory, item + CURSOR, v, CURSOR_LIMIT, STEP, 0, null);
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
        if (r != OpResult.FULL) {
            throw new IllegalStateException("sample log append returned " + OpResult.describe(r));
        }
        for (int tries = 0; tries < FULL_TRIES; tries++) {
            int cpu = memory.hint();
            boolean switched = trySwitch(cpu);
            boolean folded = tryFoldFull(cpu);
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
     * longer on CPU {@code i}. Holds no lock. Whatever is thrown between the claim and the
     * marks leaves nothing that others wait for (see the class notes).
     */
    private boolean trySwitch(int i) {
        // acquire (ldar on aarch64): the entries before the cursor, which LOG_APPEND's stlr published
        long cursor = (long) LONG.getAcquire(memory.whole(), memory.at(i, item + CURSOR));
        if (cursor < CURSOR_LIMIT) {
            return false;
        }
        settle(i);     // the switch to this log may have committed without its marks
        int j = claim(i, activeLog(cursor));
        if (j < 0) {
            return false;
        }
        pauses.at(SwitchPauses.Point.BEFORE_COMMIT);
        if (commitSwitch(i, cursor, j)) {
            pauses.at(SwitchPauses.Point.AFTER_COMMIT);
            settle(i);
            return true;
        }
        giveBack(i, j);
        return false;
    }

    /**
     * Claims a FREE log of slice {@code i} to replace log {@code b}: FREE to CLAIMED(b).
     *
     * @return the log claimed, or -1 when none is free
     */
    int claim(int i, int b) {
        MemorySegment w = memory.whole();
        long at = memory.at(i, item + STATE);
        for (;;) {
            long word = (long) LONG.getAcquire(w, at);
            int j = -1;
            for (int k = 1; k < LOGS && j < 0; k++) {
                int c = (b + k) & (LOGS - 1);
                if (state(word, c) == FREE) {
                    j = c;
                }
            }
            if (j < 0) {
                return -1;
            }
            pauses.at(SwitchPauses.Point.CLAIM_READ);
            if (LONG.compareAndSet(w, at, word, with(word, j, CLAIMED + b) + CHANGE)) {
                Reference.reachabilityFence(this);
                return j;
            }
        }
    }

    /** Moves slice {@code i}'s cursor from the full {@code cursor} to log {@code j}, empty, if the caller runs on CPU {@code i}. */
    boolean commitSwitch(int i, long cursor, int j) {
        return ops.run(PerCpuOperation.COMPARE_INDEX_AND_STORE, memory, item + CURSOR, i, cursor, 8L * j, 0, null) >= 0;
    }

    /** Gives back a claim whose switch did not commit: CLAIMED to FREE. */
    void giveBack(int i, int j) {
        MemorySegment w = memory.whole();
        long at = memory.at(i, item + STATE);
        for (;;) {
            long word = (long) LONG.getAcquire(w, at);
            if (state(word, j) < CLAIMED) {
                throw new IllegalStateException("log " + j + " of slice " + i + " is not claimed: " + Long.toHexString(word));
            }
            if (LONG.compareAndSet(w, at, word, with(word, j, FREE) + CHANGE)) {
                Reference.reachabilityFence(this);
                return;
            }
        }
    }

    /**
     * Settles the committed switches of slice {@code i}: if the cursor's log {@code a} is
     * CLAIMED(b), it was switched to (only its claimer moves the cursor there), so in one CAS
     * it becomes ACTIVE and {@code b} FULL. {@code b} is ACTIVE, or itself CLAIMED(c) when
     * its own switch committed and was not settled before a switcher that had settled in an
     * earlier visit of {@code b} switched away from it: the cursor passed through {@code b},
     * so that switch committed too, and the chain of claims back to the ACTIVE log is
     * settled in the same CAS (every log on it FULL). The state word is read before the
     * cursor and again after it: a word that did not change meanwhile (its change count
     * rules out ABA) was current when the cursor was read, so a claim it shows on the
     * cursor's log had committed by then. A word that changed is stale (the claim it shows
     * may have been given back, and the cursor moved on under a newer one): read both again.
     */
    void settle(int i) {
        MemorySegment w = memory.whole();
        long at = memory.at(i, item + STATE);
        long cursorAt = memory.at(i, item + CURSOR);
        for (;;) {
            long word = (long) LONG.getAcquire(w, at);
            pauses.at(SwitchPauses.Point.SETTLE_READ);
            int a = activeLog((long) LONG.getAcquire(w, cursorAt));
            if (state(word, a) < CLAIMED) {
                break;
            }
            if ((long) LONG.getAcquire(w, at) != word) {
                continue;
            }
            long settled = with(word, a, ACTIVE);
            int b = state(word, a) - CLAIMED;
            for (int hops = 1; state(word, b) != ACTIVE; hops++) {
                if (state(word, b) < CLAIMED || hops >= LOGS) {
                    throw new IllegalStateException("log " + b + " of slice " + i + " was switched out but is neither"
                            + " active nor switched to: " + Long.toHexString(word));
                }
                settled = with(settled, b, FULL);
                b = state(word, b) - CLAIMED;
            }
            if (LONG.compareAndSet(w, at, word, with(settled, b, FULL) + CHANGE)) {
                break;
            }
        }
        Reference.reachabilityFence(this);
    }

    /** Changes log {@code j}'s state of slice {@code i} from {@code from} to {@code to}; false when it is not {@code from}. */
    private boolean transition(int i, int j, int from, int to) {
        MemorySegment w = memory.whole();
        long at = memory.at(i, item + STATE);
        for (;;) {
            long word = (long) LONG.getAcquire(w, at);
            if (state(word, j) != from) {
                return false;
            }
            if (LONG.compareAndSet(w, at, word, with(word, j, to) + CHANGE)) {
                Reference.reachabilityFence(this);
                return true;
            }
        }
    }

    private static int state(long word, int log) {
        return (int) ((word >>> (STATE_BITS * log)) & STATE_MASK);
    }

    private static long with(long word, int log, int state) {
        int shift = STATE_BITS * log;
        return (word & ~(STATE_MASK << shift)) | ((long) state << shift);
    }

    private static int activeLog(long cursor) {
        return (int) ((cursor & (STEP - 1)) >>> 3);
    }

    /**
     * Folds slice {@code i}'s FULL logs, if any, into the first shard whose lock is free,
     * without waiting: when every lock is taken, they stay FULL for a later fold.
     *
     * @return whether it folded one
     */
    private boolean tryFoldFull(int i) {
        long word = (long) LONG.getAcquire(memory.whole(), memory.at(i, item + STATE));
        boolean any = false;
        for (int j = 0; j < LOGS; j++) {
            any |= state(word, j) == FULL;
        }
        if (!any) {
            return false;
        }
        int k = tryLockAny(i);
        if (k < 0) {
            return false;
        }
        try {
            return foldFull(i, k);
        } finally {
            unlock(k);
        }
    }

    /** Folds slice {@code i}'s FULL logs into shard {@code k}, whose lock the caller holds; returns whether it folded one. */
    private boolean foldFull(int i, int k) {
        boolean folded = false;
        for (int j = 0; j < LOGS; j++) {
            if (transition(i, j, FULL, FOLDING)) {
                fold(i, j, LOG_ENTRIES, k);
                transition(i, j, FOLDING, FREE);
                folded = true;
            }
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
                        drain(k);
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
     * Folds every record in slice {@code i}'s logs into shard {@code i}, whose lock the caller
     * holds: with the slice stopped, settles a committed switch and folds and empties the
     * active log; then folds the FULL logs. Logs CLAIMED by a switch that has not committed
     * are empty; logs another thread is FOLDING go to the shard it holds.
     */
    private void drain(int i) {
        MemorySegment w = memory.whole();
        long cursorAt = memory.at(i, item + CURSOR);
        memory.stop(i);
        try {
            settle(i);
            long cursor = w.get(JAVA_LONG, cursorAt);
            int b = activeLog(cursor);
            fold(i, b, (int) (cursor / STEP), i);
            pauses.at(SwitchPauses.Point.DRAIN_STOPPED);
            w.set(JAVA_LONG, cursorAt, 8L * b);     // the same log, empty
        } finally {
            memory.start(i);
        }
        foldFull(i, i);
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
