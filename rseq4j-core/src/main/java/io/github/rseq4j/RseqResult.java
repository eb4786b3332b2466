package io.github.rseq4j;

import io.github.rseq4j.internal.abi.OpResult;

/**
 * Result codes of the low-level per-CPU operations ({@link PerCpuItem}, {@link PerCpuRing}).
 *
 * <p>Every such operation returns a {@code long}: a value {@code >= 0} means it committed
 * (the value is the slice index it ran on); a negative value is one of the constants
 * below and means nothing was stored.
 * Codes are plain numbers so that the fast path allocates nothing.
 */
public final class RseqResult {
    private RseqResult() {}

    /**
     * A compare failed: the expected value was not there. The operation ran to its
     * decision on one slice and changed nothing.
     */
    public static final long COMPARE_FAILED = OpResult.COMPARE_FAILED;

    /**
     * The critical section was aborted (preemption, migration, signal, fence) more times
     * in a row than the retry bound allows. Nothing was stored; retrying later is safe.
     */
    public static final long ABORTED = OpResult.ABORTED;

    /** The slice was stopped ({@link PerCpuMemory#stop}); nothing was stored. */
    public static final long STOPPED = OpResult.STOPPED;

    /** The calling thread has no rseq registration; nothing was stored. */
    public static final long NOT_REGISTERED = OpResult.NOT_REGISTERED;

    /**
     * A per-CPU list or cache was empty: nothing was taken (a decision, like
     * COMPARE_FAILED). {@link PerCpuList#pop()} reports it as {@code null}.
     */
    public static final long EMPTY = OpResult.EMPTY;

    /** The calling CPU's ring had no room for the record: nothing was written (a decision). */
    public static final long FULL = OpResult.FULL;

    /**
     * Whether {@code result} reports a committed operation.
     *
     * @param result a result code returned by a per-CPU operation
     * @return {@code true} when it is a slice index ({@code >= 0}), so the operation stored
     */
    public static boolean isSuccess(long result) {
        return result >= 0;
    }

    /**
     * Whether {@code result} is a decision: a commit, or a failure that says the state of
     * the slice did not allow the operation (COMPARE_FAILED, EMPTY, FULL). The others
     * (ABORTED, STOPPED, NOT_REGISTERED) say nothing about the data; retrying is safe.
     *
     * @param result a result code returned by a per-CPU operation
     * @return {@code true} for a commit, COMPARE_FAILED, EMPTY or FULL; {@code false} for a
     *         code that only says the attempt did not run to its end
     */
    public static boolean isDecided(long result) {
        return OpResult.decided(result);
    }

    /**
     * A short word for a result code, for messages and logs.
     *
     * @param result a result code returned by a per-CPU operation
     * @return {@code success(i)} for a commit on slice {@code i}, else the code's name, such
     *         as {@code compare-failed} or {@code not-registered}
     */
    public static String describe(long result) {
        return OpResult.describe(result);
    }
}
