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
 * <p><b>Implementation notes.</b> <em>Recording.</em> The engine is a {@link SampleLogRing}: per CPU,
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
 * statistics line and bucket line, and no series object. Every write to them, and every change of the
 * table's entries that folds read (a close), happens under one <em>fold lock</em> for the
 * whole group.
 *
 * <p><em>Why one fold lock, not one per series.</em> A log mixes the entries of many series,
 * so per-series locks would cost a lock and an unlock (a CAS and a release store) per entry on
 * top of the fold's own work, where one lock costs that once per log of {@value #LOG_ENTRIES}
 * entries; and a snapshot of every series would have to take them all. Measured here
 * ({@code SeriesGroupMemoryMain} in rseq4j-bench, 2 CPUs, load average 5 to 8): such a pair
 * on 10,000 locks costs 12 to 27 ns per entry, while one thread records and folds 10,000
 * series round-robin at 60 to 150 ns per record, so per-series locks would add a fifth to a
 * third to every fold to let folds of different CPUs run at once. The consequence of one lock:
 * folds run one at a time, so the group's sustained record rate is bounded by one thread's
 * fold rate (a look-up in the slot tables, a tag compare and five array updates per entry,
 * most of it the cache misses of the series' statistics). Recorders beyond that rate do not
 * wait: their logs stay FULL and their records go to the overflow below, drained by the next
 * fold. (Folding in blocks, loading a block's lines before updating them, showed no gain
 * measurable on this loaded machine, so the fold stays one loop.)
 *
 * <p><em>Parallel folds, tried and measured (they lost here).</em> Fold locks striped by slot:
 * {@code K} = 4 stripes (the power of two at or above twice the CPUs), a recorder folding a
 * FULL log in one pass per stripe under that stripe's {@code tryLock}, snapshots taking every
 * stripe and waiting for the logs others hold FOLDING, overflow stacks per stripe. Paired
 * runs of {@code ./rseq4j bench --only series} (10,000 series round-robin, ns per record per
 * thread; this design's figures first, then the run of this one lock right after it; 2 CPUs,
 * load average 6.5 to 11.9, other builds running): (1) stripes left in the log when their lock
 * was held (the log handed back FULL with a mark per stripe done): 2 threads 542 to 1,093
 * against 143 to 266; logs stayed FULL, so records paid for failed rounds of claims and
 * tries and went to the overflow anyway. (2) Stripes still locked after two rounds copied out
 * to a heap array per stripe that the stripe's next holder folds (the log always freed):
 * 1 thread 108 to 178 against 45 to 78, 2 threads 245 to 565 against 99 to 602, 8 threads 756
 * to 1,183 against 529 to 762; copies took 10 to 13% of the entries at 2 threads. (3) The
 * same with stripes by blocks of 16 slots (keeping round-robin statistics sequential for the
 * prefetcher): 1 thread 213 and 395 against 64 and 75, 2 threads 261 and 443 against 172 and
 * 277. (4) That, with every free stripe locked at once and folded in one pass: 1 thread 130 and
 * 71 against 108 and 52, 2 threads 241 and 447 against 144 and 202, 8 threads 563 and 631
 * against 811 and 788. No
 * variant was faster at 2 threads, and the per-stripe passes cost at 1 thread. Likely
 * reasons, not measured apart: on this machine (2 CPUs, 4 runnable threads per CPU) two
 * recorders seldom run at once, so folds in parallel have little to gain; and both CPUs'
 * folds update the same series' statistics, so those lines move between the CPUs' caches,
 * where one folder keeps them in its own. Variant (2) is commit 9b12d8c (reverted). A lock word in each
 * series' statistics was not tried: one hot series on every CPU (a Micrometer timer) would
 * make it a contended CAS per entry.
 *
 * <p><em>No recorder waits.</em> A recorder takes the fold lock only with {@code tryLock}, and
 * not at all while a snapshot or a close waits for it (so they wait for at most the fold in
 * progress, not for a stream of recorders' folds): the
 * recorder whose append found its log full switches logs ({@link SampleLogRing#makeRoom}) and,
 * if the lock is free, folds its CPU's FULL logs and the overflow; if it is held, the logs stay
 * FULL for a later fold. When after {@value #FULL_TRIES} rounds no log of its CPU is free
 * (held by preempted switchers, or FULL while the lock is held), and for {@code record(v, n)}
 * with {@code n > 1} and for values out of range (clamped), the record is added directly under
 * the fold lock if {@code tryLock} gets it, else pushed as a small heap node (tag, value, n,
 * clamped) on a lock-free <em>overflow</em> stack (a Treiber stack: one CAS), which every fold
 * and snapshot drains under the lock. So a record is always in exactly one place: a log, the
 * overflow, or its series' statistics; it moves from a log or the overflow to the statistics
 * whole, under the fold lock, once (a log is folded whole by the one holder that claimed it
 * FOLDING; the overflow is taken whole with one {@code getAndSet}).
 *
 * <p><em>Snapshots</em> (of the whole group, or of one series) take the fold lock (waiting for
 * a fold in progress: snapshots, closes and series closes are the only waiters), then for each
 * CPU {@link SampleLogRing#drain}: stop the slice once, settle a committed switch, fold and
 * empty the active log, restart the slice, fold the FULL logs; then drain the overflow; then
 * read (and with reset, zero) the statistics of every series (or of the one), still under the
 * lock. One stop and one fence per CPU for all the series. As nothing can add to any series'
 * statistics while the lock is held, every record that completed before the snapshot began is
 * in it, each record is in exactly one interval, whole (count, sum, min, max and bucket
 * together), and all series of a group snapshot are cut at the same point. A record that
 * runs during a snapshot is in it or in the next interval.
 *
 * <p><em>Closing a series</em> takes the fold lock: it empties the slot (so later folds drop
 * the series' entries still in logs or in the overflow, and count them), adds the records
 * still in its statistics (recorded, never returned by a snapshot) to the dropped count, and
 * drops the statistics. So for a closed series, the records its snapshots returned plus the
 * ones counted as dropped are exactly the ones recorded. The slot goes back to a free list
 * with its generation advanced. <em>Closing the group</em> closes every series, then gives
 * the per-CPU memory back (which waits until no critical section is in flight).
 *
 * <p>Per-CPU layout (one item, 64-byte aligned): the ring (its state word's line, the cursor
 * and the interleaved logs): 65,608 bytes per CPU, fixed.
 */
public final class SeriesGroupEngine extends SampleLogRing {
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
    /** Words per sample-log entry: a series tag and a value. */
    private static final int WORDS_PER_ENTRY = 2;
    /** Per-CPU bytes: the ring. */
    public static final long ITEM_BYTES = SampleLogRing.bytes(WORDS_PER_ENTRY, LOG_ENTRIES);
    /** Rounds of switch, fold and append before a record with a full log goes to the statistics directly or the overflow. */
    private static final int FULL_TRIES = 4;
    /** Spins before a waiting snapshot starts yielding. */
    private static final int SPINS_BEFORE_YIELD = 64;

    /** Elements of a series' statistics: its tag (what a fold compares), then the statistics proper. */
    public static final int TAG = 0, COUNT = 1, SUM = 2, MIN = 3, MAX = 4, CLAMPED = 5, BUCKETS = 6;

    private static final VarHandle FOLD_LOCK, TABLE_ELEMENT, STATS_ELEMENT, BUCKETS_ELEMENT;

    static {
        try {
            FOLD_LOCK = MethodHandles.lookup().findVarHandle(SeriesGroupEngine.class, "foldLock", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
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
        /** Guarded by the fold lock; null once closed. */
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
     * {@code b}; the caller holds the fold lock and checked the tag.
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

    private final SampleLogRing.Fold fold = this::foldEntries;
    /** The lock-free stack of records that found no room in a log (see the class notes). */
    /** Per CPU (by the recorder's hint), so recorders of different CPUs do not contend on one head. */
    private final AtomicReferenceArray<Overflow> overflow;
    /** Records pushed on the overflow since the group was made (a diagnostic). */
    private final AtomicLong overflowed = new AtomicLong();
    /** 0 free, 1 held: guards every series' statistics and the table's entries as folds read them. */
    @SuppressWarnings("unused")
    private volatile int foldLock;
    /** Threads waiting for the fold lock (snapshots, closes): recorders leave the lock to them. */
    private final AtomicInteger waiting = new AtomicInteger();
    /** Records of closed series never returned by a snapshot; written under the fold lock. */
    private volatile long dropped;

    /** Guards the table's shape, the generations and the free slots. */
    private final Object tableLock = new Object();
    /** The slot tables; entries change under the table lock and, when emptied, the fold lock. */
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
        SliceMemory memory = new SliceMemory(IndexField.CPU_ID, ITEM_BYTES + 64, context.fences());
        long item = memory.allocateFresh(ITEM_BYTES, 64);
        if (item < 0) {
            throw new IllegalStateException("no room for the sample logs in per-CPU memory");
        }
        super(memory, item, SliceOps.of(context), pauses);
        this.overflow = new AtomicReferenceArray<>(memory.slices());
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
        return dropped;
    }

    /** Records that went through the overflow stack since the group was made (a diagnostic: how often recorders found no room and the fold lock held). */
    public long overflowed() {
        return overflowed.get();
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
        long r = append(s.tag, value);
        if (r < 0) {
            logFull(s.tag, value, r);
        }
    }

    /**
     * Records {@code value} {@code n} times ({@code n >= 1}) for {@code s}, whole: directly
     * when the fold lock is free, else through the overflow. Never waits.
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
            makeRoom(r);
            r = append(tag, v);
            if (r >= 0) {
                return;
            }
        }
        recordDirect(tag, v, 1, false);
    }

    /** Adds the record under the fold lock if it is free, else pushes it on the overflow. Never waits. */
    private void recordDirect(long tag, long v, long n, boolean clamped) {
        if (tryLockAsRecorder()) {
            try {
                apply(tag, v, n, clamped);
            } finally {
                unlock();
            }
            return;
        }
        int i = memory.hint();
        for (;;) {      // lock-free: a failed CAS means another push or a drain succeeded
            Overflow head = overflow.get(i);
            if (overflow.compareAndSet(i, head, new Overflow(tag, v, n, clamped, head))) {
                overflowed.incrementAndGet();
                return;
            }
        }
    }

    /** Folds slice {@code i}'s FULL logs and the overflow if the fold lock is free; whether a log was folded. */
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
        if (!hasFull(i) && overflow.get(i) == null) {
            return false;
        }
        if (!tryLockAsRecorder()) {
            return false;
        }
        try {
            boolean folded = foldFull(i, fold);
            drainOverflow();
            return folded;
        } finally {
            unlock();
        }
    }

    /**
     * Folds {@code n} entries (tag, value) of a log into their series' statistics, dropping and
     * counting those whose series is no longer its slot's owner; the caller holds the fold lock.
     */
    private void foldEntries(MemorySegment w, long first, int n) {
        Tables t = tables;
        long[][] stats = t.stats();
        HistogramBuckets[] buckets = t.buckets();
        long lost = 0;
        for (int x = 0; x < n; x++) {
            long e = first + SampleLogRing.PAIR_STRIDE * x;
            long tag = w.get(JAVA_LONG, e);
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
            dropped += lost;
        }
    }

    /** Adds one record to its series, or drops and counts it; the caller holds the fold lock. */
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
            dropped += n;
        }
    }

    /** Folds every record on the overflow stack; the caller holds the fold lock. */
    private void drainOverflow() {
        for (int i = 0; i < overflow.length(); i++) {
            for (Overflow o = overflow.getAndSet(i, null); o != null; o = o.next()) {
                apply(o.tag(), o.value(), o.n(), o.clamped());
            }
        }
    }

    /** Folds everything recorded so far: every CPU's logs (each slice stopped once) and the overflow; the caller holds the fold lock. */
    private void foldAll() {
        for (int i = 0; i < memory.slices(); i++) {
            drain(i, fold);
        }
        drainOverflow();
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
        lock();
        try {
            memory.checkOpen();
            foldAll();
            int n = open + 16;      // series made meanwhile (without the fold lock) may add a few
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
            unlock();
        }
    }

    /**
     * Folds everything recorded and reads one series' statistics under the fold lock; with
     * {@code reset}, zeroes them in the same hold.
     *
     * @throws IllegalStateException when the series or the group is closed
     */
    public HistogramEngine.Totals collect(Series s, boolean reset) {
        lock();
        try {
            if (s.closed) {
                throw closed(s);
            }
            memory.checkOpen();
            foldAll();
            return take(s, reset);
        } finally {
            unlock();
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
        lock();
        try {
            closeLocked(s);
        } finally {
            unlock();
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
            dropped += s.stats[COUNT];
            s.stats = null;
        }
    }

    /**
     * Closes every series and gives the per-CPU memory back (waiting until no critical
     * section is in flight). Idempotent.
     */
    public void close() {
        lock();
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
            unlock();
        }
    }

    /** Empties the statistics, keeping the tag. */
    private static void empty(long[] s) {
        Arrays.fill(s, COUNT, s.length, 0L);
        s[MIN] = Long.MAX_VALUE;
        s[MAX] = Long.MIN_VALUE;
    }

    // ------------------------------------------------------------------ the fold lock

    private boolean tryLock() {
        return FOLD_LOCK.compareAndSet(this, 0, 1);
    }

    /** A recorder's {@code tryLock}: fails at once while a snapshot or close waits for the lock, which it leaves to them. */
    private boolean tryLockAsRecorder() {
        return waiting.get() == 0 && tryLock();
    }

    /**
     * Takes the fold lock, waiting (snapshots and closes only); while it waits, recorders do
     * not take the lock, so it waits for at most the fold in progress and other waiters.
     */
    private void lock() {
        if (tryLock()) {
            return;
        }
        waiting.incrementAndGet();
        try {
            for (int spins = 0; !tryLock(); spins++) {
                if (spins < SPINS_BEFORE_YIELD) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
        } finally {
            waiting.decrementAndGet();
        }
    }

    private void unlock() {
        FOLD_LOCK.setRelease(this, 0);
    }
}
