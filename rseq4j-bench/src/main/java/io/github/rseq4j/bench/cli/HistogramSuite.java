package io.github.rseq4j.bench.cli;

import com.codahale.metrics.ExponentiallyDecayingReservoir;
import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuHistogram;
import io.github.rseq4j.Rseq;
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

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The {@code histogram} topic: recording one latency into a histogram shared by all
 * threads, with rseq4j's {@link PerCpuHistogram} and with the histograms of the common Java
 * metrics libraries, each in its fastest configuration, all recording the same values.
 *
 * <p><b>Values.</b> {@value #VALUES} pseudo-random latencies, log-uniform over 1 µs to 10 s
 * (in nanoseconds), fixed seed, computed once; thread {@code t} walks them from its own
 * offset. Libraries that take seconds as a {@code double} (Prometheus) get the same values
 * precomputed in seconds, so no row pays for a conversion.
 *
 * <p><b>Rows.</b> {@code rseq4j histogram}: {@code new PerCpuHistogram(BucketLayout.logLinear(1 h, 5))} (about
 * 3% buckets; {@code new PerCpuTimer()} splits 11 of them at the Prometheus default
 * bounds, which costs its fold about 1 ns more per value). Alternatives: HdrHistogram
 * {@code Recorder(3)} and {@code ConcurrentHistogram(3)}; Prometheus client_java
 * {@code Histogram} with {@code classicOnly()} and without exemplars (its fastest
 * configuration); a Micrometer {@code Timer} on a {@code PrometheusMeterRegistry}; an
 * OpenTelemetry SDK {@code LongHistogram} with explicit bucket boundaries and exemplars off;
 * a Dropwizard {@code Histogram} (exponentially decaying reservoir, the default). Control:
 * one {@code PerCpuCounter.add}, the cheapest per-CPU update there is.
 *
 * <p><b>Checks and notes.</b> Every row checks that its histogram counted every record
 * (warm-up included). After the check, each row's note gives the memory of one histogram
 * (rseq4j: {@code bytesPerCpu() x CPUs} of per-CPU memory and statistics shards, computed; the libraries: retained
 * heap, measured once per run by {@link #retainedHeap}) and the median time of one
 * snapshot of the whole histogram (the read a scrape or reporter makes).
 */
public final class HistogramSuite {
    private HistogramSuite() {
    }

    static final String TOPIC = "histogram";
    static final String GROUP = "histogram record";

    /** Thread counts of the histogram topic. */
    static final int[] THREADS = {1, 2, 8};

    /** Number of precomputed values (a power of two). */
    public static final int VALUES = 4096;
    private static final int MASK = VALUES - 1;

    /** The values in nanoseconds: log-uniform over 1 µs to 10 s, fixed seed. */
    public static final long[] NANOS = new long[VALUES];

    /** The same values in seconds. */
    static final double[] SECONDS = new double[VALUES];

    static {
        SplittableRandom r = new SplittableRandom(0x4157_0001L);
        double lo = Math.log(1_000), hi = Math.log(10_000_000_000L);
        for (int i = 0; i < VALUES; i++) {
            NANOS[i] = Math.round(Math.exp(lo + r.nextDouble() * (hi - lo)));
            SECONDS[i] = NANOS[i] / 1e9;
        }
    }

    static final String RSEQ4J = "rseq4j histogram";
    static final String HDR_RECORDER = "HdrHistogram Recorder";
    static final String HDR_CONCURRENT = "HdrHistogram ConcurrentHistogram";
    static final String PROMETHEUS = "Prometheus Histogram (classicOnly)";
    static final String MICROMETER = "Micrometer Timer (PrometheusMeterRegistry)";
    static final String OTEL = "OpenTelemetry histogram (explicit buckets)";
    static final String DROPWIZARD = "Dropwizard Histogram";
    static final String CONTROL = "PerCpuCounter.add (control)";

    /** The cases of the topic, in run order. */
    static List<BenchCase> cases() {
        List<BenchCase> all = new ArrayList<>();
        for (int t : THREADS) {
            all.add(BenchCase.rseq4j(TOPIC, GROUP, RSEQ4J, t, false, HistogramSuite::rseq4j));
            all.add(BenchCase.alternative(TOPIC, GROUP, HDR_RECORDER, t, false, HistogramSuite::hdrRecorder));
            all.add(BenchCase.alternative(TOPIC, GROUP, HDR_CONCURRENT, t, false, HistogramSuite::hdrConcurrent));
            all.add(BenchCase.alternative(TOPIC, GROUP, PROMETHEUS, t, false, HistogramSuite::prometheus)
                    .asReference());
            all.add(BenchCase.alternative(TOPIC, GROUP, MICROMETER, t, false, HistogramSuite::micrometer));
            all.add(BenchCase.alternative(TOPIC, GROUP, OTEL, t, false, HistogramSuite::openTelemetry));
            all.add(BenchCase.alternative(TOPIC, GROUP, DROPWIZARD, t, false, HistogramSuite::dropwizard));
            all.add(BenchCase.control(TOPIC, GROUP, CONTROL, t, false, HistogramSuite::counterAdd));
        }
        return all;
    }

    /** Where worker {@code index} starts in the values: spread, so threads do not record in lockstep. */
    public static int offset(int index) {
        return (index * 977) & MASK;
    }

    /**
     * A histogram workload: the check compares the histogram's own count with the records
     * made; the note (made after the check) gives the memory and the snapshot cost.
     */
    abstract static class Recording implements Workload {
        /** The histogram's own count of records. */
        abstract long count();

        /** Takes one snapshot (or interval read) of the whole histogram; returns something derived from it. */
        abstract long snapshot();

        /** Bytes of one histogram, or a negative number when not known. */
        long bytes() {
            return -1;
        }

        /** What to say when {@link #bytes()} is not known. */
        String bytesNote() {
            return "memory not measured";
        }

        /** How {@link #bytes()} was found, e.g. {@code " (HdrHistogram's estimate)"}, or "". */
        String bytesDetail() {
            return "";
        }

        @Override
        public String check(long totalOps) {
            return Suites.expect(count(), totalOps);
        }

        @Override
        public String note() {
            long b = bytes();
            String mem = b < 0 ? bytesNote() : String.format(Locale.ROOT, "%,d B per histogram", b) + bytesDetail();
            return mem + ", snapshot " + formatNanos(snapshotNanos(this::snapshot));
        }
    }

    /** Median time of one call of {@code snapshot}, after a few untimed calls. */
    static long snapshotNanos(LongSupplier snapshot) {
        long sink = 0;
        for (int i = 0; i < 5; i++) {
            sink += snapshot.getAsLong();
        }
        long[] t = new long[21];
        for (int i = 0; i < t.length; i++) {
            long t0 = System.nanoTime();
            sink += snapshot.getAsLong();
            t[i] = System.nanoTime() - t0;
        }
        Arrays.sort(t);
        if (sink == 42) {
            System.err.print(""); // keeps the results alive
        }
        return t[t.length / 2];
    }

    static String formatNanos(long ns) {
        return ns >= 10_000 ? String.format(Locale.ROOT, "%.0f us", ns / 1e3)
                : String.format(Locale.ROOT, "%.1f us", ns / 1e3);
    }

    /** Instances made to measure one library's retained heap per histogram. */
    static final int MEMORY_INSTANCES = 64;

    /** Retained heap per histogram, by row name, measured once per run. */
    private static final java.util.Map<String, Long> RETAINED = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Retained heap of one histogram of a library, measured once per run and cached:
     * {@value #MEMORY_INSTANCES} histograms made by {@code make} (after {@code before}, whose
     * shared state, a registry say, is not counted), each recorded into with all 4,096 values
     * by two threads at once (so that striped structures grow as they do under contention),
     * then the heap used after GC, minus the heap used before, over the instances.
     */
    static long retainedHeap(String name, java.util.function.Supplier<Object> before,
                             java.util.function.IntFunction<Object> make,
                             java.util.function.ObjIntConsumer<Object> record) {
        return RETAINED.computeIfAbsent(name, k -> {
            Object shared = before.get();
            Object[] held = new Object[MEMORY_INSTANCES];
            long heap0 = RetainedHeap.settledHeapUsed();
            for (int i = 0; i < held.length; i++) {
                held[i] = make.apply(i);
            }
            Runnable walk = () -> {
                for (Object h : held) {
                    for (int v = 0; v < VALUES; v++) {
                        record.accept(h, v);
                    }
                }
            };
            Thread other = Thread.ofPlatform().start(walk);
            walk.run();
            try {
                other.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1L;
            }
            long heap1 = RetainedHeap.settledHeapUsed();
            java.lang.ref.Reference.reachabilityFence(held);
            java.lang.ref.Reference.reachabilityFence(shared);
            return Math.max(0, (heap1 - heap0) / held.length);
        });
    }

    /** How {@link #retainedHeap} figures are described. */
    static final String RETAINED_DETAIL = " (retained heap, " + MEMORY_INSTANCES + " histograms recorded into by 2"
            + " threads)";

    // ---- rseq4j -------------------------------------------------------------------------

    public static Workload rseq4j() {
        PerCpuHistogram h = new PerCpuHistogram(BucketLayout.logLinear(TimeUnit.HOURS.toNanos(1), 5));
        return new Recording() {
            @Override
            public Loop newLoop(int index) {
                int off = offset(index);
                return n -> {
                    for (long i = 0; i < n; i++) {
                        h.record(NANOS[(int) (i + off) & MASK]);
                    }
                    return n;
                };
            }

            @Override
            long count() {
                return h.snapshot().count();
            }

            @Override
            long snapshot() {
                return h.snapshot().count();
            }

            @Override
            long bytes() {
                return h.bytesPerCpu() * Rseq.status().possibleCpus().size();
            }

            @Override
            String bytesDetail() {
                return String.format(Locale.ROOT, " (%,d B per CPU x %d CPUs, %,d buckets)",
                        h.bytesPerCpu(), Rseq.status().possibleCpus().size(), h.bucketCount());
            }
        };
    }

    /** The control: one PerCpuCounter.add per operation. */
    public static Workload counterAdd() {
        PerCpuCounter c = new PerCpuCounter();
        return new Workload() {
            @Override
            public Loop newLoop(int index) {
                int off = offset(index);
                return n -> {
                    for (long i = 0; i < n; i++) {
                        c.add(NANOS[(int) (i + off) & MASK]);
                    }
                    return n;
                };
            }

            @Override
            public String check(long totalOps) {
                return null; // the sum depends on how the operations split between threads: nothing exact to check
            }
        };
    }

    // ---- HdrHistogram -------------------------------------------------------------------

    public static Workload hdrRecorder() {
        Recorder r = new Recorder(3);
        return new Recording() {
            private final Histogram total = new Histogram(3);
            private Histogram recycled;

            @Override
            public Loop newLoop(int index) {
                int off = offset(index);
                return n -> {
                    for (long i = 0; i < n; i++) {
                        r.recordValue(NANOS[(int) (i + off) & MASK]);
                    }
                    return n;
                };
            }

            @Override
            long count() {
                recycled = r.getIntervalHistogram(recycled);
                total.add(recycled);
                return total.getTotalCount();
            }

            @Override
            long snapshot() {
                recycled = r.getIntervalHistogram(recycled);
                return recycled.getTotalCount();
            }

            @Override
            long bytes() {
                return retainedHeap(HDR_RECORDER, () -> null, i -> new Recorder(3),
                        (x, v) -> ((Recorder) x).recordValue(NANOS[v]));
            }

            @Override
            String bytesDetail() {
                return RETAINED_DETAIL;
            }
        };
    }

    public static Workload hdrConcurrent() {
        ConcurrentHistogram h = new ConcurrentHistogram(3);
        return new Recording() {
            @Override
            public Loop newLoop(int index) {
                int off = offset(index);
                return n -> {
                    for (long i = 0; i < n; i++) {
                        h.recordValue(NANOS[(int) (i + off) & MASK]);
                    }
                    return n;
                };
            }

            @Override
            long count() {
                return h.getTotalCount();
            }

            @Override
            long snapshot() {
                return h.copy().getTotalCount();
            }

            @Override
            long bytes() {
                return retainedHeap(HDR_CONCURRENT, () -> null, i -> new ConcurrentHistogram(3),
                        (x, v) -> ((ConcurrentHistogram) x).recordValue(NANOS[v]));
            }

            @Override
            String bytesDetail() {
                return RETAINED_DETAIL + String.format(Locale.ROOT, ", HdrHistogram's estimate %,d B",
                        h.getEstimatedFootprintInBytes());
            }
        };
    }

    // ---- Prometheus, Micrometer ---------------------------------------------------------

    /** Prometheus's fastest configuration: classic buckets only (the default bounds), no exemplars. */
    static io.prometheus.metrics.core.metrics.Histogram prometheusHistogram() {
        return io.prometheus.metrics.core.metrics.Histogram.builder()
                .name("bench_latency_seconds").help("bench").classicOnly().withoutExemplars().build();
    }

    public static Workload prometheus() {
        io.prometheus.metrics.core.metrics.Histogram h = prometheusHistogram();
        return new Recording() {
            @Override
            public Loop newLoop(int index) {
                int off = offset(index);
                return n -> {
                    for (long i = 0; i < n; i++) {
                        h.observe(SECONDS[(int) (i + off) & MASK]);
                    }
                    return n;
                };
            }

            @Override
            long count() {
                return h.collect().getDataPoints().getFirst().getCount();
            }

            @Override
            long snapshot() {
                return h.collect().getDataPoints().getFirst().getCount();
            }

            @Override
            long bytes() {
                return retainedHeap(PROMETHEUS, () -> null, i -> prometheusHistogram(),
                        (x, v) -> ((io.prometheus.metrics.core.metrics.Histogram) x).observe(SECONDS[v]));
            }

            @Override
            String bytesDetail() {
                return RETAINED_DETAIL;
            }
        };
    }

    /** Retained heap of one Timer registered in a PrometheusMeterRegistry (shared registry not counted). */
    static long micrometerBytes() {
        PrometheusMeterRegistry[] registry = new PrometheusMeterRegistry[1];
        return retainedHeap(MICROMETER, () -> registry[0] = new PrometheusMeterRegistry(
                PrometheusConfig.DEFAULT), i -> Timer.builder("bench.latency." + i).register(registry[0]),
                (x, v) -> ((Timer) x).record(NANOS[v], TimeUnit.NANOSECONDS));
    }

    /** Worker {@code index}'s loop recording the values into a Micrometer timer (the histogram and micrometer topics). */
    static Loop timerLoop(Timer t, int index) {
        int off = offset(index);
        return n -> {
            for (long i = 0; i < n; i++) {
                t.record(NANOS[(int) (i + off) & MASK], TimeUnit.NANOSECONDS);
            }
            return n;
        };
    }

    public static Workload micrometer() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Timer t = Timer.builder("bench.latency").register(registry);
        return new Recording() {
            @Override
            public Loop newLoop(int index) {
                return timerLoop(t, index);
            }

            @Override
            long count() {
                return t.count();
            }

            @Override
            long snapshot() {
                return t.takeSnapshot().count();
            }

            @Override
            long bytes() {
                return micrometerBytes();
            }

            @Override
            String bytesDetail() {
                return RETAINED_DETAIL + ", each a Timer in one registry";
            }
        };
    }

    // ---- OpenTelemetry ------------------------------------------------------------------

    /** Upper bounds of the OpenTelemetry row's explicit buckets: the Prometheus defaults, in nanoseconds. */
    static final List<Long> OTEL_BOUNDS_NS = List.of(5_000_000L, 10_000_000L, 25_000_000L, 50_000_000L,
            100_000_000L, 250_000_000L, 500_000_000L, 1_000_000_000L, 2_500_000_000L, 5_000_000_000L,
            10_000_000_000L);

    /** A pull reader: the SDK hands it the means to collect, and it collects when asked. */
    public static final class PullReader implements MetricReader {
        private volatile CollectionRegistration registration = CollectionRegistration.noop();

        @Override
        public void register(CollectionRegistration r) {
            registration = r;
        }

        public java.util.Collection<MetricData> collect() {
            return registration.collectAllMetrics();
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

    public static Workload openTelemetry() {
        PullReader reader = new PullReader();
        SdkMeterProvider provider = SdkMeterProvider.builder().registerMetricReader(reader)
                .setExemplarFilter(ExemplarFilter.alwaysOff()).build();
        List<Double> bounds = OTEL_BOUNDS_NS.stream().map(Long::doubleValue).toList();
        LongHistogram h = provider.get("rseq4j-bench").histogramBuilder("bench.latency").ofLongs().setUnit("ns")
                .setExplicitBucketBoundariesAdvice(OTEL_BOUNDS_NS).build();
        return new Recording() {
            @Override
            public Loop newLoop(int index) {
                int off = offset(index);
                return n -> {
                    for (long i = 0; i < n; i++) {
                        h.record(NANOS[(int) (i + off) & MASK]);
                    }
                    return n;
                };
            }

            @Override
            long count() {
                long c = 0;
                for (MetricData m : reader.collect()) {
                    for (HistogramPointData p : m.getHistogramData().getPoints()) {
                        c += p.getCount();
                    }
                }
                return c;
            }

            @Override
            long snapshot() {
                return count() + bounds.size();
            }

            @Override
            long bytes() {
                SdkMeterProvider[] shared = new SdkMeterProvider[1];
                return retainedHeap(OTEL, () -> shared[0] = SdkMeterProvider.builder()
                                .registerMetricReader(new PullReader()).setExemplarFilter(ExemplarFilter.alwaysOff())
                                .build(),
                        i -> shared[0].get("rseq4j-bench").histogramBuilder("bench.latency." + i).ofLongs()
                                .setUnit("ns").setExplicitBucketBoundariesAdvice(OTEL_BOUNDS_NS).build(),
                        (x, v) -> ((LongHistogram) x).record(NANOS[v]));
            }

            @Override
            String bytesDetail() {
                return RETAINED_DETAIL + ", each an instrument of one provider";
            }
        };
    }

    // ---- Dropwizard ---------------------------------------------------------------------

    public static Workload dropwizard() {
        com.codahale.metrics.Histogram h = new com.codahale.metrics.Histogram(new ExponentiallyDecayingReservoir());
        return new Recording() {
            @Override
            public Loop newLoop(int index) {
                int off = offset(index);
                return n -> {
                    for (long i = 0; i < n; i++) {
                        h.update(NANOS[(int) (i + off) & MASK]);
                    }
                    return n;
                };
            }

            @Override
            long count() {
                return h.getCount();
            }

            @Override
            long snapshot() {
                return h.getSnapshot().size();
            }

            @Override
            long bytes() {
                return retainedHeap(DROPWIZARD, () -> null,
                        i -> new com.codahale.metrics.Histogram(new ExponentiallyDecayingReservoir()),
                        (x, v) -> ((com.codahale.metrics.Histogram) x).update(NANOS[v]));
            }

            @Override
            String bytesDetail() {
                return RETAINED_DETAIL;
            }
        };
    }
}
