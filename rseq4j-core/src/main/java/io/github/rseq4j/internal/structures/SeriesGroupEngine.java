package io.github.rseq4j.internal.structures;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;
import io.github.rseq4j.internal.runtime.RuntimeContext;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The engine of {@code HistogramGroup}: one recording path per CPU shared by any number of
 * histogram series, and one set of statistics per series, so a series costs the same
 * memory on any number of CPUs and the per-CPU cost does not grow with the series.
 *
 * <p><b>Implementation notes.</b> <em>Recording.</em> Per CPU, one {@link SampleLogRing} of
 * {@value #LOGS} logs of {@value #LOG_ENTRIES} two-word entries: a record is one
 * {@link io.github.rseq4j.internal.codegen.PerCpuOperation#LOG_APPEND_PAIR} critical section
 * appending (tag, value) to the CPU's active log; a full log is switched without a stop or a
 * lock (the protocol is the ring's, shared with {@link HistogramEngine}). The <em>tag</em>
 * names the series: its slot in the group's table (the low {@value #SLOT_BITS} bits) and the
 * slot's generation (the upper 40 bits), which changes every time the slot is given to a new
 * series. A fold looks the slot up and adds the entry to that series' statistics only when
 * the series there has the same tag; else the series was closed after the record (its slot
 * empty or reused), and the entry is dropped and counted. A stale record would need its
 * slot to be reused 2^40 times before it is folded to match a later owner.
 *
 * <p><em>Statistics.</em> One {@code long[]} per series on the heap: {@code TAG} (the series'
 * tag, so a fold compares it in the line it updates anyway), {@code COUNT, SUM, MIN, MAX,
 * CLAMPED}, then one element per bucket (MIN is Long.MAX_VALUE and MAX Long.MIN_VALUE when
 * empty), independent of the CPU count. A fold finds them through an array of statistics by
 * slot and the bucket mapping through an array of mappings by slot (both small and cached;
 * mappings are shared by series of one layout), so an entry costs the misses of its series'
 * statistics line and bucket line, and no series object. Every write to them, and every
 * change of the table's entries that folds read (a close), happens under the <em>fold
 * lock</em> of the series' <em>stripe</em>: the slot's low bits pick one of {@code K} stripes
 * ({@code K} the power of two at or above twice the CPUs, 4 to {@value #MAX_STRIPES}; each
 * lock on a cache line of its own).
 *
 * <p><em>Folding by stripe.</em> A log mixes the entries of many series, so a recorder folds a
 * FULL log in passes, one per stripe: it {@code tryLock}s the stripe, folds the log's
 * entries of that stripe (and drains the stripe's stacks, below), and unlocks; the first
 * pass also notes which stripes have entries in the log at all, and those without are done
 * at once (a log of one series is one pass; a pass starts at the stripe of the log's first
 * entry). A stripe whose lock is held (another CPU's fold is in it) is skipped and tried
 * again after the others; the entries of a stripe still locked after {@value #FOLD_ROUNDS}
 * rounds are <em>copied out</em>: one heap array of (tag, value) pairs per such stripe,
 * pushed on that stripe's lock-free <em>deferred</em> stack, which the next holder of the
 * stripe's lock (a fold, a snapshot) folds. So a recorder's fold always frees the log it
 * took, folds of different CPUs run at once in different stripes, no recorder waits, and
 * each entry is folded once: from the log under its stripe's lock, or from the one array it
 * was copied to. The cost: a lock and an unlock per stripe per log of {@value #LOG_ENTRIES}
 * entries, one read of each entry's tag per pass, and, when folds meet, two reads and a
 * copy of the entries left.
 *
 * <p><em>Why not leave the locked stripes in the log.</em> Tried first: the log went back FULL
 * with a mark per stripe done, for a later fold to finish. With two CPUs' folds meeting
 * often, logs stayed FULL, recorders found no free log, and every record then paid for its
 * failed rounds of claims and tries and went to the overflow: 2 threads took 542 to 1,093
 * ns per record against 143 to 266 with one group lock (same runs, loaded machine).
 *
 * <p><em>Why stripes, not a lock per series.</em> Per-series locks cost a lock and an unlock
 * (a CAS and a release store) per entry; on 10,000 separate lock words that measured 12 to
 * 27 ns per entry here, against 60 to 150 ns for the whole fold of an entry, and one hot
 * series on every CPU would make the CAS a contended line per entry. Stripes cost a few
 * lock operations per log and leave the hot-series case as it was with one group lock (its
 * entries are all in one stripe, folded one CPU at a time), and unlike one group lock they
 * let two CPUs' folds of many series run at once. Figures: docs/BENCHMARKS.md, "Many series".
 *
 * <p><em>No recorder waits.</em> A recorder takes fold locks only with {@code tryLock}, and
 * not at all (nor starts a fold) while a snapshot or a close waits for a lock or a snapshot
 * holds them (so they wait for at most the folds in progress, not for a stream of recorders'
 * folds): the recorder whose append found its log full switches logs
 * ({@link SampleLogRing#makeRoom}) and folds what it can of its CPU's FULL logs and of the
 * overflow; the rest stays for a later fold. When after {@value #FULL_TRIES} rounds no log of
 * its CPU is free (held by preempted switchers, or FULL while stripes are locked), and for
 * {@code record(v, n)} with {@code n > 1} and for values out of range (clamped), the record is
 * added directly under its stripe's lock if {@code tryLock} gets it, else pushed as a small
 * heap node (tag, value, n, clamped) on its stripe's lock-free <em>overflow</em> stack (a
 * Treiber stack: one CAS), which every fold of that stripe and every snapshot drains under the
 * stripe's lock. So a record is always in exactly one place: a log, the overflow, or its
 * series' statistics; it moves from a log or the overflow to the statistics whole, under its
 * stripe's lock, once (a log's stripe is folded by the one holder that claimed the log
 * FOLDING and marked done before the log is handed back; an overflow stack is taken whole with
 * one {@code getAndSet}).
 *
 * <p><em>Snapshots</em> (of the whole group, or of one series) take every stripe's lock in
 * order (waiting for the folds in progress: snapshots and closes are the only waiters), then
 * for each CPU {@link SampleLogRing#drainActive}: stop the slice once, settle a committed
 * switch, fold and empty the active log, restart the slice; then fold the rest of every FULL
 * log, and wait for each log another thread holds FOLDING (that thread can lock no stripe
 * now, so it soon hands the log back, FULL with its done stripes or FREE) and fold its rest;
 * then drain the overflow stacks; then read (and with reset, zero) the statistics of every
 * series (or of the one), still under the locks. One stop and one fence per CPU for all the
 * series. As nothing can add to any series' statistics while the locks are held, every record
 * that completed before the snapshot began is in it, each record is in exactly one interval,
 * whole (count, sum, min, max and bucket together), and all series of a group snapshot are cut
 * at the same point. A record that runs during a snapshot is in it or in the next interval.
 *
 * <p><em>Closing a series</em> takes its stripe's lock: it empties the slot (so later folds drop
 * the series' entries still in logs or in the overflow, and count them), adds the records
 * still in its statistics (recorded, never returned by a snapshot) to the dropped count, and
 * drops the statistics. So for a closed series, the records its snapshots returned plus the
 * ones counted as dropped are exactly the ones recorded. The slot goes back to a free list
 * with its generation advanced. <em>Closing the group</em> takes every stripe, closes every
 * series, then gives the per-CPU memory back (which waits until no critical section is in
 * flight).
 *
 * <p>Per-CPU layout (one item, 64-byte aligned): the ring (its state word's line, the cursor
 * and the interleaved logs): 65,608 bytes per CPU, fixed.
 */
public final class SeriesGroupEngine {
    /** Entries in each of a CPU's sample logs. */
    public static final int LOG_ENTRIES = 1024;
    /** Sample logs per CPU. */
    public static final int LOGS = SampleLogRing.LOGS;
    /** Bits of a tag that hold the slot. */
    public static final int SLOT_BITS = 24;
    /** Most series open at once in one group. */
    public static final int MAX_SERIES = 1 << SLOT_BITS;
    private static final long SLOT_MASK = MAX_SERIES - 1;
    /** Generations run from 1 to this value, then start again at 1 (40 bits). */
    private static final long MAX_GENERATION = (1L << (64 - SLOT_BITS)) - 1;
    /** Per-CPU bytes: the ring. */
    public static final long ITEM_BYTES = SampleLogRing.bytes(2, LOG_ENTRIES);
    /** Rounds of switch, fold and append before a record with a full log goes to the statistics directly or the overflow. */
    private static final int FULL_TRIES = 4;
    /** Spins before a waiting snapshot starts yielding. */
    private static final int SPINS_BEFORE_YIELD = 64;
    /** Most fold-lock stripes (their done marks per log are the bits of a long). */
    private static final int MAX_STRIPES = 64;
    /** Rounds over a log's stripes a recorder's fold makes before it leaves the stripes it could not lock for later. */
    private static final int FOLD_ROUNDS = 2;
    /** ints from one stripe lock to the next: each lock on a line (and its neighbour) of its own. */
    private static final int LOCK_PAD = 32;

    /** Elements of a series' statistics: its tag (what a fold compares), then the statistics proper. */
    public static final int TAG = 0, COUNT = 1, SUM = 2, MIN = 3, MAX = 4, CLAMPED = 5, BUCKETS = 6;

    private static final VarHandle LOCK_ELEMENT, TABLE_ELEMENT, STATS_ELEMENT, BUCKETS_ELEMENT;

    static {
        LOCK_ELEMENT = MethodHandles.arrayElementVarHandle(int[].class);
        TABLE_ELEMENT = MethodHandles.arrayElementVarHandle(Series[].class);
        STATS_ELEMENT = MethodHandles.arrayElementVarHandle(long[][].class);
        BUCKETS_ELEMENT = MethodHandles.arrayElementVarHandle(HistogramBuckets[].class);
    }

    /**
     * One series of the group: its tag, its bucket mapping and its statistics. Made by
     * {@link #newSeries}; the public series object holds it.
     */
    public static final class Series {
        final long tag;
        final HistogramBuckets buckets;
        final long highest;
        /** The public object this series belongs to, handed back by snapshots; set once, before the series is published. */
        private Object owner;
        /** Guarded by its stripe's fold lock; null once closed. */
        long[] stats;
        private volatile boolean closed;

        private Series(long tag, HistogramBuckets buckets) {
            this.tag = tag;
            this.buckets = buckets;
            this.highest = buckets.highest();
            this.stats = new long[BUCKETS + buckets.count()];
            stats[TAG] = tag;
            empty(stats);
        }

        /** The object {@link #newSeries}'s owner function made for this series. */
        public Object owner() {
            return owner;
        }

        /** Whether it was closed (by itself or with its group). */
        public boolean isClosed() {
            return closed;
        }

        /** The tag its records carry: generation and slot. */
        public long tag() {
            return tag;
        }

    }

    /**
     * Adds {@code v} (in range) {@code n} times to the statistics {@code s} of buckets
     * {@code b}; the caller holds the series' stripe's fold lock and checked the tag.
     */
    private static void add(long[] s, HistogramBuckets b, long v, long n) {
        s[COUNT] += n;
        s[SUM] += v * n;
        if (v < s[MIN]) {
            s[MIN] = v;    // rarely taken: a branch, not a dependency chain of conditional moves
        }
        if (v > s[MAX]) {
            s[MAX] = v;
        }
        s[BUCKETS + (b instanceof HistogramBuckets.LogLinear l ? HistogramBuckets.LogLinear.index(v, l.precision())
                : b.index(v))] += n;
    }

    /**
     * The slot tables, replaced whole when they grow, so a fold reads one consistent set:
     * by slot, the series, its statistics (what a fold adds to, the tag in front) and its
     * bucket mapping. A fold reads only the last two (arrays of references that stay in cache,
     * and the statistics it updates anyway), never the series object.
     */
    private record Tables(Series[] series, long[][] stats, HistogramBuckets[] buckets) {
        Tables grow(int n) {
            return new Tables(Arrays.copyOf(series, n), Arrays.copyOf(stats, n), Arrays.copyOf(buckets, n));
        }
    }

    /** A record that went around the logs: {@code n} times {@code value} (in range) for the series with {@code tag}. */
    private record Overflow(long tag, long value, long n, boolean clamped, Overflow next) {}

    /** Entries of one stripe copied out of a log: (tag, value) pairs. */
    private record Deferred(long[] pairs, Deferred next) {}

    private final SliceMemory memory;
    private final SampleLogRing ring;
    /** Fold-lock stripes: a power of two; the stripe of a series is its slot's low bits. */
    private final int stripes;
    /** Every stripe's bit. */
    private final long allStripes;
    /** The fold locks, one per stripe at {@code LOCK_PAD * (stripe + 1)}: 0 free, 1 held; each guards its stripe's statistics and table entries as folds read them. */
    private final int[] locks;
    /** A snapshot's fold of a log: it holds every stripe. */
    private final SampleLogRing.Fold foldAllStripes = (w, first, stride, n) -> foldStripes(w, first, stride, n, -1L);
    /** A recorder's fold of a FULL log, stripe by stripe, as their locks are free. */
    private final SampleLogRing.Fold recorderFold = this::foldAsRecorder;
    private final SampleLogRing.FullLogs fullLogs = this::tryFoldFull;
    /** The lock-free stacks of records that found no room in a log (see the class notes), one per stripe. */
    private final AtomicReferenceArray<Overflow> overflow;
    /** The lock-free stacks of entries a fold copied out of a log as their stripe was locked (see the class notes), one per stripe. */
    private final AtomicReferenceArray<Deferred> deferred;
    /** Entries copied out of logs since the group was made (a diagnostic). */
    private final AtomicLong copiedOut = new AtomicLong();
    /** Records pushed on the overflow since the group was made (a diagnostic). */
    private final AtomicLong overflowed = new AtomicLong();
    /** Threads waiting for fold locks (snapshots, closes) or holding them all (snapshots): recorders leave the locks to them. */
    private final AtomicInteger waiting = new AtomicInteger();
    /** Records of closed series never returned by a snapshot. */
    private final AtomicLong dropped = new AtomicLong();

    /** Guards the table's shape, the generations and the free slots. */
    private final Object tableLock = new Object();
    /** The slot tables; entries change under the table lock and, when emptied, the slot's stripe's fold lock. */
    private volatile Tables tables = new Tables(new Series[64], new long[64][], new HistogramBuckets[64]);
    /** Each slot's current generation (0: never used); under the table lock. */
    private long[] generations = new long[64];
    /** Free slots below {@link #used}, a stack; under the table lock. */
    private int[] free = new int[16];
    private int freeCount;
    /** Slots ever used: the next new slot; under the table lock. */
    private int used;
    private volatile int open;

    /**
     * An empty group.
     *
     * @param context the runtime's collaborators: the operations every record runs, the fences
     */
    public SeriesGroupEngine(RuntimeContext context) {
        this(context, SwitchPauses.NONE);
    }

    /**
     * An empty group whose switch protocol pauses where {@code pauses} says (tests).
     *
     * @param context the runtime's collaborators
     * @param pauses  called at each {@link SwitchPauses.Point} of the switch protocol
     */
    SeriesGroupEngine(RuntimeContext context, SwitchPauses pauses) {
        this.memory = new SliceMemory(IndexField.CPU_ID, ITEM_BYTES + 64, context.fences());
        long item = memory.allocateFresh(ITEM_BYTES, 64);
        if (item < 0) {
            throw new IllegalStateException("no room for the sample logs in per-CPU memory");
        }
        this.ring = new SampleLogRing(memory, item, 2, LOG_ENTRIES, SliceOps.of(context), pauses);
        this.stripes = stripesFor(memory.slices());
        this.allStripes = stripes == 64 ? -1L : (1L << stripes) - 1;
        this.locks = new int[LOCK_PAD * (stripes + 2)];
        this.overflow = new AtomicReferenceArray<>(stripes);
        this.deferred = new AtomicReferenceArray<>(stripes);
    }

    /** Fold-lock stripes for {@code cpus} CPUs: the power of two at or above twice their number, 4 to {@value #MAX_STRIPES}. */
    static int stripesFor(int cpus) {
        int want = Math.max(4, Math.min(MAX_STRIPES, 2 * cpus));
        return Integer.bitCount(want) == 1 ? want : Integer.highestOneBit(want) << 1;
    }

    /** Fold-lock stripes of this group. */
    int stripes() {
        return stripes;
    }

    /** Per-CPU bytes, fixed whatever the number of series. */
    public long bytesPerCpu() {
        return ITEM_BYTES;
    }

    /** Number of slices (CPUs). */
    public int slices() {
        return memory.slices();
    }

    /** Series open now. */
    public int seriesCount() {
        return open;
    }

    /** Records of closed series never returned by a snapshot (see the class notes). */
    public long droppedRecords() {
        return dropped.get();
    }

    /** Records that went through the overflow stack since the group was made (a diagnostic: how often recorders found no room and their stripe's fold lock held). */
    public long overflowed() {
        return overflowed.get();
    }

    /** Log entries copied out to a deferred stack since the group was made (a diagnostic: how often folds of different CPUs met in a stripe). */
    public long copiedOut() {
        return copiedOut.get();
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return memory.isClosed();
    }

    /**
     * Heap bytes of one series with {@code buckets} buckets, with compressed references (heaps
     * below 32 GB): its statistics array, its {@link Series} object, its table entry,
     * generation and free-list entry; the public object holding it adds its own header and fields.
     *
     * @param buckets the layout's bucket count
     * @return bytes on the heap
     */
    public static long heapBytes(int buckets) {
        long statsArray = 16 + 8L * (BUCKETS + buckets);
        long seriesObject = 48;
        long slotTables = 4 + 4 + 4 + 8;     // series, statistics and mapping references, generation
        return statsArray + seriesObject + slotTables;
    }

    /**
     * A new series in a free slot (the lowest freed one, or the next), with a new generation.
     *
     * @param buckets its bucket mapping
     * @param owner   makes the public object that holds the series, handed back with its
     *                snapshots; called once, under the table lock, before the series is
     *                published to snapshots (so none sees a half-made owner)
     * @return the series
     * @throws IllegalStateException when the group is closed or holds {@value #MAX_SERIES} series
     */
    public Series newSeries(HistogramBuckets buckets, Function<Series, Object> owner) {
        synchronized (tableLock) {
            memory.checkOpen();
            int slot;
            if (freeCount > 0) {
                slot = free[--freeCount];
            } else {
                if (used == MAX_SERIES) {
                    throw new IllegalStateException("a group holds at most " + MAX_SERIES + " series");
                }
                slot = used++;
                if (slot == tables.series().length) {
                    int n = Math.min(MAX_SERIES, slot * 2);
                    generations = Arrays.copyOf(generations, n);
                    tables = tables.grow(n);     // folds read the old tables or these: the same entries
                }
            }
            long g = generations[slot] == MAX_GENERATION ? 1 : generations[slot] + 1;
            generations[slot] = g;
            Series s = new Series((g << SLOT_BITS) | slot, buckets);
            s.owner = owner.apply(s);
            Tables t = tables;
            BUCKETS_ELEMENT.setRelease(t.buckets(), slot, buckets);
            STATS_ELEMENT.setRelease(t.stats(), slot, s.stats);
            TABLE_ELEMENT.setRelease(t.series(), slot, s);
            open++;
            return s;
        }
    }

    /**
     * Records {@code value} once for {@code s}: one critical section on the fast path (see the
     * class notes for full logs and values out of range). Never waits for a fold or a snapshot.
     *
     * @throws IllegalStateException when {@code s} is closed
     */
    public void record(Series s, long value) {
        if (s.closed) {
            throw closed(s);
        }
        if (Long.compareUnsigned(value, s.highest) > 0) {
            recordDirect(s.tag, value < 0 ? 0 : s.highest, 1, true);
            return;
        }
        long r = ring.append(s.tag, value);
        if (r < 0) {
            logFull(s.tag, value, r);
        }
    }

    /**
     * Records {@code value} {@code n} times ({@code n >= 1}) for {@code s}, whole: directly
     * when its stripe's fold lock is free, else through the overflow. Never waits.
     *
     * @throws IllegalStateException when {@code s} is closed
     */
    public void record(Series s, long value, long n) {
        if (n == 1) {
            record(s, value);
            return;
        }
        if (s.closed) {
            throw closed(s);
        }
        boolean clamped = Long.compareUnsigned(value, s.highest) > 0;
        recordDirect(s.tag, clamped ? (value < 0 ? 0 : s.highest) : value, n, clamped);
    }

    private static IllegalStateException closed(Series s) {
        return new IllegalStateException("the histogram series is closed");
    }

    /**
     * The append found the caller's active log full: switch, fold if the lock is free, append
     * again; after a few rounds, the statistics directly or the overflow.
     */
    private void logFull(long tag, long v, long r) {
        for (int tries = 0; tries < FULL_TRIES; tries++) {
            ring.makeRoom(r, fullLogs);
            r = ring.append(tag, v);
            if (r >= 0) {
                return;
            }
        }
        recordDirect(tag, v, 1, false);
    }

    /** Adds the record under its stripe's fold lock if it is free, else pushes it on that stripe's overflow. Never waits. */
    private void recordDirect(long tag, long v, long n, boolean clamped) {
        int i = (int) tag & (stripes - 1);
        if (tryLockAsRecorder(i)) {
            try {
                apply(tag, v, n, clamped);
            } finally {
                unlock(i);
            }
            return;
        }
        for (;;) {      // lock-free: a failed CAS means another push or a drain succeeded
            Overflow head = overflow.get(i);
            if (overflow.compareAndSet(i, head, new Overflow(tag, v, n, clamped, head))) {
                overflowed.incrementAndGet();
                return;
            }
        }
    }

    /**
     * Folds what it can of slice {@code i}'s FULL logs and of the overflow without waiting
     * (nothing while a snapshot or close waits); whether a log became free.
     */
    private boolean tryFoldFull(int i) {
        if (waiting.get() != 0) {
            return false;
        }
        boolean freed = ring.hasFull(i) && ring.foldFull(i, recorderFold);
        for (int k = 0; k < stripes; k++) {
            if ((overflow.get(k) != null || deferred.get(k) != null) && tryLockAsRecorder(k)) {
                try {
                    drainOverflow(k);
                } finally {
                    unlock(k);
                }
            }
        }
        return freed;
    }

    /**
     * A recorder's fold of a FULL log (held FOLDING): each stripe under its lock if
     * {@code tryLock} gets it (with the stripe's overflow), starting from the first entry's
     * stripe, in {@value #FOLD_ROUNDS} rounds; the entries of the stripes it could not lock are
     * copied out, a heap array per stripe pushed on that stripe's deferred stack, so the log
     * is always free after (see the class notes).
     */
    private void foldAsRecorder(MemorySegment w, long first, long stride, int n) {
        long done = 0;
        int start = (int) w.get(JAVA_LONG, first);     // the first entry's stripe: one pass when the log holds one series
        for (int round = 0; round < FOLD_ROUNDS && done != allStripes; round++) {
            if (round > 0) {
                Thread.onSpinWait();
            }
            for (int k = 0; k < stripes; k++) {
                int stripe = (start + k) & (stripes - 1);
                long bit = 1L << stripe;
                if ((done & bit) == 0 && tryLockAsRecorder(stripe)) {
                    long present;
                    try {
                        present = foldStripes(w, first, stride, n, bit);
                        drainOverflow(stripe);
                    } finally {
                        unlock(stripe);
                    }
                    done |= bit | (allStripes & ~present);     // stripes with no entry in the log: done too
                }
            }
        }
        if (done != allStripes) {
            copyOut(w, first, stride, n, allStripes & ~done);
        }
    }

    /** Copies the log's entries of the stripes in {@code mask} to one array per stripe, pushed on its deferred stack. */
    private void copyOut(MemorySegment w, long first, long stride, int n, long mask) {
        int stripeMask = stripes - 1;
        int[] counts = new int[stripes];
        for (int x = 0; x < n; x++) {
            counts[(int) w.get(JAVA_LONG, first + stride * x) & stripeMask]++;
        }
        long[][] pairs = new long[stripes][];
        long copied = 0;
        for (int k = 0; k < stripes; k++) {
            if ((mask & (1L << k)) != 0 && counts[k] != 0) {
                pairs[k] = new long[2 * counts[k]];
                copied += counts[k];
                counts[k] = 0;
            }
        }
        copiedOut.addAndGet(copied);
        for (int x = 0; x < n; x++) {
            long e = first + stride * x;
            long tag = w.get(JAVA_LONG, e);
            int k = (int) tag & stripeMask;
            long[] p = pairs[k];
            if (p != null) {
                p[counts[k]++] = tag;
                p[counts[k]++] = w.get(JAVA_LONG, e + 8);
            }
        }
        for (int k = 0; k < stripes; k++) {
            if (pairs[k] != null) {
                for (;;) {      // lock-free, as the overflow
                    Deferred head = deferred.get(k);
                    if (deferred.compareAndSet(k, head, new Deferred(pairs[k], head))) {
                        break;
                    }
                }
            }
        }
    }

    /**
     * Folds the entries (tag, value) of a log whose stripes are in {@code mask} into their
     * series' statistics, dropping and counting those whose series is no longer its slot's
     * owner; the caller holds those stripes' locks. Returns the stripes that have entries in
     * the log.
     */
    private long foldStripes(MemorySegment w, long first, long stride, int n, long mask) {
        Tables t = tables;
        long[][] stats = t.stats();
        HistogramBuckets[] buckets = t.buckets();
        int stripeMask = stripes - 1;
        long present = 0;
        long lost = 0;
        for (int x = 0; x < n; x++) {
            long e = first + stride * x;
            long tag = w.get(JAVA_LONG, e);
            long bit = 1L << ((int) tag & stripeMask);
            present |= bit;
            if ((mask & bit) == 0) {
                continue;
            }
            long v = w.get(JAVA_LONG, e + 8);
            int slot = (int) (tag & SLOT_MASK);
            long[] s = slot < stats.length ? stats[slot] : null;
            if (s != null && s[TAG] == tag) {
                add(s, buckets[slot], v, 1);
            } else {
                lost++;
            }
        }
        if (lost != 0) {
            dropped.addAndGet(lost);
        }
        return present;
    }

    /** Adds one record to its series, or drops and counts it; the caller holds its stripe's lock. */
    private void apply(long tag, long v, long n, boolean clamped) {
        Tables t = tables;
        int slot = (int) (tag & SLOT_MASK);
        long[] s = slot < t.stats().length ? t.stats()[slot] : null;
        if (s != null && s[TAG] == tag) {
            add(s, t.buckets()[slot], v, n);
            if (clamped) {
                s[CLAMPED] += n;
            }
        } else {
            dropped.addAndGet(n);
        }
    }

    /** Folds every record on stripe {@code k}'s overflow and deferred stacks; the caller holds that stripe's lock. */
    private void drainOverflow(int k) {
        for (Overflow o = overflow.getAndSet(k, null); o != null; o = o.next()) {
            apply(o.tag(), o.value(), o.n(), o.clamped());
        }
        for (Deferred d = deferred.getAndSet(k, null); d != null; d = d.next()) {
            long[] p = d.pairs();
            for (int x = 0; x < p.length; x += 2) {
                apply(p[x], p[x + 1], 1, false);
            }
        }
    }

    /**
     * Folds everything recorded so far: every CPU's logs (each slice stopped once) and the
     * overflow; the caller holds every stripe. A log another thread holds FOLDING is waited
     * for (that thread cannot lock a stripe, so it soon gives the log back FULL, or FREE when
     * it had done it all) and then folded.
     */
    private void foldAll() {
        for (int i = 0; i < memory.slices(); i++) {
            ring.drainActive(i, foldAllStripes);
            int busy = 0;
            for (int j = 0; j < LOGS; j++) {
                if (ring.tryFold(i, j, foldAllStripes) == SampleLogRing.BUSY) {
                    busy |= 1 << j;
                }
            }
            for (int spins = 0; busy != 0; spins++) {
                if (spins < SPINS_BEFORE_YIELD) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
                for (int j = 0; j < LOGS; j++) {
                    if ((busy & (1 << j)) != 0 && ring.tryFold(i, j, foldAllStripes) != SampleLogRing.BUSY) {
                        busy &= ~(1 << j);
                    }
                }
            }
        }
        for (int k = 0; k < stripes; k++) {
            drainOverflow(k);
        }
    }

    /** A snapshot's view of one series' statistics. */
    public static HistogramEngine.Totals totals(long[] s) {
        long count = s[COUNT];
        return new HistogramEngine.Totals(count, s[SUM], count == 0 ? 0 : s[MIN], count == 0 ? 0 : s[MAX], s[CLAMPED],
                Arrays.copyOfRange(s, BUCKETS, s.length), 0);
    }

    /** What a group snapshot collected: the first {@code n} series and their totals. */
    public record Collected(Series[] series, HistogramEngine.Totals[] totals, int n) {}

    /**
     * Folds everything recorded and reads every open series' statistics, all under the fold
     * lock; with {@code reset}, zeroes each in the same hold (see the class notes).
     *
     * @param reset whether to take the records out
     * @return the series and their totals, in slot order
     * @throws IllegalStateException when the group is closed
     */
    public Collected collect(boolean reset) {
        lockAll();
        try {
            memory.checkOpen();
            foldAll();
            int n = open + 16;      // series made meanwhile (without the fold locks) may add a few
            Series[] series = new Series[n];
            HistogramEngine.Totals[] totals = new HistogramEngine.Totals[n];
            int k = 0;
            Series[] t = tables.series();
            for (int slot = 0; slot < t.length; slot++) {
                Series s = (Series) TABLE_ELEMENT.getAcquire(t, slot);     // one made meanwhile: its statistics too
                if (s != null) {
                    if (k == series.length) {
                        series = Arrays.copyOf(series, 2 * k);
                        totals = Arrays.copyOf(totals, 2 * k);
                    }
                    series[k] = s;
                    totals[k++] = take(s, reset);
                }
            }
            return new Collected(series, totals, k);
        } finally {
            unlockAll();
        }
    }

    /**
     * Folds everything recorded and reads one series' statistics under the fold locks; with
     * {@code reset}, zeroes them in the same hold.
     *
     * @throws IllegalStateException when the series or the group is closed
     */
    public HistogramEngine.Totals collect(Series s, boolean reset) {
        lockAll();
        try {
            if (s.closed) {
                throw closed(s);
            }
            memory.checkOpen();
            foldAll();
            return take(s, reset);
        } finally {
            unlockAll();
        }
    }

    private static HistogramEngine.Totals take(Series s, boolean reset) {
        HistogramEngine.Totals t = totals(s.stats);
        if (reset) {
            empty(s.stats);
        }
        return t;
    }

    /**
     * Closes {@code s}: empties its slot, counts its unreported records as dropped, frees its
     * statistics and its slot (see the class notes). Idempotent; waits for a fold or snapshot
     * in progress.
     */
    public void close(Series s) {
        int k = (int) s.tag & (stripes - 1);
        lock(k);
        try {
            closeLocked(s);
        } finally {
            unlock(k);
        }
    }

    private void closeLocked(Series s) {
        synchronized (tableLock) {
            if (s.closed) {
                return;
            }
            s.closed = true;
            int slot = (int) (s.tag & SLOT_MASK);
            Tables t = tables;
            TABLE_ELEMENT.setRelease(t.series(), slot, null);
            STATS_ELEMENT.setRelease(t.stats(), slot, null);
            BUCKETS_ELEMENT.setRelease(t.buckets(), slot, null);
            if (freeCount == free.length) {
                free = Arrays.copyOf(free, free.length * 2);
            }
            free[freeCount++] = slot;
            open--;
            dropped.addAndGet(s.stats[COUNT]);
            s.stats = null;
        }
    }

    /**
     * Closes every series and gives the per-CPU memory back (waiting until no critical
     * section is in flight). Idempotent.
     */
    public void close() {
        lockAll();
        try {
            synchronized (tableLock) {
                for (Series s : tables.series()) {
                    if (s != null) {
                        closeLocked(s);
                    }
                }
                memory.close();
            }
        } finally {
            unlockAll();
        }
    }

    /** Empties the statistics, keeping the tag. */
    private static void empty(long[] s) {
        Arrays.fill(s, COUNT, s.length, 0L);
        s[MIN] = Long.MAX_VALUE;
        s[MAX] = Long.MIN_VALUE;
    }

    // ------------------------------------------------------------------ the fold locks

    private boolean tryLock(int k) {
        return LOCK_ELEMENT.compareAndSet(locks, LOCK_PAD * (k + 1), 0, 1);
    }

    /** A recorder's {@code tryLock} of stripe {@code k}: fails at once while a snapshot or close waits for a lock, which it leaves to them. */
    private boolean tryLockAsRecorder(int k) {
        return waiting.get() == 0 && tryLock(k);
    }

    /** Spins, then yields, until stripe {@code k}'s lock is taken; the caller counts itself in {@link #waiting}. */
    private void acquire(int k) {
        for (int spins = 0; !tryLock(k); spins++) {
            if (spins < SPINS_BEFORE_YIELD) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /**
     * Takes stripe {@code k}'s lock, waiting (closes of a series only, and tests); while it
     * waits, recorders do not take any lock, so it waits for at most the fold in progress.
     */
    void lock(int k) {
        if (tryLock(k)) {
            return;
        }
        waiting.incrementAndGet();
        try {
            acquire(k);
        } finally {
            waiting.decrementAndGet();
        }
    }

    void unlock(int k) {
        LOCK_ELEMENT.setRelease(locks, LOCK_PAD * (k + 1), 0);
    }

    /**
     * Takes every stripe's lock, in order (snapshots and the group's close): counted in
     * {@link #waiting} from the start to {@link #unlockAll}, so recorders neither take a lock
     * nor start a fold meanwhile, and the folds in progress end soon (see the class notes).
     */
    private void lockAll() {
        waiting.incrementAndGet();
        int held = 0;
        try {
            for (; held < stripes; held++) {
                acquire(held);
            }
        } finally {
            if (held < stripes) {       // an asynchronous error: give back what is held
                for (int k = 0; k < held; k++) {
                    unlock(k);
                }
                waiting.decrementAndGet();
            }
        }
    }

    private void unlockAll() {
        for (int k = 0; k < stripes; k++) {
            unlock(k);
        }
        waiting.decrementAndGet();
    }
}
