package io.github.rseq4j;

/**
 * A histogram of non-negative {@code long} values that records from any thread and reads
 * exactly: a {@link PerCpuHistogram} (its own per-CPU recording path) or a
 * {@link HistogramSeries} (one of many series sharing a {@link HistogramGroup}'s per-CPU
 * recording path). {@link PerCpuTimer} records durations into either.
 *
 * <p>Every implementation puts each record in exactly one {@link #snapshotThenReset()}
 * interval, whole (its count, sum, min, max and bucket together), without making recorders
 * wait. A negative value is recorded as 0 and a value above the layout's highest trackable
 * value as that value; both are counted in {@link HistogramCounts#clamped()}.
 */
public sealed interface Histogram extends AutoCloseable permits PerCpuHistogram, HistogramSeries {

    /**
     * Records {@code value} once.
     *
     * @param value the value to count, such as a latency in nanoseconds
     * @throws IllegalStateException when the histogram is closed
     */
    void record(long value);

    /**
     * Records {@code value} {@code count} times.
     *
     * @param value the value to count
     * @param count how many times to count it, at least 1
     * @throws IllegalArgumentException when {@code count} is not positive
     * @throws IllegalStateException    when the histogram is closed
     */
    void record(long value, long count);

    /**
     * Everything recorded since the last reset, exactly; the histogram keeps its records.
     *
     * @return an immutable snapshot
     * @throws IllegalStateException when the histogram is closed
     */
    HistogramCounts snapshot();

    /**
     * Everything recorded since the last reset, and a reset: across any sequence of calls,
     * every record is in exactly one returned snapshot (or still in the histogram), whole.
     *
     * @return an immutable snapshot of the records taken out of the histogram
     * @throws IllegalStateException when the histogram is closed
     */
    HistogramCounts snapshotThenReset();

    /**
     * The buckets.
     *
     * @return the layout this histogram was created with
     */
    BucketLayout layout();

    /**
     * Forbids further records and snapshots and frees what the histogram holds. Idempotent.
     */
    @Override
    void close();

    /**
     * Whether {@link #close()} was called (for a series, also whether its group was closed).
     *
     * @return {@code true} once records and snapshots throw {@link IllegalStateException}
     */
    boolean isClosed();
}
