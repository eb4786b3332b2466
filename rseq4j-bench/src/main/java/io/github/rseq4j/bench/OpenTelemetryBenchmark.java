package io.github.rseq4j.bench;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.PerCpuHistogram;
import io.github.rseq4j.bench.cli.HistogramSuite;
import io.github.rseq4j.bench.cli.Loop;
import io.github.rseq4j.bench.cli.Workload;
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
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

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
 * <p>JMH only (the bench command has no such topic), with the values and the loop of the
 * bench's histogram topic ({@link HistogramSuite}: 4,096 latencies, log-uniform over 1 µs to
 * 10 s, fixed seed; each thread from its own offset), every value once per invocation (see
 * {@link WorkloadState}). At the end of each trial the reader collects, and the histogram
 * used must count every record of all threads, else the trial fails.
 *
 * <p>Threads: nested classes {@code .T1}, {@code .T2}, {@code .T8} (8 on 2 cores is
 * oversubscribed). Mode: average time per operation of each thread.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public abstract class OpenTelemetryBenchmark {

    /** Records per invocation: every value of the histogram topic once. */
    static final int OPS = HistogramSuite.VALUES;

    /** Which histogram a workload records into. */
    enum Row { EXPLICIT, EXPONENTIAL, RSEQ4J }

    /**
     * Every histogram on one provider, read by one reader; the loops record into {@code row}'s.
     * The check collects and wants every record of all threads counted by that histogram
     * (and the producer's metric present).
     */
    static Workload workload(Row row) {
        PerCpuHistogram rseq4j = new PerCpuHistogram(BucketLayout.exponential(3, 1, 1L << 34));
        HistogramSuite.PullReader reader = new HistogramSuite.PullReader();
        SdkMeterProvider provider = SdkMeterProvider.builder()
                .registerMetricReader(reader)
                .setExemplarFilter(ExemplarFilter.alwaysOff())
                .registerView(InstrumentSelector.builder().setName("bench.exponential").build(),
                        View.builder().setAggregation(Aggregation.base2ExponentialBucketHistogram()).build())
                .registerMetricProducer(RseqMetricProducer.builder()
                        .histogram("bench.rseq4j", "bench", "ns", rseq4j, Attributes.empty()).build())
                .build();
        LongHistogram explicit = provider.get("rseq4j-bench").histogramBuilder("bench.explicit").ofLongs()
                .setUnit("ns").build();
        LongHistogram exponential = provider.get("rseq4j-bench").histogramBuilder("bench.exponential").ofLongs()
                .setUnit("ns").build();
        return new Workload() {
            @Override
            public Loop newLoop(int index) {
                int off = HistogramSuite.offset(index);
                long[] values = HistogramSuite.NANOS;
                int mask = HistogramSuite.VALUES - 1;
                // one lambda per histogram, so each loop's call stays monomorphic
                return switch (row) {
                    case EXPLICIT -> n -> {
                        for (long i = 0; i < n; i++) {
                            explicit.record(values[(int) (i + off) & mask]);
                        }
                        return n;
                    };
                    case EXPONENTIAL -> n -> {
                        for (long i = 0; i < n; i++) {
                            exponential.record(values[(int) (i + off) & mask]);
                        }
                        return n;
                    };
                    case RSEQ4J -> n -> {
                        for (long i = 0; i < n; i++) {
                            rseq4j.record(values[(int) (i + off) & mask]);
                        }
                        return n;
                    };
                };
            }

            @Override
            public String check(long totalOps) {
                Map<String, Long> counts = new TreeMap<>();
                for (MetricData m : reader.collect()) {
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
                    return "the producer's metric is missing: " + counts;
                }
                for (Map.Entry<String, Long> e : counts.entrySet()) {
                    if (e.getValue() != 0 && e.getValue() != totalOps) {
                        return e.getKey() + " counted " + e.getValue() + " records of " + totalOps;
                    }
                }
                return "ok";
            }
        };
    }

    /** A workload of this class, {@value #OPS} records per invocation. */
    abstract static class Records extends WorkloadState {
        @Override
        protected int opsPerInvocation() {
            return OPS;
        }
    }

    public static class Explicit extends Records {
        @Override
        protected Workload create() {
            return workload(Row.EXPLICIT);
        }
    }

    public static class Exponential extends Records {
        @Override
        protected Workload create() {
            return workload(Row.EXPONENTIAL);
        }
    }

    public static class ViaProducer extends Records {
        @Override
        protected Workload create() {
            return workload(Row.RSEQ4J);
        }
    }

    /** The SDK's histogram, default explicit buckets. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public long otelExplicit(Explicit w, ThreadParams t) {
        return w.run(t);
    }

    /** The SDK's histogram, base-2 exponential buckets. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public long otelExponential(Exponential w, ThreadParams t) {
        return w.run(t);
    }

    /** rseq4j's exponential histogram, exported by the producer. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public long rseq4jViaProducer(ViaProducer w, ThreadParams t) {
        return w.run(t);
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
