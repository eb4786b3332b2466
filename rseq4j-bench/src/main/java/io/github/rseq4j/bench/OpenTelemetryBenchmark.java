package io.github.rseq4j.bench;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.PerCpuHistogram;
import io.github.rseq4j.opentelemetry.RseqMetricProducer;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongHistogram;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.ExemplarFilter;
import io.opentelemetry.sdk.metrics.InstrumentSelector;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.View;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.PointData;
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

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Recording one latency for an OpenTelemetry export, with every histogram on one
 * {@link SdkMeterProvider} read by one reader: the SDK 1.68's own {@code LongHistogram},
 * with its default explicit buckets and with base-2 exponential buckets (a view:
 * {@code base2ExponentialBucketHistogram()}, 160 buckets, scale up to 20), exemplars off,
 * against a {@link PerCpuHistogram} with exponential buckets
 * ({@code BucketLayout.exponential(3, 1, 2^34)}) exported through
 * {@link RseqMetricProducer}, registered on the same provider. Only the record is timed;
 * the SDK aggregates on the record path, rseq4j when the reader collects.
 *
 * <p>The values of {@link HistogramBenchmark} (4,096 latencies, log-uniform over 1 µs to
 * 10 s, fixed seed). At the end of each trial the reader collects, and the histogram used
 * must count every record of all threads, else the trial fails.
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
public abstract class OpenTelemetryBenchmark {

    private HistogramBenchmark.PullReader reader;
    private LongHistogram explicit;
    private LongHistogram exponential;
    private PerCpuHistogram rseq4j;

    @Setup(Level.Trial)
    public void setup() {
        rseq4j = PerCpuHistogram.create(BucketLayout.exponential(3, 1, 1L << 34));
        reader = new HistogramBenchmark.PullReader();
        SdkMeterProvider provider = SdkMeterProvider.builder()
                .registerMetricReader(reader)
                .setExemplarFilter(ExemplarFilter.alwaysOff())
                .registerView(InstrumentSelector.builder().setName("bench.exponential").build(),
                        View.builder().setAggregation(Aggregation.base2ExponentialBucketHistogram()).build())
                .registerMetricProducer(RseqMetricProducer.builder()
                        .histogram("bench.rseq4j", "bench", "ns", rseq4j, Attributes.empty()).build())
                .build();
        explicit = provider.get("rseq4j-bench").histogramBuilder("bench.explicit").ofLongs().setUnit("ns").build();
        exponential = provider.get("rseq4j-bench").histogramBuilder("bench.exponential").ofLongs().setUnit("ns")
                .build();
    }

    /** Fails the trial when the histogram used did not count every record (as the reader collects it). */
    @TearDown(Level.Trial)
    public void check(HistogramBenchmark.Ledger ledger) {
        long ops = 0;
        for (HistogramBenchmark.Cursor c : ledger.cursors) {
            ops += c.ops;
        }
        Map<String, Long> counts = new TreeMap<>();
        for (MetricData m : reader.registration.collectAllMetrics()) {
            long n = 0;
            for (PointData p : m.getData().getPoints()) {
                n += switch (m.getType()) {
                    case HISTOGRAM -> ((io.opentelemetry.sdk.metrics.data.HistogramPointData) p).getCount();
                    case EXPONENTIAL_HISTOGRAM ->
                            ((io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData) p).getCount();
                    default -> 0;
                };
            }
            counts.put(m.getName(), n);
        }
        if (!counts.containsKey("bench.rseq4j")) {
            throw new IllegalStateException("the producer's metric is missing: " + counts);
        }
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            if (e.getValue() != 0 && e.getValue() != ops) {
                throw new IllegalStateException(e.getKey() + " counted " + e.getValue() + " records of " + ops);
            }
        }
    }

    /** The SDK's histogram, default explicit buckets. */
    @Benchmark
    public void otelExplicit(HistogramBenchmark.Cursor c) {
        explicit.record(c.nextNanos());
    }

    /** The SDK's histogram, base-2 exponential buckets. */
    @Benchmark
    public void otelExponential(HistogramBenchmark.Cursor c) {
        exponential.record(c.nextNanos());
    }

    /** rseq4j's exponential histogram, exported by the producer. */
    @Benchmark
    public void rseq4jViaProducer(HistogramBenchmark.Cursor c) {
        rseq4j.record(c.nextNanos());
    }

    /** One platform thread. */
    @Threads(1)
    public static class T1 extends OpenTelemetryBenchmark {
    }

    /** Two platform threads (one per core here). */
    @Threads(2)
    public static class T2 extends OpenTelemetryBenchmark {
    }

    /** Eight platform threads (oversubscribed on 2 cores). */
    @Threads(8)
    public static class T8 extends OpenTelemetryBenchmark {
    }
}
