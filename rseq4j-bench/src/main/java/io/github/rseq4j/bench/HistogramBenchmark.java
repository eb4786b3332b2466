package io.github.rseq4j.bench;

import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuHistogram;
import io.github.rseq4j.bench.cli.HistogramSuite;
import io.github.rseq4j.bench.cli.Workload;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

import java.util.concurrent.TimeUnit;

/**
 * Recording one latency into a histogram shared by every benchmark thread: rseq4j's
 * {@link PerCpuHistogram} ({@code logLinear(1 h, 5)}, the layout of
 * {@code new PerCpuTimer()}) against HdrHistogram 2.2.2 {@code Recorder(3)} and
 * {@code ConcurrentHistogram(3)}, Prometheus client_java 1.10 {@code Histogram}
 * ({@code classicOnly()}, no exemplars: its fastest configuration), a Micrometer 1.17
 * {@code Timer} on a {@code PrometheusMeterRegistry}, an OpenTelemetry SDK 1.68
 * {@code LongHistogram} (explicit buckets, exemplars off) and a Dropwizard 4.2
 * {@code Histogram} (exponentially decaying reservoir); and, as a reference, one
 * {@link PerCpuCounter#add}.
 *
 * <p>The workloads are the bench command's histogram topic ({@link HistogramSuite}: the
 * histograms in the same configurations, the same loops): 4,096 pseudo-random latencies,
 * log-uniform over 1 µs to 10 s, fixed seed; each thread walks them from its own offset.
 * Prometheus takes seconds as a double: it gets the same values precomputed in seconds.
 * Each {@code @Benchmark} runs the topic's loop for {@value #OPS} records, every value once
 * (see {@link WorkloadState}). At the end of each trial the histogram checks its own count
 * against the records of all threads (warm-up included), and fails the trial if they
 * differ; the trial's output then gives the topic's note (the histogram's memory and the
 * time of one snapshot).
 *
 * <p>Threads: nested classes {@code .T1}, {@code .T2}, {@code .T8} (8 on 2 cores is
 * oversubscribed). Mode: average time per operation of each thread.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public abstract class HistogramBenchmark {

    /** Records per invocation: every one of the topic's values once. */
    static final int OPS = HistogramSuite.VALUES;

    /** A histogram workload, {@value #OPS} records per invocation. */
    abstract static class Records extends WorkloadState {
        @Override
        protected int opsPerInvocation() {
            return OPS;
        }
    }

    public static class Rseq4j extends Records {
        @Override
        protected Workload create() {
            return HistogramSuite.rseq4j();
        }
    }

    public static class HdrRecorder extends Records {
        @Override
        protected Workload create() {
            return HistogramSuite.hdrRecorder();
        }
    }

    public static class HdrConcurrent extends Records {
        @Override
        protected Workload create() {
            return HistogramSuite.hdrConcurrent();
        }
    }

    public static class Prometheus extends Records {
        @Override
        protected Workload create() {
            return HistogramSuite.prometheus();
        }
    }

    public static class Micrometer extends Records {
        @Override
        protected Workload create() {
            return HistogramSuite.micrometer();
        }
    }

    public static class OpenTelemetry extends Records {
        @Override
        protected Workload create() {
            return HistogramSuite.openTelemetry();
        }
    }

    public static class Dropwizard extends Records {
        @Override
        protected Workload create() {
            return HistogramSuite.dropwizard();
        }
    }

    public static class CounterAdd extends Records {
        @Override
        protected Workload create() {
            return HistogramSuite.counterAdd();
        }
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long rseq4jHistogram(Rseq4j w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long hdrRecorder(HdrRecorder w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long hdrConcurrentHistogram(HdrConcurrent w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long prometheusClassicOnly(Prometheus w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long micrometerTimer(Micrometer w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long openTelemetryHistogram(OpenTelemetry w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long dropwizardHistogram(Dropwizard w, ThreadParams t) {
        return w.run(t);
    }

    /** The reference: one per-CPU add, the cheapest per-CPU update there is. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public long perCpuCounterAdd(CounterAdd w, ThreadParams t) {
        return w.run(t);
    }

    /** One platform thread. */
    @Threads(1)
    public static class T1 extends HistogramBenchmark {
    }

    /** Two platform threads (one per core here). */
    @Threads(2)
    public static class T2 extends HistogramBenchmark {
    }

    /** Eight platform threads (oversubscribed on 2 cores). */
    @Threads(8)
    public static class T8 extends HistogramBenchmark {
    }
}
