package io.github.rseq4j;

import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.structures.SeriesGroupEngine;

import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * Many histogram series (thousands of timers: endpoint, method, status) sharing one per-CPU
 * recording path, so the memory of a series does not depend on the CPU count and the per-CPU
 * memory does not depend on the number of series, as LTTng and perf share a per-CPU buffer
 * between all events.
 *
 * <pre>{@code
 * HistogramGroup group = new HistogramGroup();
 * PerCpuTimer getUsers = group.newTimer(BucketLayout.micrometerTimerDefault());
 * HistogramSeries sizes = group.newSeries(BucketLayout.exponential(3, 1L << 30));
 * getUsers.record(Duration.ofMillis(3));          // any thread: one critical section
 * sizes.record(4096);
 * group.snapshotThenReset((series, counts) -> System.out.println(series + ": " + counts));
 * }</pre>
 *
 * <p><b>Recording.</b> A record of a series is one critical section that appends the pair
 * (series tag, value) to the active sample log of the caller's CPU; each CPU has a ring of
 * four logs of 1,024 pairs. When a log fills, one record switches the CPU to a free log (one
 * more critical section, no fence, no lock) and folds the full logs into the series'
 * statistics if the group's fold lock is free, else leaves them for later. No record ever
 * waits for a fold or a snapshot: when a CPU has no free log, and for
 * {@link HistogramSeries#record(long, long)} with a count above 1 and values out of range,
 * the record goes directly into its series' statistics when the fold lock is free, else onto
 * a lock-free overflow stack (a small heap node) that the next fold takes. Folds run one at a
 * time, so a group sustains at most one thread's fold rate.
 *
 * <p><b>Snapshots.</b> {@link #snapshot(BiConsumer)} and {@link #snapshotThenReset(BiConsumer)}
 * read every open series at one cut: each CPU is stopped once (one fence per CPU for all the
 * series), its logs are folded, then every series is read (and with reset, zeroed) under the
 * fold lock. Every record lands in exactly one {@code snapshotThenReset} interval, whole
 * (count, sum, min, max and bucket). Snapshots of one {@link HistogramSeries} do the same
 * folding and read just that series.
 *
 * <p><b>Cost.</b> Per CPU, fixed: 65,608 bytes ({@link #bytesPerCpu()}: 65,536 of logs,
 * the cursor word and a cache line for the log states), whatever the number of series. Per
 * series, on the heap and independent of the CPU count: {@code 156 + 8 * b} bytes for a
 * layout of {@code b} buckets (with compressed references, the default for heaps below
 * 32 GB): its statistics array ({@code 16 + 8 * (6 + b)}), its two objects (72) and its
 * entries in the group's slot tables (20; they grow by doubling, so up to twice that); a
 * {@link PerCpuTimer} made by {@link #newTimer} adds 16. So a 69-bucket timer series (the
 * size of Micrometer's percentile histogram) takes 724 bytes by the formula; 751 to 774 were
 * measured here per timer series, the tables' doubling slack included (10,000 of them, heap
 * after GC: {@code SeriesGroupMemoryMain} in rseq4j-bench): under 8 MB for 10,000 on any
 * number of CPUs, plus the group's 65,608 bytes per CPU. ({@link HistogramSeries#heapBytes()}
 * gives the formula's figure for a series.)
 *
 * <p><b>Closing.</b> A series can be closed at any time: its slot and statistics are freed;
 * its records not yet returned by a snapshot (still in its statistics, or still in a log or
 * the overflow) are dropped and counted in {@link #droppedRecords()}, never folded into a
 * series made later in the same slot (each reuse of a slot changes the tag's 40-bit
 * generation). {@link #close()} closes every series and gives the per-CPU memory back.
 */
public final class HistogramGroup implements AutoCloseable {
    private final SeriesGroupEngine engine;

    /**
     * An empty group: its per-CPU sample logs are allocated now ({@link #bytesPerCpu()} per
     * CPU) and given back by {@link #close()}. Its series are made by {@link #newSeries} and
     * {@link #newTimer}.
     */
    public HistogramGroup() {
        this.engine = new SeriesGroupEngine(JitConstants.CONTEXT);
    }

    SeriesGroupEngine engine() {
        return engine;
    }

    /**
     * A new, empty series with these buckets, recording through this group.
     *
     * @param layout the buckets, e.g. {@link BucketLayout#explicitSeconds} or {@link BucketLayout#exponential}
     * @return the series
     * @throws IllegalStateException when the group is closed or holds 2^24 series
     */
    public HistogramSeries newSeries(BucketLayout layout) {
        Objects.requireNonNull(layout, "layout");
        return (HistogramSeries) engine.newSeries(layout.buckets(), s -> new HistogramSeries(this, layout, s)).owner();
    }

    /**
     * A timer (values in nanoseconds) backed by a new series with these buckets; closing the
     * timer closes the series.
     *
     * @param layout the buckets, in nanoseconds (e.g. {@link BucketLayout#micrometerTimerDefault()})
     * @return the timer; {@link PerCpuTimer#histogram()} is its series
     * @throws IllegalStateException when the group is closed or holds 2^24 series
     */
    public PerCpuTimer newTimer(BucketLayout layout) {
        return new PerCpuTimer(newSeries(layout));
    }

    /**
     * Passes a snapshot of every open series to {@code sink}, all cut at the same point (see
     * the class notes); the series keep their records. {@code sink} is called after the
     * snapshot, on the calling thread, in the order the series occupy their slots.
     *
     * @param sink receives each series and its snapshot
     * @throws IllegalStateException when the group is closed
     */
    public void snapshot(BiConsumer<? super HistogramSeries, ? super HistogramCounts> sink) {
        deliver(engine.collect(false), Objects.requireNonNull(sink, "sink"));
    }

    /**
     * Passes a snapshot of every open series to {@code sink} and resets them all, at one cut:
     * across any sequence of calls, every record of a series is in exactly one of its
     * snapshots (or still in the series), whole.
     *
     * @param sink receives each series and the records taken out of it
     * @throws IllegalStateException when the group is closed
     */
    public void snapshotThenReset(BiConsumer<? super HistogramSeries, ? super HistogramCounts> sink) {
        deliver(engine.collect(true), Objects.requireNonNull(sink, "sink"));
    }

    private static void deliver(SeriesGroupEngine.Collected c,
                                BiConsumer<? super HistogramSeries, ? super HistogramCounts> sink) {
        for (int k = 0; k < c.n(); k++) {
            HistogramSeries s = (HistogramSeries) c.series()[k].owner();
            sink.accept(s, new HistogramCounts(s.layout(), c.totals()[k]));
        }
    }

    /**
     * Series open now.
     *
     * @return how many series were made and not closed
     */
    public int seriesCount() {
        return engine.seriesCount();
    }

    /**
     * Records of closed series that no snapshot returned: those still in the series'
     * statistics when it was closed, and those found in a sample log or the overflow after
     * (counted when that log is folded: by a recorder's fold or the next snapshot). Once a
     * snapshot has run after the close, the counts a closed series' snapshots returned plus
     * its share of this are exactly its records.
     *
     * @return records dropped since the group was made
     */
    public long droppedRecords() {
        return engine.droppedRecords();
    }

    /**
     * Per-CPU bytes of the group: its sample logs, cursor and state words, fixed whatever the
     * number of series.
     *
     * @return bytes per CPU
     */
    public long bytesPerCpu() {
        return engine.bytesPerCpu();
    }

    /** Heap bytes of one series of {@code buckets} buckets: the engine's part and the {@link HistogramSeries} object. */
    static long heapBytesPerSeries(int buckets) {
        return SeriesGroupEngine.heapBytes(buckets) + 24;
    }

    /**
     * Closes every series and gives the per-CPU memory back; records, snapshots and new
     * series then throw {@link IllegalStateException}. Waits until no record is in flight.
     * Idempotent.
     */
    @Override
    public void close() {
        engine.close();
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return {@code true} once the group is closed
     */
    public boolean isClosed() {
        return engine.isClosed();
    }

    @Override
    public String toString() {
        return "HistogramGroup[" + seriesCount() + " series, " + engine.slices() + " CPUs]";
    }
}
