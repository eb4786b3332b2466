package io.github.rseq4j;

import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.structures.HistogramEngine;

import java.util.Objects;

/**
 * A histogram of non-negative {@code long} values (latencies, sizes) recorded from any
 * number of threads, each record one rseq critical section on the caller's CPU, and read
 * exactly: {@link #snapshotThenReset()} puts every record in exactly one interval, whole
 * (its count, its sum and its bucket together), without making recorders wait.
 *
 * <pre>{@code
 * PerCpuHistogram latency = new PerCpuHistogram(BucketLayout.logLinear(TimeUnit.MINUTES.toNanos(1), 5));
 * latency.record(1_234_567);                              // any thread: one critical section
 * HistogramCounts interval = latency.snapshotThenReset(); // e.g. once per scrape
 * long p99 = interval.valueAtQuantile(0.99);
 * }</pre>
 *
 * <p><b>Buckets.</b> A {@link BucketLayout}: {@link BucketLayout#logLinear} buckets are
 * exact below {@code 2^precision} and then {@code 2^precision} per power of two, so a bucket
 * is at most {@code 2^-precision} of its values wide (precision 5: about 3%), in the spirit
 * of HdrHistogram; {@link BucketLayout#explicit} buckets have explicit inclusive upper bounds
 * plus an unbounded last one, as Prometheus's classic histograms; other layouts give
 * explicit bounds in seconds, the exponential buckets of native histograms, and presets.
 * Values are mapped to buckets when a log is folded, so the layout does not change the
 * record path.
 *
 * <p><b>Out of range.</b> A negative value is recorded as 0 and a value above the highest
 * trackable one as that value; both are counted in {@link HistogramCounts#clamped()}.
 * Nothing is ever recorded in a wrong or corrupt bucket.
 *
 * <p><b>Cost.</b> {@link #record(long)} is one critical section on the fast path (it
 * appends the value to the CPU's active sample log); every 256
 * records on a CPU, one record also switches that CPU to a free log of its ring of
 * four (one more critical section, no fence, no stopped slice,
 * no lock) and folds the full logs into a shard of the statistics under the first free
 * shard lock, or leaves them for later when none is free. Recorders never wait for a
 * snapshot or a switcher: a thread preempted while it switches holds one log and no lock,
 * and a switch whose thread stops after its commit is completed by the next switch or
 * snapshot. {@link #record(long, long)} with a count above 1, and out-of-range values, add
 * to a shard under the first free shard lock every time (waiting only while every shard
 * lock is held). Snapshots run one at a time, and visit the shards in turn: one shard lock
 * at a time, each CPU's slice stopped briefly.
 *
 * <p><b>Implementation notes.</b> Per CPU: four interleaved sample logs
 * (256 entries each), a lock word, the log states and a
 * cursor word in per-CPU memory, and a shard of the statistics (six words and one per
 * bucket) in a heap array; {@link #bytesPerCpu()} reports both.
 *
 * <p><b>Closing.</b> {@link #close()} gives the per-CPU memory back (as
 * {@link PerCpuMemory#close()} does); records and snapshots then throw
 * {@link IllegalStateException}. A histogram dropped without {@code close()} is given back
 * by the garbage collector.
 */
public final class PerCpuHistogram implements Histogram {
    private final HistogramEngine engine;
    private final BucketLayout layout;

    /**
     * A new, empty histogram with these buckets; its per-CPU memory is allocated now
     * ({@link #bytesPerCpu()} per CPU) and given back by {@link #close()}.
     *
     * @param layout the buckets, e.g. {@link BucketLayout#logLinear}, {@link BucketLayout#explicit},
     *               {@link BucketLayout#explicitSeconds} or {@link BucketLayout#exponential}
     */
    public PerCpuHistogram(BucketLayout layout) {
        this.layout = Objects.requireNonNull(layout, "layout");
        this.engine = new HistogramEngine(layout.buckets(), JitConstants.CONTEXT);
    }

    /**
     * Records {@code value} once (see the class notes for values out of range).
     *
     * @param value the value to count, such as a latency in nanoseconds
     * @throws IllegalStateException when the histogram is closed
     */
    @Override
    public void record(long value) {
        engine.checkOpen();
        engine.record(value);
    }

    /**
     * Records {@code value} {@code count} times.
     *
     * @param value the value to count
     * @param count how many times to count it, at least 1
     * @throws IllegalArgumentException when {@code count} is not positive
     * @throws IllegalStateException    when the histogram is closed
     */
    @Override
    public void record(long value, long count) {
        if (count <= 0) {
            throw new IllegalArgumentException("count must be positive: " + count);
        }
        engine.checkOpen();
        engine.record(value, count);
    }

    /**
     * Everything recorded so far, exactly (each CPU's part read while it is stopped).
     *
     * @return an immutable snapshot; the histogram keeps its records
     * @throws IllegalStateException when the histogram is closed
     */
    @Override
    public HistogramCounts snapshot() {
        return new HistogramCounts(layout, engine.collect(false));
    }

    /**
     * Everything recorded since the last reset, and a reset: across any sequence of calls,
     * every record is in exactly one returned snapshot (or still in the histogram), whole.
     *
     * @return an immutable snapshot of the records taken out of the histogram
     * @throws IllegalStateException when the histogram is closed
     */
    @Override
    public HistogramCounts snapshotThenReset() {
        return new HistogramCounts(layout, engine.collect(true));
    }

    /**
     * The buckets.
     *
     * @return the layout this histogram was created with
     */
    @Override
    public BucketLayout layout() {
        return layout;
    }

    /**
     * Forbids further records and snapshots and gives the per-CPU memory back: the sample
     * logs, the lock, state and cursor words ({@link #bytesPerCpu()} less the heap shard of
     * the statistics, which goes with the object). Records still in the logs are lost: take
     * a last snapshot first. Waits until no record is in flight. Idempotent.
     */
    @Override
    public void close() {
        engine.close();
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return {@code true} once records and snapshots throw {@link IllegalStateException}
     */
    @Override
    public boolean isClosed() {
        return engine.isClosed();
    }

    /**
     * Number of buckets.
     *
     * @return how many buckets every snapshot of this histogram has
     */
    public int bucketCount() {
        return engine.buckets().count();
    }

    /**
     * The largest value recorded as itself.
     *
     * @return the highest trackable value; larger values are clamped to it
     */
    public long highestTrackableValue() {
        return engine.buckets().highest();
    }

    /**
     * Bytes this histogram uses per CPU: its per-CPU memory and its shard of the statistics.
     *
     * @return the size of one CPU's sample logs, lock, state and cursor words, statistic
     *         words and bucket words
     */
    public long bytesPerCpu() {
        return engine.bytesPerCpu();
    }

    @Override
    public String toString() {
        return "PerCpuHistogram[" + layout + ", " + engine.slices() + " CPUs]";
    }
}
