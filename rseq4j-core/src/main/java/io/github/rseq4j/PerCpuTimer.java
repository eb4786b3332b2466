package io.github.rseq4j;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Durations recorded in nanoseconds into a {@link PerCpuHistogram}: one critical section
 * per record.
 *
 * <pre>{@code
 * PerCpuTimer requests = PerCpuTimer.create();
 * requests.time(() -> handle(request));
 * PerCpuTimer.Sample s = requests.start();   // where a lambda does not fit
 * try { ... } finally { s.stop(); }
 * }</pre>
 */
public final class PerCpuTimer {
    private final PerCpuHistogram histogram;

    private PerCpuTimer(PerCpuHistogram histogram) {
        this.histogram = histogram;
    }

    /** A timer for durations up to one hour at about 3% precision (log-linear, 5 bits). */
    public static PerCpuTimer create() {
        return of(PerCpuHistogram.logLinear(TimeUnit.HOURS.toNanos(1), 5));
    }

    /** A timer recording into {@code histogram} (values in nanoseconds). */
    public static PerCpuTimer of(PerCpuHistogram histogram) {
        return new PerCpuTimer(Objects.requireNonNull(histogram, "histogram"));
    }

    /** The histogram of nanoseconds behind this timer. */
    public PerCpuHistogram histogram() {
        return histogram;
    }

    /** Records {@code duration} (negative durations are clamped to 0, as the histogram does). */
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

    /** Records {@code amount} of {@code unit}. */
    public void record(long amount, TimeUnit unit) {
        histogram.record(Objects.requireNonNull(unit, "unit").toNanos(amount));
    }

    /** Runs {@code task} and records how long it took (also when it throws). */
    public void time(Runnable task) {
        Objects.requireNonNull(task, "task");
        long t0 = System.nanoTime();
        try {
            task.run();
        } finally {
            histogram.record(System.nanoTime() - t0);
        }
    }

    /** Calls {@code task}, records how long it took (also when it throws), and returns its result. */
    public <T> T time(Callable<T> task) throws Exception {
        Objects.requireNonNull(task, "task");
        long t0 = System.nanoTime();
        try {
            return task.call();
        } finally {
            histogram.record(System.nanoTime() - t0);
        }
    }

    /** Starts timing; {@link Sample#stop()} records. */
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
    }

    /** Snapshot of the recorded durations, in nanoseconds. */
    public HistogramSnapshot snapshot() {
        return histogram.snapshot();
    }

    /** Snapshot and reset (see {@link PerCpuHistogram#snapshotThenReset()}). */
    public HistogramSnapshot snapshotThenReset() {
        return histogram.snapshotThenReset();
    }
}
