package io.github.rseq4j.prometheus;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.HistogramCounts;
import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.Histogram;
import io.github.rseq4j.PerCpuHistogram;
import io.github.rseq4j.PerCpuTimer;
import io.prometheus.metrics.model.registry.MetricType;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.registry.PrometheusScrapeRequest;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricFamilyDescriptor;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.PrometheusNaming;
import io.prometheus.metrics.model.snapshots.Unit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * rseq4j counters, histograms and timers as Prometheus metrics: one
 * {@link MultiCollector} for a {@link PrometheusRegistry}, built once with a fixed set of
 * metric families (so the registry checks names, types and label names when it is
 * registered).
 *
 * <pre>{@code
 * PerCpuCounter requests = new PerCpuCounter();
 * PerCpuTimer latency = new PerCpuTimer();
 * RseqCollector.builder()
 *         .counter("http_requests_total", "HTTP requests served", requests)
 *         .timer("http_request_duration_seconds", "HTTP request latency", latency)
 *         .withRseqStatus()                    // rseq4j's own mode, fallbacks, aborts
 *         .register(PrometheusRegistry.defaultRegistry);
 * }</pre>
 *
 * <p><b>What is exported.</b>
 * <ul>
 * <li>A {@link PerCpuCounter} is a <b>counter</b> ({@code name_total}) whose value is
 *     {@link PerCpuCounter#sum()}: it must only grow (never {@code sumThenReset()} it); a
 *     negative sum is exported as 0.</li>
 * <li>A {@link Histogram} ({@link PerCpuHistogram}, or a {@link io.github.rseq4j.HistogramSeries} of a group) is a <b>classic histogram</b> in the histogram's own unit;
 *     a {@link PerCpuTimer} is a classic histogram in <b>seconds</b> (its nanoseconds
 *     divided by 10^9), whose name must end in {@code _seconds}. The buckets are chosen
 *     by {@link ClassicBounds} (default: {@link ClassicBounds#auto()} for histograms,
 *     {@link ClassicBounds#prometheusDefaultSeconds()} for timers); every exported bound
 *     is one of the histogram's own bucket upper bounds, so the counts are exact.</li>
 * <li>{@link Builder#nativeHistogram nativeHistogram} and {@link Builder#nativeTimer nativeTimer}
 *     export a histogram or timer with an exponential layout ({@link BucketLayout#exponential},
 *     {@link BucketLayout#exponentialSeconds} for timers) as a Prometheus <b>native
 *     histogram</b>: schema, zero bucket and exponential buckets taken from the layout as
 *     they are (exact counts; a scale above 8 is merged down to schema 8, exactly), with
 *     classic buckets beside them when {@link ClassicBounds} are given too. Native
 *     histograms travel only in the protobuf exposition, which client_java serves when
 *     {@code prometheus-metrics-exposition-formats} is on the class path and the scraper
 *     asks for it (Prometheus with {@code --enable-feature=native-histograms}); the text
 *     format shows the classic buckets, or only {@code _count} and {@code _sum}.</li>
 * <li>The same name may be given several times with different label values (the same
 *     label names, type and help): one family with a data point per label set.</li>
 * </ul>
 *
 * <p><b>Consistency.</b> Every scrape takes exactly one {@link Histogram#snapshot()}
 * per histogram data point and derives its buckets, {@code _count} and {@code _sum} from
 * it: {@code _count} equals the {@code +Inf} bucket equals the sum of the bucket
 * increments, the buckets are cumulative and never decrease, and the sum belongs to the
 * same records. Histograms are cumulative since they were created, as Prometheus expects
 * (the collector never resets them); do not call {@code snapshotThenReset()} on an
 * exported histogram. A snapshot stops each CPU's slice of the histogram in turn for a
 * moment; recorders never wait for it.
 */
public final class RseqCollector implements MultiCollector {

    private final List<Family> families;
    private final List<MetricFamilyDescriptor> descriptors;
    private final RseqStatusCollector status;

    private RseqCollector(List<Family> families, RseqStatusCollector status) {
        this.families = families;
        this.status = status;
        List<MetricFamilyDescriptor> d = new ArrayList<>();
        for (Family f : families) {
            d.add(f.descriptor());
        }
        if (status != null) {
            d.addAll(status.getMetricFamilyDescriptors());
        }
        this.descriptors = Collections.unmodifiableList(d);
    }

    /**
     * A builder of a collector.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Registers this collector with {@code registry} and returns it; when it exports rseq4j's
     * status and the registry already does ({@link RseqStatusCollector#isExportedIn}, from
     * {@code rseq4j-micrometer} or another collector), registers a copy without the status
     * instead, and returns that.
     *
     * @param registry the registry
     * @return the registered collector: this one, or its copy without rseq4j's status
     */
    public RseqCollector register(PrometheusRegistry registry) {
        RseqCollector c = status != null && RseqStatusCollector.isExportedIn(registry)
                ? new RseqCollector(families, null) : this;
        registry.register(c);
        return c;
    }

    @Override
    public MetricSnapshots collect() {
        return collect(name -> true, null);
    }

    @Override
    public MetricSnapshots collect(Predicate<String> includedNames) {
        return collect(includedNames, null);
    }

    @Override
    public MetricSnapshots collect(PrometheusScrapeRequest scrapeRequest) {
        return collect(name -> true, scrapeRequest);
    }

    /** Only the included families are read (a histogram snapshot stops CPUs: skip what is not asked for). */
    @Override
    public MetricSnapshots collect(Predicate<String> includedNames, PrometheusScrapeRequest scrapeRequest) {
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        for (Family f : families) {
            if (includedNames.test(f.metadata.getPrometheusName())) {
                out.metricSnapshot(f.collect());
            }
        }
        if (status != null) {
            for (MetricSnapshot s : status.collect(includedNames, scrapeRequest)) {
                out.metricSnapshot(s);
            }
        }
        return out.build();
    }

    @Override
    public List<MetricFamilyDescriptor> getMetricFamilyDescriptors() {
        return descriptors;
    }

    @Override
    public String toString() {
        List<String> names = new ArrayList<>();
        for (Family f : families) {
            names.add(f.metadata.getPrometheusName());
        }
        return "RseqCollector" + names + (status == null ? "" : " + rseq4j status");
    }

    // ------------------------------------------------------------------ families

    private enum Kind { COUNTER, GAUGE, HISTOGRAM }

    /** One metric family: a name, its type, help, unit and label names, and its data points. */
    private static final class Family {
        final Kind kind;
        final MetricMetadata metadata;
        final Unit unit;
        final Set<String> labelNames;
        final List<Point> points = new ArrayList<>();

        Family(Kind kind, MetricMetadata metadata, Unit unit, Set<String> labelNames) {
            this.kind = kind;
            this.metadata = metadata;
            this.unit = unit;
            this.labelNames = labelNames;
        }

        MetricFamilyDescriptor descriptor() {
            MetricType type = switch (kind) {
                case COUNTER -> MetricType.COUNTER;
                case GAUGE -> MetricType.GAUGE;
                case HISTOGRAM -> MetricType.HISTOGRAM;
            };
            return MetricFamilyDescriptor.of(type, metadata, labelNames);
        }

        MetricSnapshot collect() {
            return switch (kind) {
                case COUNTER -> {
                    List<CounterSnapshot.CounterDataPointSnapshot> data = new ArrayList<>(points.size());
                    for (Point p : points) {
                        data.add(CounterSnapshot.CounterDataPointSnapshot.builder()
                                .value(Math.max(0, p.counter.sum())).labels(p.labels).build());
                    }
                    yield new CounterSnapshot(metadata, data);
                }
                case GAUGE -> {
                    List<GaugeSnapshot.GaugeDataPointSnapshot> data = new ArrayList<>(points.size());
                    for (Point p : points) {
                        data.add(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                                .value(p.counter.sum()).labels(p.labels).build());
                    }
                    yield new GaugeSnapshot(metadata, data);
                }
                case HISTOGRAM -> {
                    List<io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot> data =
                            new ArrayList<>(points.size());
                    for (Point p : points) {
                        data.add(p.histogramPoint());
                    }
                    yield new io.prometheus.metrics.model.snapshots.HistogramSnapshot(metadata, data);
                }
            };
        }
    }

    /** One data point: a counter or a histogram, and its labels. */
    private static final class Point {
        final Labels labels;
        final PerCpuCounter counter;
        final Histogram histogram;
        /** The classic buckets, from the histogram's layout when the point is defined (so bad bounds fail there); null for none. */
        private final ClassicBounds.Mapping classic;
        /** The native buckets, likewise; null for none. */
        private final NativeBuckets nativeBuckets;

        /** A counter or gauge. */
        Point(Labels labels, PerCpuCounter counter) {
            this.labels = labels;
            this.counter = counter;
            this.histogram = null;
            this.classic = null;
            this.nativeBuckets = null;
        }

        /** A histogram exported in units of {@code divisor} recorded values: classic buckets, native ones, or both. */
        Point(Labels labels, Histogram histogram, ClassicBounds classicBounds, boolean exportNative, long divisor) {
            this.labels = labels;
            this.counter = null;
            this.histogram = histogram;
            this.classic = classicBounds == null ? null : classicBounds.mapping(histogram.layout(), divisor);
            this.nativeBuckets = exportNative ? NativeBuckets.of(histogram.layout(), divisor) : null;
        }

        /** One snapshot, and everything derived from it. */
        io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot histogramPoint() {
            HistogramCounts s = histogram.snapshot();
            var b = io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot.builder()
                    .labels(labels);
            if (classic != null) {
                b.classicHistogramBuckets(ClassicHistogramBuckets.of(classic.upperBounds(), classic.counts(s)))
                        .sum(classic.sum(s));
            }
            if (nativeBuckets != null) {
                nativeBuckets.apply(s, b);
            }
            return b.build();
        }
    }

    // ------------------------------------------------------------------ builder

    /** Collects metric definitions; {@link #build()} checks them and makes the collector. */
    public static final class Builder {
        private final Map<String, Family> families = new LinkedHashMap<>();
        private boolean status;

        private Builder() {
        }

        /**
         * A counter: {@code counter.sum()} at each scrape. {@code name} may end in
         * {@code _total} or not (the exposition adds it).
         *
         * @param name    the metric name
         * @param help    the help text
         * @param counter the counter
         * @param labels  label names and values, alternating ({@code "path", "/a"})
         * @return this builder
         */
        public Builder counter(String name, String help, PerCpuCounter counter, String... labels) {
            Objects.requireNonNull(counter, "counter");
            String base = name != null && name.endsWith("_total") ? name.substring(0, name.length() - 6) : name;
            add(Kind.COUNTER, base, help, null, labels, l -> new Point(l, counter));
            return this;
        }

        /**
         * A gauge: {@code counter.sum()} at each scrape, for counters that go up and down.
         *
         * @param name    the metric name
         * @param help    the help text
         * @param counter the counter
         * @param labels  label names and values, alternating
         * @return this builder
         */
        public Builder gauge(String name, String help, PerCpuCounter counter, String... labels) {
            Objects.requireNonNull(counter, "counter");
            add(Kind.GAUGE, name, help, null, labels, l -> new Point(l, counter));
            return this;
        }

        /**
         * A classic histogram in the histogram's own unit, with {@link ClassicBounds#auto()} buckets.
         *
         * @param name      the metric name
         * @param help      the help text
         * @param histogram the histogram
         * @param labels    label names and values, alternating
         * @return this builder
         */
        public Builder histogram(String name, String help, Histogram histogram, String... labels) {
            return histogram(name, help, histogram, ClassicBounds.auto(), labels);
        }

        /**
         * A classic histogram in the histogram's own unit, with these buckets.
         *
         * @param name      the metric name
         * @param help      the help text
         * @param histogram the histogram
         * @param bounds    the exported buckets
         * @param labels    label names and values, alternating
         * @return this builder
         */
        public Builder histogram(String name, String help, Histogram histogram, ClassicBounds bounds,
                                 String... labels) {
            Objects.requireNonNull(bounds, "bounds");
            return histogram(name, help, histogram, bounds, false, labels);
        }

        private Builder histogram(String name, String help, Histogram histogram, ClassicBounds classic,
                                  boolean exportNative, String[] labels) {
            Objects.requireNonNull(histogram, "histogram");
            add(Kind.HISTOGRAM, name, help, null, labels, l -> new Point(l, histogram, classic, exportNative, 1));
            return this;
        }

        /**
         * A classic histogram in seconds, with the Prometheus default latency buckets
         * ({@link ClassicBounds#prometheusDefaultSeconds()}).
         *
         * @param name   must end in {@code _seconds}
         * @param help   the help text
         * @param timer  the timer
         * @param labels label names and values, alternating
         * @return this builder
         */
        public Builder timer(String name, String help, PerCpuTimer timer, String... labels) {
            return timer(name, help, timer, ClassicBounds.prometheusDefaultSeconds(), labels);
        }

        /**
         * A classic histogram in seconds, with these buckets ({@link ClassicBounds#of} in seconds).
         *
         * @param name   must end in {@code _seconds}
         * @param help   the help text
         * @param timer  the timer
         * @param bounds the exported buckets, in seconds
         * @param labels label names and values, alternating
         * @return this builder
         */
        public Builder timer(String name, String help, PerCpuTimer timer, ClassicBounds bounds, String... labels) {
            Objects.requireNonNull(bounds, "bounds");
            return timer(name, help, timer, bounds, false, labels);
        }

        private Builder timer(String name, String help, PerCpuTimer timer, ClassicBounds classic, boolean exportNative,
                              String[] labels) {
            Objects.requireNonNull(timer, "timer");
            if (name == null || !name.endsWith("_seconds")) {
                throw new IllegalArgumentException("a timer is exported in seconds: its name must end in _seconds: "
                        + name);
            }
            add(Kind.HISTOGRAM, name, help, Unit.SECONDS, labels,
                    l -> new Point(l, timer.histogram(), classic, exportNative, BucketLayout.NANOS_PER_SECOND));
            return this;
        }

        /**
         * A native histogram (only) in the histogram's own unit: its exponential buckets as
         * they are (see {@link #nativeHistogram(String, String, Histogram, ClassicBounds, String...)}).
         *
         * @param name      the metric name
         * @param help      the help text
         * @param histogram a histogram with a {@link BucketLayout#exponential(int, long, long)} layout
         * @param labels    label names and values, alternating
         * @return this builder
         * @throws IllegalArgumentException when the layout is not exponential in the histogram's
         *                                  own unit, or its scale is below -4
         */
        public Builder nativeHistogram(String name, String help, Histogram histogram, String... labels) {
            return histogram(name, help, histogram, null, true, labels);
        }

        /**
         * A native histogram in the histogram's own unit, and classic buckets beside it in
         * the same data point (the protobuf exposition carries both; the text format only the
         * classic ones). The native histogram's schema is the layout's scale (8 for a finer
         * scale: runs of buckets merged, exactly), its zero bucket the layout's zero bucket,
         * its buckets the layout's exponential buckets with their counts.
         *
         * @param name      the metric name
         * @param help      the help text
         * @param histogram a histogram with a {@link BucketLayout#exponential(int, long, long)} layout
         * @param classic   the classic buckets exported beside the native ones
         * @param labels    label names and values, alternating
         * @return this builder
         * @throws IllegalArgumentException when the layout is not exponential in the histogram's
         *                                  own unit, its scale is below -4, or a classic bound is
         *                                  no bucket bound of it
         */
        public Builder nativeHistogram(String name, String help, Histogram histogram, ClassicBounds classic,
                                       String... labels) {
            Objects.requireNonNull(classic, "classic");
            return histogram(name, help, histogram, classic, true, labels);
        }

        /**
         * A native histogram (only) in seconds, of a timer whose layout is
         * {@link BucketLayout#exponentialSeconds}.
         *
         * @param name   must end in {@code _seconds}
         * @param help   the help text
         * @param timer  the timer
         * @param labels label names and values, alternating
         * @return this builder
         * @throws IllegalArgumentException when the layout is not {@code exponentialSeconds}, or
         *                                  its scale is below -4
         */
        public Builder nativeTimer(String name, String help, PerCpuTimer timer, String... labels) {
            return timer(name, help, timer, null, true, labels);
        }

        /**
         * A native histogram in seconds, of a timer whose layout is
         * {@link BucketLayout#exponentialSeconds}, and classic buckets (in seconds) beside it.
         *
         * @param name    must end in {@code _seconds}
         * @param help    the help text
         * @param timer   the timer
         * @param classic the classic buckets exported beside the native ones, in seconds
         * @param labels  label names and values, alternating
         * @return this builder
         * @throws IllegalArgumentException when the layout is not {@code exponentialSeconds}, its
         *                                  scale is below -4, or a classic bound is no bucket bound of it
         */
        public Builder nativeTimer(String name, String help, PerCpuTimer timer, ClassicBounds classic,
                                   String... labels) {
            Objects.requireNonNull(classic, "classic");
            return timer(name, help, timer, classic, true, labels);
        }

        /**
         * Also export rseq4j's own state, as {@link RseqStatusCollector} does (once per
         * registry: see {@link RseqCollector#register(PrometheusRegistry)}).
         *
         * @return this builder
         */
        public Builder withRseqStatus() {
            this.status = true;
            return this;
        }

        /**
         * The collector.
         *
         * @return the collector
         * @throws IllegalArgumentException when it would export nothing
         */
        public RseqCollector build() {
            if (families.isEmpty() && !status) {
                throw new IllegalArgumentException("nothing to collect: add a counter, histogram or timer");
            }
            return new RseqCollector(List.copyOf(families.values()), status ? new RseqStatusCollector() : null);
        }

        /**
         * Builds the collector, registers it with {@code registry}, and returns it.
         *
         * @param registry the registry
         * @return the collector
         */
        public RseqCollector register(PrometheusRegistry registry) {
            return build().register(registry);
        }

        private void add(Kind kind, String name, String help, Unit unit, String[] labelPairs,
                         java.util.function.Function<Labels, Point> point) {
            Objects.requireNonNull(name, "name");
            if (!PrometheusNaming.isValidLegacyMetricName(name)) {
                throw new IllegalArgumentException("not a valid Prometheus metric name: '" + name
                        + "' (letters, digits, _ and :, not starting with a digit)");
            }
            Labels labels = labels(labelPairs);
            Point p = point.apply(labels);      // checks the bounds against the histogram's layout
            Set<String> labelNames = new LinkedHashSet<>();
            for (int i = 0; i < labels.size(); i++) {
                labelNames.add(labels.getPrometheusName(i));
            }
            Family f = families.get(name);
            if (f == null) {
                f = new Family(kind, new MetricMetadata(name, help, unit), unit, Set.copyOf(labelNames));
                families.put(name, f);
            } else {
                if (f.kind != kind || !Objects.equals(f.unit, unit)) {
                    throw new IllegalArgumentException(name + ": already defined as another kind of metric");
                }
                if (!Objects.equals(f.metadata.getHelp(), help)) {
                    throw new IllegalArgumentException(name + ": already defined with another help text");
                }
                if (!f.labelNames.equals(labelNames)) {
                    throw new IllegalArgumentException(name + ": already defined with label names " + f.labelNames
                            + ", not " + labelNames);
                }
                for (Point q : f.points) {
                    if (q.labels.equals(labels)) {
                        throw new IllegalArgumentException(name + ": already defined with labels " + labels);
                    }
                }
            }
            f.points.add(p);
        }

        private static Labels labels(String[] pairs) {
            if (pairs == null || pairs.length == 0) {
                return Labels.EMPTY;
            }
            if (pairs.length % 2 != 0) {
                throw new IllegalArgumentException("labels are name, value pairs: odd number of strings");
            }
            for (int i = 0; i < pairs.length; i += 2) {
                String n = Objects.requireNonNull(pairs[i], "label name");
                Objects.requireNonNull(pairs[i + 1], "label value");
                if (!PrometheusNaming.isValidLegacyLabelName(n) || n.startsWith("__") || n.equals("le")) {
                    throw new IllegalArgumentException("not a usable label name: '" + n + "'");
                }
            }
            return Labels.of(pairs);
        }
    }
}
