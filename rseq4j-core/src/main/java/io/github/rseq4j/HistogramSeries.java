package io.github.rseq4j;

import io.github.rseq4j.internal.structures.SeriesGroupEngine;

/**
 * One histogram series of a {@link HistogramGroup}: its records go through the group's
 * per-CPU sample logs, shared by all its series, into one set of statistics of its own (a
 * count, a sum, min, max and one counter per bucket), so it costs the same heap on any
 * number of CPUs. Made by {@link HistogramGroup#newSeries(BucketLayout)}.
 *
 * <pre>{@code
 * HistogramGroup group = new HistogramGroup();
 * HistogramSeries sizes = group.newSeries(BucketLayout.exponential(3, 1L << 30));
 * sizes.record(4096);                                   // any thread: one critical section
 * HistogramCounts interval = sizes.snapshotThenReset();
 * }</pre>
 *
 * <p>{@link #record(long)} is one critical section on the fast path, as for a
 * {@link PerCpuHistogram}; see {@link HistogramGroup} for what happens when a log fills, and
 * for the cost. {@link #snapshot()} and {@link #snapshotThenReset()} of one series stop every
 * CPU once, as a group snapshot does: to read many series, take one
 * {@link HistogramGroup#snapshotThenReset group snapshot}.
 *
 * <p><b>Closing.</b> {@link #close()} frees the series' slot and statistics; records and
 * snapshots then throw {@link IllegalStateException}. Its records not yet returned by a
 * snapshot, including those still in a log, are dropped and counted in
 * {@link HistogramGroup#droppedRecords()}, never folded into a later series. Closing the
 * group closes every series.
 */
public final class HistogramSeries implements Histogram {
    private final HistogramGroup group;
    private final BucketLayout layout;
    private final SeriesGroupEngine.Series series;

    HistogramSeries(HistogramGroup group, BucketLayout layout, SeriesGroupEngine.Series series) {
        this.group = group;
        this.layout = layout;
        this.series = series;
    }

    /**
     * Records {@code value} once: one critical section on the fast path (see
     * {@link Histogram} for values out of range).
     *
     * @param value the value to count, such as a latency in nanoseconds
     * @throws IllegalStateException when the series is closed
     */
    @Override
    public void record(long value) {
        group.engine().record(series, value);
    }

    /**
     * Records {@code value} {@code count} times, whole (without waiting for a fold or a snapshot).
     *
     * @param value the value to count
     * @param count how many times to count it, at least 1
     * @throws IllegalArgumentException when {@code count} is not positive
     * @throws IllegalStateException    when the series is closed
     */
    @Override
    public void record(long value, long count) {
        if (count <= 0) {
            throw new IllegalArgumentException("count must be positive: " + count);
        }
        group.engine().record(series, value, count);
    }

    /**
     * Everything this series recorded since its last reset, exactly (every CPU's logs folded,
     * each CPU stopped once).
     *
     * @return an immutable snapshot; the series keeps its records
     * @throws IllegalStateException when the series is closed
     */
    @Override
    public HistogramCounts snapshot() {
        return new HistogramCounts(layout, group.engine().collect(series, false));
    }

    /**
     * Everything this series recorded since its last reset, and a reset: every record is in
     * exactly one returned snapshot (or still in the series), whole.
     *
     * @return an immutable snapshot of the records taken out of the series
     * @throws IllegalStateException when the series is closed
     */
    @Override
    public HistogramCounts snapshotThenReset() {
        return new HistogramCounts(layout, group.engine().collect(series, true));
    }

    /**
     * The buckets.
     *
     * @return the layout this series was created with
     */
    @Override
    public BucketLayout layout() {
        return layout;
    }

    /**
     * The group this series records through.
     *
     * @return its group
     */
    public HistogramGroup group() {
        return group;
    }

    /**
     * Frees this series' slot and statistics; its records not yet returned by a snapshot
     * are dropped and counted in {@link HistogramGroup#droppedRecords()}. Waits for a fold or
     * snapshot of the group in progress. Idempotent.
     */
    @Override
    public void close() {
        group.engine().close(series);
    }

    /**
     * Whether this series, or its group, was closed.
     *
     * @return {@code true} once records and snapshots throw {@link IllegalStateException}
     */
    @Override
    public boolean isClosed() {
        return series.isClosed();
    }

    /**
     * Heap bytes this series holds (with compressed references, the default for heaps below
     * 32 GB): its statistics (five words and one per bucket, in one array), the objects that
     * hold them and its entries in the group's slot tables. Independent of the CPU count.
     *
     * @return bytes on the heap for this series
     */
    public long heapBytes() {
        return HistogramGroup.heapBytesPerSeries(layout.bucketCount());
    }

    @Override
    public String toString() {
        return "HistogramSeries[" + layout + (isClosed() ? ", closed" : "") + "]";
    }
}
