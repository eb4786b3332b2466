package io.github.rseq4j.internal.memory;

import io.github.rseq4j.internal.abi.OpResult;
import io.github.rseq4j.internal.codegen.OperationSet;
import io.github.rseq4j.internal.codegen.PerCpuOperation;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.runtime.RuntimeContext;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;


/**
 * Per-CPU operations that always complete: the generated critical section first, and
 * when it cannot reach a decision (no registration, too many aborts, slice stopped) the
 * operation's Java twin on a slice taken with the stop protocol. In portable mode only
 * the second.
 *
 * <p><b>Implementation notes.</b> One generic path, {@link #run}, serves every
 * {@link PerCpuOperation}; the named methods are one-line conveniences. The operations,
 * statistics and registrations come from a {@link RuntimeContext} handed down by whoever
 * builds the structure ({@link #of}). A record, so that {@link #DEFAULT} (a
 * {@code static final}, the process's context) and its operation sets are constants to the
 * JIT: {@code run} and {@code attempt} dispatch on {@code this == DEFAULT} (a compare with a constant) and
 * runs the default through the constant itself, so {@code run} with a constant operation
 * inlines to one downcall and a sign test even when the structure holds its
 * {@code SliceOps} in an instance field. A thread that reports NOT_REGISTERED is registered
 * (where rseq4j owns registration) and retried once before falling back.
 *
 * <p>Other instances serve the stress harness: {@link #fallbackOnly} sends every
 * operation down the stop-and-fence path (as if the thread had no registration), and
 * {@link #of} with {@link RuntimeContext#withOperations} runs a separately generated set
 * (with delay loops).
 *
 * <p>Callers validate arguments; methods here trust offsets and node addresses.
 *
 * @param context        the operations for each index field (null ones take the fallback
 *                       path), the statistics and the registrations
 * @param fallbackReason the reason counted when there are no operations for a memory:
 *                       {@link #PORTABLE}, or an {@link OpResult} undecided code
 */
public record SliceOps(RuntimeContext context, long fallbackReason) {

    /** Reason code for operations run in portable mode. */
    public static final long PORTABLE = Long.MIN_VALUE;

    /** The process's operations (portable where there is no rseq). */
    public static final SliceOps DEFAULT = new SliceOps(JitConstants.CONTEXT, PORTABLE);

    /**
     * Checks the context and the fallback reason.
     *
     * @param context        the collaborators, not null
     * @param fallbackReason {@link #PORTABLE} or an undecided {@link OpResult} code
     * @throws IllegalArgumentException for any other reason code
     */
    public SliceOps {
        if (context == null) {
            throw new NullPointerException("context");
        }
        if (fallbackReason != PORTABLE && !OpResult.undecided(fallbackReason)) {
            throw new IllegalArgumentException("not a fallback reason: " + OpResult.describe(fallbackReason));
        }
    }

    /**
     * The operations of {@code context}: {@link #DEFAULT} for the process's context.
     *
     * @param context the collaborators a structure was built with
     * @return operations that run {@code context}'s operation sets
     */
    public static SliceOps of(RuntimeContext context) {
        return context == DEFAULT.context ? DEFAULT : new SliceOps(context, PORTABLE);
    }

    /**
     * Operations that always take the stop-and-fence path, counted under {@code reason}.
     *
     * @param context the collaborators (its statistics count the fallbacks; its operations are not used)
     * @param reason  the fallback reason every operation is counted under: {@link #PORTABLE}
     *                or an undecided {@link OpResult} code
     * @return operations with no generated code
     */
    public static SliceOps fallbackOnly(RuntimeContext context, long reason) {
        return new SliceOps(new RuntimeContext(null, null, context.fences(), context.stats(), context.registrations()),
                reason);
    }

    /**
     * The generated operations for {@code m}'s index field, or null.
     *
     * @param m the per-CPU memory an operation is for
     * @return the operation set for its index field, or null when there is none
     */
    public OperationSet set(SliceMemory m) {
        return context.operations(m.mode());
    }

    /**
     * Runs {@code op} on the caller's slice of {@code m} until it reaches a decision:
     * a commit ({@code >= 0}) or a decided failure (COMPARE_FAILED, EMPTY, FULL).
     * Arguments as in {@link PerCpuOperation}'s uniform signature.
     *
     * @param op       the operation to run
     * @param m        the per-CPU memory to operate on
     * @param a1       the operation's first {@code long} argument (see its constant), or ignored
     * @param a2       its second {@code long} argument, or ignored
     * @param a3       its third {@code long} argument, or ignored
     * @param a4       its fourth {@code long} argument, or ignored
     * @param a5       its fifth {@code long} argument, or ignored
     * @param src      its source segment, for an operation that takes one; else ignored
     * @return the decision: {@code >= 0} committed, else a decided {@link OpResult} failure
     */
    public long run(PerCpuOperation op, SliceMemory m, long a1, long a2, long a3, long a4, long a5, MemorySegment src) {
        return this == DEFAULT ? DEFAULT.runWith(op, m, a1, a2, a3, a4, a5, src) : runWith(op, m, a1, a2, a3, a4, a5, src);
    }

    /** {@link #run} with this instance's operations. */
    private long runWith(PerCpuOperation op, SliceMemory m, long a1, long a2, long a3, long a4, long a5,
                         MemorySegment src) {
        OperationSet s = set(m);
        if (s == null) {
            return onStoppedSlice(op, m, fallbackReason, a1, a2, a3, a4, a5, src);
        }
        if (AbortBudget.anyCut()) {
            AbortBudget.Cut cut = AbortBudget.current();
            if (cut != null) {
                return runCut(cut, op, s, m, a1, a2, a3, a4, a5, src);
            }
        }
        long r = s.invoke(op, m.operationBase(), a1, a2, a3, a4, a5, src);
        if (OpResult.decided(r)) {
            return r;
        }
        if (r == OpResult.NOT_REGISTERED && context.registrations().ensureRegistered()) {
            r = s.invoke(op, m.operationBase(), a1, a2, a3, a4, a5, src);
            if (OpResult.decided(r)) {
                return r;
            }
        }
        if (r == OpResult.ABORTED) {
            AbortBudget.exhausted();
        }
        return onStoppedSlice(op, m, r, a1, a2, a3, a4, a5, src);
    }

    /** {@link #run} for a thread whose attempt budget is cut to one (see {@link AbortBudget}). */
    private long runCut(AbortBudget.Cut cut, PerCpuOperation op, OperationSet s, SliceMemory m,
                               long a1, long a2, long a3, long a4, long a5, MemorySegment src) {
        long r = s.invokeOnce(op, m.operationBase(), a1, a2, a3, a4, a5, src);
        if (OpResult.decided(r)) {
            AbortBudget.decided(cut);
            return r;
        }
        if (r == OpResult.NOT_REGISTERED && context.registrations().ensureRegistered()) {
            r = s.invokeOnce(op, m.operationBase(), a1, a2, a3, a4, a5, src);
            if (OpResult.decided(r)) {
                AbortBudget.decided(cut);
                return r;
            }
        }
        if (r == OpResult.ABORTED) {
            AbortBudget.abortedAgain(cut);
        }
        return onStoppedSlice(op, m, r, a1, a2, a3, a4, a5, src);
    }

    /**
     * One attempt of {@code op}'s critical section: its raw {@link OpResult} code, or
     * NOT_REGISTERED where there are no generated operations.
     *
     * @param op       the operation to run
     * @param m        the per-CPU memory to operate on
     * @param a1       the operation's first {@code long} argument (see its constant), or ignored
     * @param a2       its second {@code long} argument, or ignored
     * @param a3       its third {@code long} argument, or ignored
     * @param a4       its fourth {@code long} argument, or ignored
     * @param a5       its fifth {@code long} argument, or ignored
     * @param src      its source segment, for an operation that takes one; else ignored
     * @return the attempt's result: {@code >= 0} committed, else any {@link OpResult} failure
     */
    public long attempt(PerCpuOperation op, SliceMemory m, long a1, long a2, long a3, long a4, long a5,
                        MemorySegment src) {
        // as in run: the default through the constant, so the JIT folds its operation set
        return this == DEFAULT ? DEFAULT.attemptWith(op, m, a1, a2, a3, a4, a5, src)
                : attemptWith(op, m, a1, a2, a3, a4, a5, src);
    }

    /** {@link #attempt} with this instance's operations. */
    private long attemptWith(PerCpuOperation op, SliceMemory m, long a1, long a2, long a3, long a4, long a5,
                             MemorySegment src) {
        OperationSet s = set(m);
        return s == null ? OpResult.NOT_REGISTERED : s.invoke(op, m.operationBase(), a1, a2, a3, a4, a5, src);
    }

    /**
     * The fallback path shared by every operation: counts why, stops a slice (the
     * caller's CPU's if free), runs the operation's twin on it, restarts it.
     */
    private long onStoppedSlice(PerCpuOperation op, SliceMemory m, long reason,
                                       long a1, long a2, long a3, long a4, long a5, MemorySegment src) {
        if (reason == PORTABLE) {
            context.stats().recordPortable();
        } else {
            context.stats().record(reason);
        }
        int i = m.stopForOperation();
        try {
            return onHeldSlice(op, m, i, a1, a2, a3, a4, a5, src);
        } finally {
            m.start(i);
        }
    }

    /**
     * Runs {@code op}'s twin on slice {@code index}, which the caller holds stopped.
     *
     * @param op       the operation to run
     * @param m        the per-CPU memory to operate on
     * @param index    the slice the caller holds stopped
     * @param a1       the operation's first {@code long} argument (see its constant), or ignored
     * @param a2       its second {@code long} argument, or ignored
     * @param a3       its third {@code long} argument, or ignored
     * @param a4       its fourth {@code long} argument, or ignored
     * @param a5       its fifth {@code long} argument, or ignored
     * @param src      its source segment, for an operation that takes one; else ignored
     * @return the twin's result: {@code >= 0} committed, else a decided {@link OpResult} failure
     */
    public static long onHeldSlice(PerCpuOperation op, SliceMemory m, int index,
                                   long a1, long a2, long a3, long a4, long a5, MemorySegment src) {
        return op.onStoppedSlice(m.whole(), index, m.at(index, 0), a1, a2, a3, a4, a5, src);
    }

    // ------------------------------------------------------------------ conveniences

    /**
     * *v += delta on the caller's slice; returns the index used.
     *
     * @param m        the per-CPU memory to operate on
     * @param off      the word's offset in the slice
     * @param delta    the amount to add
     * @return the index of the slice the add went to
     */
    public long add(SliceMemory m, long off, long delta) {
        return run(PerCpuOperation.ADD, m, off, delta, 0, 0, 0, null);
    }

    /**
     * If *v == expect then *v = newValue, on the caller's slice: index or COMPARE_FAILED.
     *
     * @param m        the per-CPU memory to operate on
     * @param off      the word's offset in the slice
     * @param expect   the value the word must hold
     * @param newValue the value stored when it does
     * @param release  whether the store has release ordering
     * @return the slice index on a store, else {@link OpResult#COMPARE_FAILED}
     */
    public long compareAndStore(SliceMemory m, long off, long expect, long newValue, boolean release) {
        return release
                ? run(PerCpuOperation.COMPARE_AND_STORE_RELEASE, m, off, expect, newValue, 0, 0, null)
                : run(PerCpuOperation.COMPARE_AND_STORE, m, off, expect, newValue, 0, 0, null);
    }

    /**
     * If *v1 == e1 and *v2 == e2 then *v1 = newValue: index or COMPARE_FAILED.
     *
     * @param m        the per-CPU memory to operate on
     * @param off1     the offset of the word compared with {@code e1} and stored to
     * @param e1       the value the word at {@code off1} must hold
     * @param off2     the offset of the second word compared
     * @param e2       the value the word at {@code off2} must hold
     * @param newValue the value stored at {@code off1} when both compares succeed
     * @return the slice index on a store, else {@link OpResult#COMPARE_FAILED}
     */
    public long compare2AndStore(SliceMemory m, long off1, long e1, long off2, long e2, long newValue) {
        return run(PerCpuOperation.COMPARE2_AND_STORE, m, off1, e1, off2, e2, newValue, null);
    }

    /**
     * Pushes {@code node} on the caller's slice's list at headOff; returns the index.
     *
     * @param m        the per-CPU memory to operate on
     * @param headOff  the offset of the list's head word in the slice
     * @param node     the address of the node to push, in no list
     * @param nextOff  the offset of the link word in a node
     * @return the index of the slice whose list the node went on
     */
    public long push(SliceMemory m, long headOff, long node, long nextOff) {
        return run(PerCpuOperation.PUSH, m, headOff, node, nextOff, 0, 0, null);
    }

    /**
     * Pops from the caller's slice's list: the node's address, or EMPTY.
     *
     * @param m        the per-CPU memory to operate on
     * @param headOff  the offset of the list's head word in the slice
     * @param nextOff  the offset of the link word in a node
     * @return the popped node's address, or {@link OpResult#EMPTY}
     */
    public long pop(SliceMemory m, long headOff, long nextOff) {
        return run(PerCpuOperation.POP, m, headOff, nextOff, 0, 0, 0, null);
    }

    /**
     * Appends one record to the caller's slice's ring at ringOff: index, or FULL when
     * that ring has no room. {@code src} must be safe for generated code to read.
     *
     * @param m        the per-CPU memory to operate on
     * @param ringOff  the offset of the ring item in the slice
     * @param src      the record's bytes (heap or native, not memory-mapped)
     * @param len      the record's size in bytes
     * @return the index of the slice whose ring took the record, or {@link OpResult#FULL}
     */
    public long ringWrite(SliceMemory m, long ringOff, MemorySegment src, long len) {
        return run(PerCpuOperation.RING_WRITE, m, ringOff, len, 0, 0, 0, src);
    }

    /**
     * Pops from slice {@code i}, which the caller holds stopped: address or EMPTY.
     *
     * @param m        the per-CPU memory to operate on
     * @param i        the slice the caller holds stopped
     * @param headOff  the offset of the list's head word in the slice
     * @param nextOff  the offset of the link word in a node
     * @return the popped node's address, or {@link OpResult#EMPTY}
     */
    public static long popStopped(SliceMemory m, int i, long headOff, long nextOff) {
        return onHeldSlice(PerCpuOperation.POP, m, i, headOff, nextOff, 0, 0, 0, null);
    }

    /**
     * Pushes on slice {@code i}, which the caller holds stopped.
     *
     * @param m        the per-CPU memory to operate on
     * @param i        the slice the caller holds stopped
     * @param headOff  the offset of the list's head word in the slice
     * @param node     the address of the node to push, in no list
     * @param nextOff  the offset of the link word in a node
     */
    public static void pushStopped(SliceMemory m, int i, long headOff, long node, long nextOff) {
        onHeldSlice(PerCpuOperation.PUSH, m, i, headOff, node, nextOff, 0, 0, null);
    }

    /**
     * Reads one 64-bit copy of an item with acquire ordering (for sums and snapshots).
     *
     * @param m        the per-CPU memory to operate on
     * @param index    the slice to read
     * @param off      the word's offset in the slice
     * @return the word's value in that slice
     */
    public static long getAcquire(SliceMemory m, int index, long off) {
        // acquire (ldar on aarch64): pairs with the release commits (stlr) and start()'s release store
        return (long) ValueLayout.JAVA_LONG.varHandle().getAcquire(m.whole(), m.at(index, off));
    }
}
