package io.github.rseq4j.bench;

import com.codahale.metrics.ExponentiallyDecayingReservoir;
import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuHistogram;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.metrics.LongHistogram;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.ExemplarFilter;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.CollectionRegistration;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Recording one latency into a histogram shared by every benchmark thread: rseq4j's
 * {@link PerCpuHistogram} ({@code logLinear(1 h, 5)}, the layout of
 * {@code PerCpuTimer.create()}) against HdrHistogram 2.2.2 {@code Recorder(3)} and
 * {@code ConcurrentHistogram(3)}, Prometheus client_java 1.10 {@code Histogram}
 * ({@code classicOnly()}, no exemplars: its fastest configuration), a Micrometer 1.17
 * {@code Timer} on a {@code PrometheusMeterRegistry}, an OpenTelemetry SDK 1.68
 * {@code LongHistogram} (explicit buckets, exemplars off) and a Dropwizard 4.2
 * {@code Histogram} (exponentially decaying reservoir); and, as a reference, one
 * {@link PerCpuCounter#add}.
 *
 * <p>The same values as {@code ./rseq4j bench --only histogram}: 4,096 pseudo-random
 * latencies, log-uniform over 1 µs to 10 s, fixed seed; each thread walks them from its own
 * offset. Prometheus takes seconds as a double: it gets the same values precomputed in
 * seconds. At the end of each trial the histogram used checks its own count against the
 * operations of all threads (warm-up included), and fails the trial if they differ.
 *
 * <p>Threads: nested classes {@code .T1}, {@code .T2}, {@code .T8} (8 on 2 cores is
 * oversubscribed). Mode: average time per operation of each thread.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public abstract class HistogramBenchmark {

    static final int VALUES = 4096;
    static final int MASK = VALUES - 1;
    static final long[] NANOS = new long[VALUES];
    static final double[] SECONDS = new double[VALUES];

    static {
        // the same values as the CLI bench's histogram topic
        SplittableRandom r = new SplittableRandom(0x4157_0001L);
        double lo = Math.log(1_000), hi = Math.log(10_000_000_000L);
        for (int i = 0; i < VALUES; i++) {
            NANOS[i] = Math.round(Math.exp(lo + r.nextDouble() * (hi - lo)));
            SECONDS[i] = NANOS[i] / 1e9;
        }
    }

    private PerCpuHistogram rseq4j;
    private PerCpuCounter counter;
    private Recorder recorder;
    private ConcurrentHistogram concurrent;
    private io.prometheus.metrics.core.metrics.Histogram prometheus;
    private Timer micrometer;
    private PullReader otelReader;
    private LongHistogram otel;
    private com.codahale.metrics.Histogram dropwizard;

    /** The threads' cursors, for the count check. */
    @State(Scope.Benchmark)
    public static class Ledger {
        final Queue<Cursor> cursors = new ConcurrentLinkedQueue<>();
    }

    /** Each thread's position in the values, and how many it recorded. */
    @State(Scope.Thread)
    public static class Cursor {
        private static final AtomicInteger THREADS = new AtomicInteger();
        int i;
        long ops;

        @Setup(Level.Trial)
        public void setup(Ledger ledger) {
            i = (THREADS.getAndIncrement() * 977) & MASK;
            ledger.cursors.add(this);
        }

        long nextNanos() {
            ops++;
            return NANOS[i++ & MASK];
        }

        double nextSeconds() {
            ops++;
            return SECONDS[i++ & MASK];
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        rseq4j = PerCpuHistogram.logLinear(TimeUnit.HOURS.toNanos(1), 5);
        counter = new PerCpuCounter();
        recorder = new Recorder(3);
        concurrent = new ConcurrentHistogram(3);
        prometheus = io.prometheus.metrics.core.metrics.Histogram.builder().name("bench_latency_seconds")
                .help("bench").classicOnly().withoutExemplars().build();
        micrometer = Timer.builder("bench.latency").register(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        otelReader = new PullReader();
        SdkMeterProvider provider = SdkMeterProvider.builder().registerMetricReader(otelReader)
                .setExemplarFilter(ExemplarFilter.alwaysOff()).build();
        otel = provider.get("rseq4j-bench").histogramBuilder("bench.latency").ofLongs().setUnit("ns")
                .setExplicitBucketBoundariesAdvice(List.of(5_000_000L, 10_000_000L, 25_000_000L, 50_000_000L,
                        100_000_000L, 250_000_000L, 500_000_000L, 1_000_000_000L, 2_500_000_000L, 5_000_000_000L,
                        10_000_000_000L))
                .build();
        dropwizard = new com.codahale.metrics.Histogram(new ExponentiallyDecayingReservoir());
    }

    /** Fails the trial when the histogram used did not count every record. */
    @TearDown(Level.Trial)
    public void check(Ledger ledger) {
        long ops = 0;
        for (Cursor c : ledger.cursors) {
            ops += c.ops;
        }
        Histogram interval = recorder.getIntervalHistogram();
        long otelCount = 0;
        for (MetricData m : otelReader.registration.collectAllMetrics()) {
            for (HistogramPointData p : m.getHistogramData().getPoints()) {
                otelCount += p.getCount();
            }
        }
        long[] counts = {rseq4j.snapshot().count(), interval.getTotalCount(), concurrent.getTotalCount(),
                prometheus.collect().getDataPoints().getFirst().getCount(), micrometer.count(), otelCount,
                dropwizard.getCount()};
        for (long c : counts) {
            if (c != 0 && c != ops) {
                throw new IllegalStateException("a histogram counted " + c + " records of " + ops);
            }
        }
    }

    @Benchmark
    public void rseq4jHistogram(Cursor c) {
        rseq4j.record(c.nextNanos());
    }

    @Benchmark
    public void hdrRecorder(Cursor c) {
        recorder.recordValue(c.nextNanos());
    }

    @Benchmark
    public void hdrConcurrentHistogram(Cursor c) {
        concurrent.recordValue(c.nextNanos());
    }

    @Benchmark
    public void prometheusClassicOnly(Cursor c) {
        prometheus.observe(c.nextSeconds());
    }

    @Benchmark
    public void micrometerTimer(Cursor c) {
        micrometer.record(c.nextNanos(), TimeUnit.NANOSECONDS);
    }

    @Benchmark
    public void openTelemetryHistogram(Cursor c) {
        otel.record(c.nextNanos());
    }

    @Benchmark
    public void dropwizardHistogram(Cursor c) {
        dropwizard.update(c.nextNanos());
    }

    /** The reference: one per-CPU add, the cheapest per-CPU update there is. */
    @Benchmark
    public void perCpuCounterAdd(Cursor c) {
        counter.add(c.nextNanos());
    }

    /** An OpenTelemetry reader that collects when asked. */
    static final class PullReader implements MetricReader {
        volatile CollectionRegistration registration = CollectionRegistration.noop();

        @Override
        public void register(CollectionRegistration r) {
            registration = r;
        }

        @Override
        public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
            return AggregationTemporality.CUMULATIVE;
        }

        @Override
        public CompletableResultCode forceFlush() {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
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
