package io.github.rseq4j;

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
     * A compare failed: the expected value was not there, the list was empty, or the ring
     * had no room. The operation ran to its decision on one slice and changed nothing.
     */
    public static final long COMPARE_FAILED = -1;

    /**
     * The critical section was aborted (preemption, migration, signal, fence) more times
     * in a row than the retry bound allows. Nothing was stored; retrying later is safe.
     */
    public static final long ABORTED = -2;

    /** The slice was stopped ({@link PerCpuMemory#stop}); nothing was stored. */
    public static final long STOPPED = -3;

    /** The calling thread has no rseq registration; nothing was stored. */
    public static final long NOT_REGISTERED = -4;

    /** Whether {@code result} reports a committed operation. */
    public static boolean isSuccess(long result) {
        return result >= 0;
    }

    /** A short word for a result code, for messages and logs. */
    public static String describe(long result) {
        if (result >= 0) {
            return "success(" + result + ")";
        }
        return switch ((int) result) {
            case -1 -> "compare-failed";
            case -2 -> "aborted";
            case -3 -> "stopped";
            case -4 -> "not-registered";
            default -> "unknown(" + result + ")";
        };
    }
}
