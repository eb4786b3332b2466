package io.github.rseq4j;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Durations recorded in nanoseconds into a {@link Histogram}: a {@link PerCpuHistogram} of
 * its own ({@link #PerCpuTimer()}), or a {@link HistogramSeries} of a {@link HistogramGroup}
 * ({@link HistogramGroup#newTimer}); one critical section per record.
 *
 * <pre>{@code
 * PerCpuTimer requests = new PerCpuTimer();
 * requests.time(() -> handle(request));
 * PerCpuTimer.Sample s = requests.start();   // where a lambda does not fit
 * try { ... } finally { s.stop(); }
 * }</pre>
 *
 * <p>{@link #close()} closes the histogram (see {@link Histogram#close()}).
 */
public final class PerCpuTimer implements AutoCloseable {
    private final Histogram histogram;

    /** The layout of {@link #PerCpuTimer()}. */
    private static final BucketLayout DEFAULT_LAYOUT =
            BucketLayout.logLinear(TimeUnit.HOURS.toNanos(1), 5).including(BucketLayout.prometheusDefaultSeconds());

    /**
     * A timer with a histogram of its own, for durations up to one hour at about 3% precision
     * (log-linear, 5 bits), whose buckets also end exactly at the Prometheus default bounds
     * (5 ms, 10 ms, ... 10 s), so those are exported as given: {@code BucketLayout.logLinear(1 h in ns, 5)
     * .including(BucketLayout.prometheusDefaultSeconds())}. {@link #close()} gives the
     * histogram's per-CPU memory back.
     */
    public PerCpuTimer() {
        this(DEFAULT_LAYOUT);
    }

    /**
     * A timer with a histogram of its own (of nanoseconds) with these buckets.
     * {@link #close()} gives the histogram's per-CPU memory back.
     *
     * @param layout the buckets, in nanoseconds (e.g. {@link BucketLayout#explicitSeconds},
     *               {@link BucketLayout#micrometerTimerDefault()})
     */
    public PerCpuTimer(BucketLayout layout) {
        this(new PerCpuHistogram(layout));
    }

    /**
     * A timer recording into {@code histogram} (values in nanoseconds): a
     * {@link PerCpuHistogram} or a {@link HistogramSeries}. The timer takes the histogram
     * over: {@link #close()} closes it, also for anyone else recording into it, so give a
     * timer a histogram that lives exactly as long as the timer.
     *
     * @param histogram where the durations go, in nanoseconds
     */
    public PerCpuTimer(Histogram histogram) {
        this.histogram = Objects.requireNonNull(histogram, "histogram");
    }

    /**
     * Closes the histogram behind this timer: a {@link PerCpuHistogram} gives its per-CPU
     * memory back, a {@link HistogramSeries} its slot and statistics (see
     * {@link Histogram#close()}), also for anyone else recording into it. Records and
     * snapshots then throw {@link IllegalStateException}. Idempotent.
     */
    @Override
    public void close() {
        histogram.close();
    }

    /**
     * The histogram of nanoseconds behind this timer.
     *
     * @return the histogram the timer records into: a {@link PerCpuHistogram} or a {@link HistogramSeries}
     */
    public Histogram histogram() {
        return histogram;
    }

    /**
     * Records {@code duration} (negative durations are clamped to 0, as the histogram does).
     *
     * @param duration the duration to record; one too long for a {@code long} of nanoseconds
     *                 counts as the longest
     */
    public void record(Duration duration) {
        Objects.requireNonNull(duration, "duration");
        long nanos;
        try {
            nanos = duration.toNanos();
        } catch (ArithmeticException e) {
            nanos = duration.isNegative() ? 0 : Long.MAX_VALUE;
        }
        histogram.record(nanos);
    }

    /**
     * Records {@code amount} of {@code unit}.
     *
     * @param amount the duration in {@code unit}s
     * @param unit   the unit of {@code amount}
     */
    public void record(long amount, TimeUnit unit) {
        histogram.record(Objects.requireNonNull(unit, "unit").toNanos(amount));
    }

    /**
     * Runs {@code task} and records how long it took (also when it throws).
     *
     * @param task the code to time, run on the calling thread
     */
    public void time(Runnable task) {
        Objects.requireNonNull(task, "task");
        long t0 = System.nanoTime();
        try {
            task.run();
        } finally {
            histogram.record(System.nanoTime() - t0);
        }
    }

    /**
     * Calls {@code task}, records how long it took (also when it throws), and returns its result.
     *
     * @param <T>  the type of the task's result
     * @param task the code to time, called on the calling thread
     * @return what {@code task} returned
     * @throws Exception whatever {@code task} threw
     */
    public <T> T time(Callable<T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        long t0 = System.nanoTime();
        try {
            return task.call();
        } finally {
            histogram.record(System.nanoTime() - t0);
        }
    }

    /**
     * Starts timing; {@link Sample#stop()} records.
     *
     * @return a sample holding the start time
     */
    public Sample start() {
        return new Sample(this, System.nanoTime());
    }

    /** A started measurement; stop it once. */
    public static final class Sample {
        private final PerCpuTimer timer;
        private final long start;
        private boolean stopped;

        Sample(PerCpuTimer timer, long start) {
            this.timer = timer;
            this.start = start;
        }

        /**
         * Records the time since {@link PerCpuTimer#start()} and returns it in nanoseconds.
         *
         * @return the recorded duration in nanoseconds
         * @throws IllegalStateException when already stopped
         */
        public long stop() {
            if (stopped) {
                throw new IllegalStateException("this sample was already stopped");
            }
            stopped = true;
            long nanos = System.nanoTime() - start;
            timer.histogram.record(nanos);
            return nanos;
        }

        /**
         * How long the sample has run, without recording.
         *
         * @return {@code Sample[running for N ns]}, or {@code Sample[stopped]}
         */
        @Override
        public String toString() {
            return stopped ? "Sample[stopped]" : "Sample[running for " + (System.nanoTime() - start) + " ns]";
        }
    }

    /**
     * Snapshot of the recorded durations, in nanoseconds.
     *
     * @return a snapshot of the histogram (see {@link Histogram#snapshot()})
     */
    public HistogramCounts snapshot() {
        return histogram.snapshot();
    }

    /**
     * Snapshot and reset (see {@link Histogram#snapshotThenReset()}).
     *
     * @return a snapshot of the durations taken out of the histogram, in nanoseconds
     */
    public HistogramCounts snapshotThenReset() {
        return histogram.snapshotThenReset();
    }

    /**
     * The histogram's layout in nanoseconds, without taking a snapshot.
     *
     * @return {@code PerCpuTimer[nanoseconds, PerCpuHistogram[...]]}
     */
    @Override
    public String toString() {
        return "PerCpuTimer[nanoseconds, " + histogram + "]";
    }
}
