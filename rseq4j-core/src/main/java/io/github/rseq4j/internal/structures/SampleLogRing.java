package io.github.rseq4j.internal.structures;

import io.github.rseq4j.internal.abi.OpResult;
import io.github.rseq4j.internal.codegen.PerCpuOperation;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.lang.ref.Reference;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Per CPU, a ring of {@value #LOGS} sample logs behind one cursor, appended to in one critical
 * section and switched without a stop and without a lock: the recording path of
 * {@link HistogramEngine} (entries of one word: a value) and of {@link SeriesGroupEngine}
 * (entries of two words: a series tag and a value). What a fold does with a log's entries
 * is the engine's ({@link Fold}); so is the locking around folds and what a recorder with a
 * full log may fold ({@link #tryFoldFull}): this class only hands a log over to one folder
 * at a time.
 *
 * <p><b>Why the engines extend it.</b> Each engine <em>is</em> a ring plus its folds, as
 * java.util.concurrent's synchronizers are an {@code AbstractQueuedSynchronizer} plus their
 * {@code tryAcquire}: the protocol lives here, the engine fills in what differs. Holding a
 * ring in a field instead cost every record one more dependent load (the ring, then its
 * fields) and, with the ring's shape in fields, two more values loaded and kept across the
 * downcall: {@code PerCpuHistogram.record} measured 1.16 to 1.27 times the time of the code
 * before this class existed. Now an append reads its arguments from the engine itself, and the
 * shape ({@link #wordsPerEntry}, {@link #entriesPerLog}) is a constant of each final engine
 * class that the compiler folds into the call: the compiled record loop is the same
 * instruction sequence as before the extraction (checked with {@code -XX:+PrintAssembly}).
 *
 * <p><b>Implementation notes.</b> Recording several independent words (a bucket, the count, the
 * sum, min and max) in one critical section is impossible: a section commits one store,
 * and a restarted section must not re-apply stores it made before the abort. So a record
 * is one {@link PerCpuOperation#LOG_APPEND} of the value (or one
 * {@link PerCpuOperation#LOG_APPEND_PAIR} of a tag and a value) into the CPU's
 * <em>active</em> sample log (speculative stores of the entry, commit of the log cursor),
 * like a ring write. Each CPU has {@value #LOGS} logs, interleaved: the cursor is
 * {@code STEP * count + E * log} ({@code E} bytes per entry, {@code STEP = E * LOGS}), so
 * its low bits select the active log and entry {@code k} of log {@code b} is at byte
 * {@code STEP * k + E * b} after the cursor.
 *
 * <p>Log states: FREE (empty, may become active), ACTIVE (the cursor's log, or the log a
 * committed switch left and whose FULL mark is still to come), CLAIMED(b) (a switcher
 * claimed it to replace log {@code b}), FULL (all its entries waiting to be folded),
 * FOLDING (a folder claimed it). The states of a CPU's logs are 4-bit fields of one
 * <em>state word</em> whose upper 48 bits count its changes; every transition is a CAS of
 * the whole word, so a stale CAS never succeeds (no ABA) and a switch's two marks are one
 * atomic step.
 *
 * <p>Switching without stopping and without a lock. When a record finds its CPU's active
 * log {@code b} full, it claims a FREE log {@code j} (FREE to CLAIMED(b)) and moves the
 * cursor from {@code STEP * entries + E*b} to {@code E*j} (that log, empty) with
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
 * CPU one log of its ring for the structure's life).
 *
 * <p>Folding. A FULL log is handed to one folder at a time (FULL to FOLDING, the engine's
 * {@link Fold}, FREE); the engine decides under which lock. A snapshot's {@link #drain}
 * stops the slice (the fence makes the cursor stable), settles a committed switch, folds the
 * active log, empties it and restarts the slice, then folds the FULL logs. It never waits for
 * a switcher: a claim that has not committed holds an empty log, and one that has committed
 * is settled. A recorder whose append found the log full calls {@link #makeRoom}: a switch,
 * the engine's attempt to fold full logs without waiting, and a second switch when that
 * freed a log; no call here waits for anything.
 *
 * <p>Per-CPU layout (at the item offset given, 64-byte aligned): the state word (a cache line
 * of its own), the cursor and the interleaved logs after it. Zeroed memory is a valid empty
 * ring except the state word (log 0 ACTIVE), which the constructor sets.
 */
abstract sealed class SampleLogRing permits HistogramEngine, SeriesGroupEngine {
    /** Sample logs per CPU (a power of two; 4-bit states of them all fit below the change count). */
    static final int LOGS = 4;

    /**
     * Bytes from one entry of a log to the next, in a ring of one-word entries: one entry of
     * each log. A constant, so that a fold's addressing is one (a stride passed in cost
     * {@code PerCpuHistogram.record} about 5%).
     */
    static final long VALUE_STRIDE = 8L * LOGS;
    /** The same for a ring of (tag, value) entries. */
    static final long PAIR_STRIDE = 16L * LOGS;

    /**
     * What a fold does with entries of a log: entry {@code x} starts at byte
     * {@code first + stride * x} of {@code w}, {@code stride} being {@link #VALUE_STRIDE} or
     * {@link #PAIR_STRIDE} for the ring's entry width.
     */
    @FunctionalInterface
    interface Fold {
        /**
         * Folds {@code n} entries; nothing appends to them meanwhile.
         *
         * @param w     the whole per-CPU memory
         * @param first byte offset of the first entry's first word in {@code w}
         * @param n     entries, 0 to the log's capacity
         */
        void entries(MemorySegment w, long first, int n);
    }

    private static final VarHandle LONG = JAVA_LONG.varHandle();

    /** Log states, 4-bit fields of the state word; CLAIMED + b is "claimed to replace log b". */
    static final int FREE = 0, ACTIVE = 1, FULL = 2, FOLDING = 3, CLAIMED = 4;
    private static final int STATE_BITS = 4;
    private static final long STATE_MASK = (1L << STATE_BITS) - 1;
    /** One change of the state word (its upper bits count changes). */
    private static final long CHANGE = 1L << (STATE_BITS * LOGS);
    /** The cursor's offset from the state word. */
    private static final long CURSOR = 64;

    /** The per-CPU memory the rings are in (the engine's too). */
    final SliceMemory memory;
    private final SliceOps ops;
    /** Offsets in a slice of the state word and of the cursor. */
    private final long state, cursor;
    /** Where tests stall threads inside the switch protocol; {@link SwitchPauses#NONE} otherwise. */
    private final SwitchPauses pauses;

    /**
     * A ring in each slice of {@code memory} at item offset {@code at}, which has
     * {@link #bytes(int, int)} bytes there, zeroed; marks log 0 of every slice ACTIVE.
     *
     * @param memory       the per-CPU memory ({@code CPU_ID}: switches are pinned to a CPU)
     * @param at           the item's offset in every slice, 64-byte aligned
     * @param ops          the operations of the runtime the engine was handed
     * @param pauses       the test seam of the switch protocol
     */
    SampleLogRing(SliceMemory memory, long at, SliceOps ops, SwitchPauses pauses) {
        this.memory = memory;
        this.ops = ops;
        this.pauses = pauses;
        this.state = at;
        this.cursor = at + CURSOR;
        for (int i = 0; i < memory.slices(); i++) {
            memory.whole().set(JAVA_LONG, memory.at(i, state), (long) ACTIVE);    // log 0
        }
        VarHandle.releaseFence();
    }

    /**
     * Bytes of a ring's item in each slice.
     *
     * @param wordsPerEntry 1 or 2
     * @param entries       entries per log
     * @return the state word's line, the cursor and the logs
     */
    static long bytes(int wordsPerEntry, int entries) {
        return CURSOR + 8 + 8L * wordsPerEntry * LOGS * entries;
    }

    /**
     * Words per entry, the engine's constant: 1 (a value, {@link PerCpuOperation#LOG_APPEND})
     * or 2 (a tag and a value, {@link PerCpuOperation#LOG_APPEND_PAIR}).
     *
     * @return 1 or 2
     */
    abstract int wordsPerEntry();

    /**
     * Entries per log, the engine's constant.
     *
     * @return a positive number
     */
    abstract int entriesPerLog();

    /** Bytes per entry: 8 (a value) or 16 (a tag and a value). */
    private long entryBytes() {
        return 8L * wordsPerEntry();
    }

    /** Bytes the cursor moves per entry: one entry of each log. */
    private long step() {
        return wordsPerEntry() == 1 ? VALUE_STRIDE : PAIR_STRIDE;
    }

    /** The cursor's bound: every log full. */
    private long limit() {
        return step() * entriesPerLog();
    }

    /*
     * The two appends name their operation as a constant, never through a field: SliceOps.run
     * then inlines to one downcall of a constant method handle. Through a field holding either
     * operation the handle was not constant and each record paid a non-inlined invocation
     * (PerCpuHistogram.record 1.47x slower in dev/ab-fastpath against the code before this
     * class existed). Each checks the entry width, so a ring of one-word entries can never
     * be written two words at a time, nor the reverse; the check, the stride and the bound
     * are constants of the engine, folded away when the append is compiled into its record.
     */

    /** One critical section: appends {@code v} to the caller's CPU's active log (one-word entries); the index, or FULL. */
    long append(long v) {
        if (wordsPerEntry() != 1) {
            throw new IllegalStateException("a ring of two-word entries takes (tag, value) appends");
        }
        return ops.run(PerCpuOperation.LOG_APPEND, memory, cursor, v, VALUE_STRIDE * entriesPerLog(), VALUE_STRIDE, 0, null);
    }

    /** One critical section: appends the entry ({@code tag}, {@code v}) to the caller's CPU's active log; the index, or FULL. */
    long append(long tag, long v) {
        if (wordsPerEntry() != 2) {
            throw new IllegalStateException("a ring of one-word entries takes value appends");
        }
        return ops.run(PerCpuOperation.LOG_APPEND_PAIR, memory, cursor, tag, v, PAIR_STRIDE * entriesPerLog(), PAIR_STRIDE, null);
    }

    /**
     * The caller's append found its log full ({@code r}, checked to be FULL): switch that
     * CPU's logs (or see that another thread did), let the engine fold its full logs ({@link #tryFoldFull}), and
     * switch again when that freed a log. Waits for nothing; the caller appends again.
     *
     * @param r what the append returned
     */
    final void makeRoom(long r) {
        if (r != OpResult.FULL) {
            throw new IllegalStateException("sample log append returned " + OpResult.describe(r));
        }
        int cpu = memory.hint();
        boolean switched = trySwitch(cpu);
        boolean folded = tryFoldFull(cpu);
        if (!switched && !(folded && trySwitch(cpu))) {
            Thread.onSpinWait();
        }
    }

    /**
     * What a recorder whose log is full may try without waiting: fold slice {@code i}'s FULL
     * logs if that needs no wait (else leave them). The engine's: it owns the locks and what
     * a fold adds to.
     *
     * @param i the slice
     * @return whether a log was folded (so one is FREE again)
     */
    abstract boolean tryFoldFull(int i);

    /**
     * Makes a free log of slice {@code i} the active one, with a commit pinned to CPU
     * {@code i}, and marks the one it replaced FULL. Returns whether it switched: not when
     * the active log is not full (someone switched), no log is free, or the caller is no
     * longer on CPU {@code i}. Holds no lock. Whatever is thrown between the claim and the
     * marks leaves nothing that others wait for (see the class notes).
     */
    boolean trySwitch(int i) {
        // acquire (ldar on aarch64): the entries before the cursor, which the append's stlr published
        long c = (long) LONG.getAcquire(memory.whole(), memory.at(i, cursor));
        if (c < limit()) {
            return false;
        }
        settle(i);     // the switch to this log may have committed without its marks
        int j = claim(i, activeLog(c));
        if (j < 0) {
            return false;
        }
        pauses.at(SwitchPauses.Point.BEFORE_COMMIT);
        if (commitSwitch(i, c, j)) {
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
        long at = memory.at(i, state);
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

    /** Moves slice {@code i}'s cursor from the full {@code full} to log {@code j}, empty, if the caller runs on CPU {@code i}. */
    boolean commitSwitch(int i, long full, int j) {
        return ops.run(PerCpuOperation.COMPARE_INDEX_AND_STORE, memory, cursor, i, full, entryBytes() * j, 0, null) >= 0;
    }

    /** Gives back a claim whose switch did not commit: CLAIMED to FREE. */
    void giveBack(int i, int j) {
        MemorySegment w = memory.whole();
        long at = memory.at(i, state);
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
        long at = memory.at(i, state);
        long cursorAt = memory.at(i, cursor);
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
        long at = memory.at(i, state);
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

    private int activeLog(long c) {
        return (int) ((c & (step() - 1)) / entryBytes());
    }

    /**
     * Whether slice {@code i} has a FULL log (a hint: read without a lock).
     *
     * @param i the slice
     * @return true when one of its logs is FULL
     */
    boolean hasFull(int i) {
        long word = (long) LONG.getAcquire(memory.whole(), memory.at(i, state));
        for (int j = 0; j < LOGS; j++) {
            if (state(word, j) == FULL) {
                return true;
            }
        }
        return false;
    }

    /**
     * Folds slice {@code i}'s FULL logs with {@code fold}, each claimed first (FULL to
     * FOLDING) and FREE after; the caller holds what the engine's folds hold.
     *
     * @return whether it folded one
     */
    boolean foldFull(int i, Fold fold) {
        boolean folded = false;
        for (int j = 0; j < LOGS; j++) {
            if (transition(i, j, FULL, FOLDING)) {
                // Plain loads of the entries (aarch64 included): each append's stlr commit of the
                // cursor orders its entry before it; the thread that marked the log FULL
                // (trySwitch, or settle) had read the full cursor with an acquire, then made
                // the mark with a CAS (a release), which this transition's CAS read: a
                // release/acquire chain from every append to here.
                fold.entries(memory.whole(), memory.at(i, cursor + 8 + entryBytes() * j), entriesPerLog());
                transition(i, j, FOLDING, FREE);
                folded = true;
            }
        }
        return folded;
    }

    /**
     * Folds every entry of slice {@code i}'s logs with {@code fold} (the caller holds what
     * the engine's folds hold): with the slice stopped, settles a committed switch and folds
     * and empties the active log; then folds the FULL logs. Logs CLAIMED by a switch that has
     * not committed are empty; a log another thread is FOLDING is that thread's.
     *
     * @param i    the slice
     * @param fold what to do with the entries
     */
    void drain(int i, Fold fold) {
        MemorySegment w = memory.whole();
        long cursorAt = memory.at(i, cursor);
        memory.stop(i);
        try {
            settle(i);
            // plain loads on the stopped slice: the stop's fence orders them after every commit
            // (SliceMemory.fence says how on aarch64)
            long c = w.get(JAVA_LONG, cursorAt);
            int b = activeLog(c);
            fold.entries(w, memory.at(i, cursor + 8 + entryBytes() * b), (int) (c / step()));
            pauses.at(SwitchPauses.Point.DRAIN_STOPPED);
            w.set(JAVA_LONG, cursorAt, entryBytes() * b);     // the same log, empty
        } finally {
            memory.start(i);
        }
        foldFull(i, fold);
    }
}
