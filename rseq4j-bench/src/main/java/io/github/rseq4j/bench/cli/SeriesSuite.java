package io.github.rseq4j.bench.cli;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.HistogramGroup;
import io.github.rseq4j.HistogramSeries;
import io.github.rseq4j.Rseq;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.github.rseq4j.micrometer.RseqPrometheusMeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongHistogram;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.ExemplarFilter;
import io.opentelemetry.sdk.metrics.InstrumentSelector;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.View;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import org.HdrHistogram.Recorder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * The {@code series} topic: many histogram series of one process (a service's timers,
 * endpoint x method x status), {@value #SERIES} by default, recorded round-robin, which is
 * the cache-miss case: worker {@code t} records into series {@code (i + offset_t) % series}
 * for its {@code i}-th record, so consecutive records of a thread touch different series and
 * each series' memory has usually left the cache by the time the thread comes back to it.
 *
 * <p><b>Values.</b> The histogram topic's ({@link HistogramSuite#NANOS}, in seconds
 * {@link HistogramSuite#SECONDS}): 4,096 pseudo-random latencies, log-uniform over 1 µs to
 * 10 s, fixed seed; worker {@code t} walks them from {@link HistogramSuite#offset(int)} and
 * the series from {@code t x 977 mod series}. A worker's position survives from one loop call
 * to the next, so every run walks all the series.
 *
 * <p><b>Buckets.</b> Micrometer's percentile histogram for timers (its default range 1 ms to
 * 30 s: 68 bounds, 69 buckets with {@code +Inf}) is the layout everyone uses where the
 * library lets one choose: rseq4j ({@link BucketLayout#micrometerTimerDefault()}), Prometheus
 * (classic upper bounds, the same 68 in seconds) and OpenTelemetry (explicit bucket
 * boundaries, the same 68 in nanoseconds). HdrHistogram has no bucket list: its
 * {@code Recorder}s keep {@value #HDR_DIGITS} significant digit (16 sub-buckets per power of
 * two, the coarsest setting at least as fine as the 69 buckets) up to one hour.
 *
 * <p><b>Rows</b> (each library in its fastest configuration; names begin with the row names
 * below): {@code rseq4j series}: one {@code HistogramSeries} per series of one
 * {@code HistogramGroup}; {@code Micrometer Timer series}: a {@code Timer} with
 * {@code publishPercentileHistogram()} per tag value, on a {@code PrometheusMeterRegistry};
 * {@code Prometheus Histogram series}: one client_java {@code Histogram}, classic buckets
 * only and no exemplars, with a label value per series, whose data points
 * ({@code labelValues(..)}) are looked up once before timing, as a service that caches them
 * does; {@code OpenTelemetry histogram series}: one SDK {@code LongHistogram} with a
 * pre-built {@code Attributes} per series, exemplars off and a cardinality limit above the
 * series count (the default, 2,000, would fold the rest into an overflow series);
 * {@code HdrHistogram Recorder series}: a {@code Recorder} per series.
 *
 * <p><b>Checks and memory.</b> Every row checks the library's own total count (and, where
 * the library reports series, their number) against the records made. Each row's note and
 * JSON field {@value #HEAP_FIELD} give the heap per series: a fresh set of the row's series
 * (with whatever the row shares: registry, provider, group, and the array that holds them),
 * each recorded once, measured by {@link RetainedHeap} (heap after GC, after minus before,
 * over the series count), once per row and run. {@link #memory(int)} gives the same figures
 * as the memory rows of unit {@value #SERIES_UNIT}, where rseq4j's row adds, as native
 * memory, its group's per-CPU logs (off the heap, fixed whatever the series count) spread
 * over the series.
 */
final class SeriesSuite {
    private SeriesSuite() {
    }

    static final String TOPIC = "series";
    static final String GROUP = "series record";

    /** The unit of the memory rows. */
    static final String SERIES_UNIT = "series";

    /** The JSON field of the heap per series. */
    static final String HEAP_FIELD = "heap_bytes_per_series";

    /** Series per row, unless {@code --series} says otherwise. */
    static final int SERIES = 10_000;

    /** Platform thread counts; plus {@value #VIRTUAL_THREADS} virtual threads. */
    static final int[] THREADS = {1, 2, 8};
    static final int VIRTUAL_THREADS = 8;

    private static final int MASK = HistogramSuite.VALUES - 1;

    /** The buckets everyone uses where the library lets one choose. */
    static final BucketLayout LAYOUT = BucketLayout.micrometerTimerDefault();

    /** {@link #LAYOUT}'s finite upper bounds in nanoseconds (68 of them). */
    static final long[] BOUNDS_NANOS = new long[LAYOUT.bucketCount() - 1];

    static {
        for (int i = 0; i < BOUNDS_NANOS.length; i++) {
            BOUNDS_NANOS[i] = LAYOUT.upperBound(i);
        }
    }

    /** Significant digits of the HdrHistogram row's recorders. */
    static final int HDR_DIGITS = 1;

    static final String RSEQ4J = "rseq4j series";
    static final String MICROMETER = "Micrometer Timer series (percentile histogram)";
    /** The same timers on rseq4j's drop-in registry: rseq4j's answer for code that already uses Micrometer. */
    static final String RSEQ4J_MICROMETER = "rseq4j Micrometer series (RseqPrometheusMeterRegistry)";
    static final String PROMETHEUS = "Prometheus Histogram series (classicOnly)";
    static final String OTEL = "OpenTelemetry histogram series (explicit buckets)";
    static final String HDR = "HdrHistogram Recorder series (" + HDR_DIGITS + " digit)";

    /** A row: its name, kind and how to make its workload for a series count. */
    private record Row(String name, RowKind kind, IntFunction<Rows> make) {
    }

    private static List<Row> rows() {
        return List.of(
                new Row(RSEQ4J, RowKind.RSEQ4J, SeriesSuite::rseq4j),
                new Row(RSEQ4J_MICROMETER, RowKind.RSEQ4J, SeriesSuite::rseqMicrometer),
                new Row(MICROMETER, RowKind.ALTERNATIVE, SeriesSuite::micrometer),
                new Row(PROMETHEUS, RowKind.ALTERNATIVE, SeriesSuite::prometheus),
                new Row(OTEL, RowKind.ALTERNATIVE, SeriesSuite::openTelemetry),
                new Row(HDR, RowKind.ALTERNATIVE, SeriesSuite::hdrRecorders));
    }

    /** The cases of the topic with {@code series} series per row, in run order. */
    static List<BenchCase> cases(int series) {
        if (series < 1) {
            throw new IllegalArgumentException("series must be >= 1: " + series);
        }
        List<BenchCase> all = new ArrayList<>();
        for (int k = 0; k <= THREADS.length; k++) {
            boolean virtual = k == THREADS.length;
            int t = virtual ? VIRTUAL_THREADS : THREADS[k];
            for (Row r : rows()) {
                BenchCase c = new BenchCase(TOPIC, GROUP, r.name, t, virtual, r.kind, false,
                        () -> r.make.apply(series));
                all.add(r.name.equals(PROMETHEUS) ? c.asReference() : c);
            }
        }
        return all;
    }

    /**
     * The memory rows: each row's heap per series ({@link #heapPerSeries}), {@code series}
     * series each, as rows of unit {@value #SERIES_UNIT}.
     */
    static List<MemorySuite.MemoryResult> memory(int series) {
        List<MemorySuite.MemoryResult> out = new ArrayList<>();
        for (Row r : rows()) {
            SeriesHeap h = heapPerSeries(r.name, series, () -> r.make.apply(series));
            out.add(new MemorySuite.MemoryResult(r.name, SERIES_UNIT, series, "each recorded once", 0, h.retained,
                    h.histogram, h.nativePer, h.retained + h.nativePer, h.classes, h.detail, h.check, r.kind, null));
        }
        return out;
    }

    // ---- the workloads ------------------------------------------------------------------

    /** Where a worker is: the next series and the next value; kept from one loop call to the next. */
    static final class Cursor {
        int series;
        int value;

        Cursor(int index, int series) {
            this.series = (int) ((long) index * 977 % series);
            this.value = HistogramSuite.offset(index);
        }
    }

    /**
     * The workload of a row: {@link #n} series of one library, made before timing. Each
     * subclass has its own loop (so each loop's calls are monomorphic), which walks the
     * series and values from its worker's {@link Cursor}.
     */
    abstract static class Rows implements Workload {
        /** Series. */
        final int n;
        /** The row's name, under which its heap per series is kept. */
        private final String name;
        /** Makes another workload of this row, for the memory measurement. */
        private final IntFunction<Rows> maker;

        Rows(String name, int n, IntFunction<Rows> maker) {
            this.name = name;
            this.n = n;
            this.maker = maker;
        }

        /** Records value {@code HistogramSuite.NANOS[v]} into series {@code i} (the memory measurement's record). */
        abstract void recordInto(int i, int v);

        /** The library's own count of all records in all series. */
        abstract long count();

        /** Off-heap bytes of the whole set of series (rseq4j: the group's per-CPU logs), 0 by default. */
        long nativeBytes() {
            return 0;
        }

        /** Anything else wrong with the series (their number, say), or null. */
        String seriesProblem() {
            return null;
        }

        /** How the row's series were made, for its note and memory row (or ""). */
        String how() {
            return "";
        }

        @Override
        public String check(long totalOps) {
            String p = seriesProblem();
            return p != null ? p : Suites.expect(count(), totalOps);
        }

        /** The heap per series of this row, measured once per run (on first use). */
        SeriesHeap heap() {
            return heapPerSeries(name, n, () -> maker.apply(n));
        }

        @Override
        public String note() {
            SeriesHeap h = heap();
            String how = how();
            return String.format(Locale.ROOT, "%,.0f B heap per series (%,d series, each recorded once)%s", h.retained,
                    n, how.isEmpty() ? "" : "; " + how);
        }

        @Override
        public Map<String, Object> fields() {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("series", n);
            f.put(HEAP_FIELD, heap().retained);
            return f;
        }
    }

    /**
     * Heap per series of one row.
     *
     * @param retained  retained heap over the series count, in bytes
     * @param nativePer off-heap bytes of the set ({@link Rows#nativeBytes()}) over the series count
     * @param histogram the class histogram's figure (NaN without one)
     * @param classes   the class histogram's breakdown
     * @param detail    what the row says about its own memory, or ""
     * @param check     "ok" when the set measured counted its records
     */
    record SeriesHeap(double retained, double nativePer, double histogram, List<MemorySuite.ClassShare> classes,
                      String detail, String check) {
    }

    /** Heap per series, by row name and series count, measured once per run. */
    private static final Map<String, SeriesHeap> HEAP = new ConcurrentHashMap<>();

    /**
     * A row's heap per series: a fresh workload with {@code series} series, each recorded
     * once (value {@code i mod 4096} into series {@code i}), measured by {@link RetainedHeap};
     * cached by row and series count.
     */
    static SeriesHeap heapPerSeries(String name, int series, java.util.function.Supplier<Rows> make) {
        return HEAP.computeIfAbsent(name + "|" + series, k -> {
            RetainedHeap.Delta<Rows> d = RetainedHeap.measure(series, () -> {
                Rows w = make.get();
                for (int i = 0; i < series; i++) {
                    w.recordInto(i, i & MASK);
                }
                return w;
            });
            Rows w = d.result();
            String check = w.seriesProblem();
            if (check == null) {
                check = Suites.expect(w.count(), series);
            }
            return new SeriesHeap((double) d.retained() / series, (double) w.nativeBytes() / series,
                    d.histogram() / series, d.classes(), w.how(), check);
        });
    }

    // ---- rseq4j -------------------------------------------------------------------------

    /**
     * One group per workload (its per-CPU logs are allocated once, whatever the series
     * count), never closed: a workload's series are read by its check after the harness's
     * last call; the groups of one run are a few, of {@code bytesPerCpu()} per CPU each.
     */
    static Rows rseq4j(int n) {
        HistogramGroup group = new HistogramGroup();
        HistogramSeries[] series = new HistogramSeries[n];
        for (int i = 0; i < n; i++) {
            series[i] = group.newSeries(LAYOUT);
        }
        return new Rows(RSEQ4J, n, SeriesSuite::rseq4j) {
            @Override
            public Loop newLoop(int index) {
                Cursor c = new Cursor(index, n);
                return ops -> {
                    int s = c.series, v = c.value;
                    for (long i = 0; i < ops; i++) {
                        series[s].record(HistogramSuite.NANOS[v]);
                        if (++s == n) {
                            s = 0;
                        }
                        v = (v + 1) & MASK;
                    }
                    c.series = s;
                    c.value = v;
                    return ops;
                };
            }

            @Override
            void recordInto(int i, int v) {
                series[i].record(HistogramSuite.NANOS[v]);
            }

            @Override
            long count() {
                long[] sum = new long[1];
                group.snapshot((s, counts) -> sum[0] += counts.count());
                return sum[0];
            }

            @Override
            long nativeBytes() {
                return group.bytesPerCpu() * Rseq.status().possibleCpus().size();
            }

            @Override
            String seriesProblem() {
                int open = group.seriesCount();
                long dropped = group.droppedRecords();
                return open != n ? open + " series open, not " + n
                        : dropped != 0 ? dropped + " records dropped" : null;
            }

            @Override
            String how() {
                return String.format(Locale.ROOT, "heapBytes() %,d B per series; the group's per-CPU logs: %,d B"
                                + " per CPU x %d CPUs, whatever the series count", series[0].heapBytes(),
                        group.bytesPerCpu(), Rseq.status().possibleCpus().size());
            }
        };
    }

    // ---- Micrometer ---------------------------------------------------------------------

    /** Series {@code i}'s timer: a percentile histogram with Micrometer's default buckets. */
    static Timer micrometerTimer(PrometheusMeterRegistry registry, int i) {
        return Timer.builder("bench.series").tag("series", "s" + i).publishPercentileHistogram().register(registry);
    }

    static Rows micrometer(int n) {
        return micrometerRows(MICROMETER, n, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), SeriesSuite::micrometer);
    }

    static Rows rseqMicrometer(int n) {
        return micrometerRows(RSEQ4J_MICROMETER, n, new RseqPrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                SeriesSuite::rseqMicrometer);
    }

    /** {@code n} timers on {@code registry}, recorded round-robin; {@code again} makes the same rows afresh. */
    private static Rows micrometerRows(String name, int n, PrometheusMeterRegistry registry, IntFunction<Rows> again) {
        Timer[] timers = new Timer[n];
        for (int i = 0; i < n; i++) {
            timers[i] = micrometerTimer(registry, i);
        }
        return new Rows(name, n, again) {
            @Override
            public Loop newLoop(int index) {
                Cursor c = new Cursor(index, n);
                return ops -> {
                    int s = c.series, v = c.value;
                    for (long i = 0; i < ops; i++) {
                        timers[s].record(HistogramSuite.NANOS[v], TimeUnit.NANOSECONDS);
                        if (++s == n) {
                            s = 0;
                        }
                        v = (v + 1) & MASK;
                    }
                    c.series = s;
                    c.value = v;
                    return ops;
                };
            }

            @Override
            void recordInto(int i, int v) {
                timers[i].record(HistogramSuite.NANOS[v], TimeUnit.NANOSECONDS);
            }

            @Override
            long count() {
                long sum = 0;
                for (Timer t : timers) {
                    sum += t.count();
                }
                return sum;
            }

            @Override
            long nativeBytes() {
                return registry instanceof RseqPrometheusMeterRegistry r
                        ? r.bytesPerCpu() * Rseq.status().possibleCpus().size() : 0;
            }

            @Override
            String seriesProblem() {
                int meters = registry.getMeters().size();
                return meters == n ? null : meters + " timers registered, not " + n;
            }
        };
    }

    // ---- Prometheus ---------------------------------------------------------------------

    /** {@link #BOUNDS_NANOS} in seconds. */
    static double[] boundsSeconds() {
        return Arrays.stream(BOUNDS_NANOS).mapToDouble(b -> b / 1e9).toArray();
    }

    /** The histogram of all series: classic buckets only (at {@link #boundsSeconds()}), no exemplars. */
    static io.prometheus.metrics.core.metrics.Histogram prometheusHistogram() {
        return io.prometheus.metrics.core.metrics.Histogram.builder().name("bench_series_seconds").help("bench")
                .labelNames("series").classicUpperBounds(boundsSeconds()).classicOnly().withoutExemplars().build();
    }

    static Rows prometheus(int n) {
        io.prometheus.metrics.core.metrics.Histogram h = prometheusHistogram();
        DistributionDataPoint[] points = new DistributionDataPoint[n];
        for (int i = 0; i < n; i++) {
            points[i] = h.labelValues("s" + i);
        }
        return new Rows(PROMETHEUS, n, SeriesSuite::prometheus) {
            @Override
            public Loop newLoop(int index) {
                Cursor c = new Cursor(index, n);
                return ops -> {
                    int s = c.series, v = c.value;
                    for (long i = 0; i < ops; i++) {
                        points[s].observe(HistogramSuite.SECONDS[v]);
                        if (++s == n) {
                            s = 0;
                        }
                        v = (v + 1) & MASK;
                    }
                    c.series = s;
                    c.value = v;
                    return ops;
                };
            }

            @Override
            void recordInto(int i, int v) {
                points[i].observe(HistogramSuite.SECONDS[v]);
            }

            @Override
            long count() {
                long sum = 0;
                for (HistogramSnapshot.HistogramDataPointSnapshot p : h.collect().getDataPoints()) {
                    sum += p.getCount();
                }
                return sum;
            }

            @Override
            String seriesProblem() {
                int points = h.collect().getDataPoints().size();
                return points == n ? null : points + " data points, not " + n;
            }

            @Override
            String how() {
                return "its data points, labelValues(..), looked up once per series before timing";
            }
        };
    }

    // ---- OpenTelemetry ------------------------------------------------------------------

    /**
     * The OpenTelemetry row's cardinality limit: twice the series and some. With a limit of
     * series + 1, one run at load 8 (300 series, 8 threads adding their first records at
     * once) ended with 301 points, the SDK having warned that the instrument exceeded its
     * cardinality, though only the 300 attribute sets are ever recorded: one set was folded
     * into the overflow series. With room to spare, a check that still finds exactly
     * {@code n} points shows that no series was folded.
     */
    static int cardinalityLimit(int n) {
        return 2 * n + 64;
    }

    /**
     * The histogram of {@code n} series, read by {@code reader}: explicit buckets at
     * {@link #BOUNDS_NANOS}, exemplars off, and room for more than
     * {@code n} attribute sets ({@link #cardinalityLimit}).
     */
    static LongHistogram openTelemetryHistogram(HistogramSuite.PullReader reader, int n) {
        List<Double> bounds = Arrays.stream(BOUNDS_NANOS).mapToObj(b -> (double) b).toList();
        SdkMeterProvider provider = SdkMeterProvider.builder().registerMetricReader(reader)
                .setExemplarFilter(ExemplarFilter.alwaysOff())
                .registerView(InstrumentSelector.builder().setName("bench.series").build(),
                        View.builder().setAggregation(Aggregation.explicitBucketHistogram(bounds))
                                .setCardinalityLimit(cardinalityLimit(n)).build())
                .build();
        return provider.get("rseq4j-bench").histogramBuilder("bench.series").ofLongs().setUnit("ns").build();
    }

    static Rows openTelemetry(int n) {
        HistogramSuite.PullReader reader = new HistogramSuite.PullReader();
        LongHistogram h = openTelemetryHistogram(reader, n);
        AttributeKey<String> key = AttributeKey.stringKey("series");
        Attributes[] attributes = new Attributes[n];
        for (int i = 0; i < n; i++) {
            attributes[i] = Attributes.of(key, "s" + i);
        }
        return new Rows(OTEL, n, SeriesSuite::openTelemetry) {
            @Override
            public Loop newLoop(int index) {
                Cursor c = new Cursor(index, n);
                return ops -> {
                    int s = c.series, v = c.value;
                    for (long i = 0; i < ops; i++) {
                        h.record(HistogramSuite.NANOS[v], attributes[s]);
                        if (++s == n) {
                            s = 0;
                        }
                        v = (v + 1) & MASK;
                    }
                    c.series = s;
                    c.value = v;
                    return ops;
                };
            }

            @Override
            void recordInto(int i, int v) {
                h.record(HistogramSuite.NANOS[v], attributes[i]);
            }

            /** Total count and number of points of one collection. */
            private long[] collect() {
                long count = 0, points = 0;
                for (MetricData m : reader.collect()) {
                    for (HistogramPointData p : m.getHistogramData().getPoints()) {
                        count += p.getCount();
                        points++;
                    }
                }
                return new long[] {count, points};
            }

            @Override
            long count() {
                return collect()[0];
            }

            @Override
            String seriesProblem() {
                long points = collect()[1];
                return points == n ? null : points + " points (attribute sets), not " + n;
            }

            @Override
            String how() {
                return "cardinality limit " + cardinalityLimit(n);
            }
        };
    }

    // ---- HdrHistogram -------------------------------------------------------------------

    static Rows hdrRecorders(int n) {
        long highest = TimeUnit.HOURS.toNanos(1);
        Recorder[] recorders = new Recorder[n];
        for (int i = 0; i < n; i++) {
            recorders[i] = new Recorder(highest, HDR_DIGITS);
        }
        return new Rows(HDR, n, SeriesSuite::hdrRecorders) {
            /** Records counted so far, taken out of the recorders' intervals. */
            private long counted;

            @Override
            public Loop newLoop(int index) {
                Cursor c = new Cursor(index, n);
                return ops -> {
                    int s = c.series, v = c.value;
                    for (long i = 0; i < ops; i++) {
                        recorders[s].recordValue(HistogramSuite.NANOS[v]);
                        if (++s == n) {
                            s = 0;
                        }
                        v = (v + 1) & MASK;
                    }
                    c.series = s;
                    c.value = v;
                    return ops;
                };
            }

            @Override
            void recordInto(int i, int v) {
                recorders[i].recordValue(HistogramSuite.NANOS[v]);
            }

            @Override
            long count() {
                for (Recorder r : recorders) {
                    counted += r.getIntervalHistogram().getTotalCount();
                }
                return counted;
            }
        };
    }
}
