package io.github.rseq4j.internal.abi;

/**
 * Result codes of generated per-CPU operations, shared by the generated code, its Java
 * twins and the public {@code RseqResult}.
 *
 * <p>A value {@code >= 0} means the operation committed (the slice index, or what the
 * operation returns instead, such as a popped node's address). Negative values are of two
 * kinds: <em>decided</em> failures ({@link #COMPARE_FAILED}, {@link #EMPTY}, {@link #FULL}),
 * where the operation ran to its decision on one slice and changed nothing, and
 * <em>undecided</em> ones ({@link #ABORTED}, {@link #STOPPED}, {@link #NOT_REGISTERED}),
 * where it never reached a decision and must be retried or completed on the stop-and-fence
 * path.
 */
public final class OpResult {
    private OpResult() {}

    /** Decided: an expected value was not there. */
    public static final long COMPARE_FAILED = -1;
    /** Undecided: aborted more times in a row than the retry bound allows. */
    public static final long ABORTED = -2;
    /** Undecided: the slice was stopped (or the index lies outside the memory). */
    public static final long STOPPED = -3;
    /** Undecided: the calling thread has no rseq registration. */
    public static final long NOT_REGISTERED = -4;
    /** Decided: the list was empty. */
    public static final long EMPTY = -5;
    /** Decided: the ring had no room for the record. */
    public static final long FULL = -6;

    /**
     * Whether {@code r} is a decision: a commit or a decided failure.
     *
     * @param r a result code of a per-CPU operation
     * @return {@code true} for a commit, {@link #COMPARE_FAILED}, {@link #EMPTY} or {@link #FULL}
     */
    public static boolean decided(long r) {
        return r >= 0 || r == COMPARE_FAILED || r == EMPTY || r == FULL;
    }

    /**
     * Whether {@code r} is a reason to take the stop-and-fence path.
     *
     * @param r a result code of a per-CPU operation
     * @return {@code true} for {@link #ABORTED}, {@link #STOPPED} or {@link #NOT_REGISTERED}
     */
    public static boolean undecided(long r) {
        return r == ABORTED || r == STOPPED || r == NOT_REGISTERED;
    }

    /**
     * A short word for a result code, for messages and logs.
     *
     * @param r a result code of a per-CPU operation
     * @return {@code success(r)} for a commit, else the code's name, such as
     *         {@code compare-failed}, or {@code unknown(r)}
     */
    public static String describe(long r) {
        if (r >= 0) {
            return "success(" + r + ")";
        }
        return switch ((int) r) {
            case -1 -> "compare-failed";
            case -2 -> "aborted";
            case -3 -> "stopped";
            case -4 -> "not-registered";
            case -5 -> "empty";
            case -6 -> "full";
            default -> "unknown(" + r + ")";
        };
    }
}
