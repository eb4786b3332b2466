package io.github.rseq4j.opentelemetry;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.Histogram;
import io.github.rseq4j.HistogramCounts;
import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.HistogramSeries;
import io.github.rseq4j.PerCpuHistogram;
import io.github.rseq4j.PerCpuTimer;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.common.Clock;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProviderBuilder;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.Data;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.HistogramData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.metrics.data.SumData;
import io.opentelemetry.sdk.metrics.export.AggregationTemporalitySelector;
import io.opentelemetry.sdk.metrics.export.MetricProducer;
import io.opentelemetry.sdk.resources.Resource;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * rseq4j counters, histograms and timers as OpenTelemetry metrics: a {@link MetricProducer}
 * for the SDK's {@link SdkMeterProviderBuilder#registerMetricProducer}, so every reader
 * and exporter of the meter provider (OTLP, Prometheus, logging, in-memory) receives them
 * with the provider's resource, beside the SDK's own instruments.
 *
 * <pre>{@code
 * PerCpuCounter requests = new PerCpuCounter();
 * PerCpuTimer latency = new PerCpuTimer(BucketLayout.exponentialSeconds(3, Duration.ofNanos(1), Duration.ofMinutes(1)));
 * RseqMetricProducer producer = RseqMetricProducer.builder()
 *         .counter("http.server.requests", "HTTP requests served", "{request}", requests,
 *                 Attributes.of(AttributeKey.stringKey("http.route"), "/api"))
 *         .timer("http.server.request.duration", "HTTP request latency", latency, Attributes.empty())
 *         .build();
 * SdkMeterProvider provider = SdkMeterProvider.builder()
 *         .registerMetricReader(PeriodicMetricReader.create(OtlpHttpMetricExporter.getDefault()))
 *         .registerMetricProducer(producer)
 *         .build();
 * }</pre>
 *
 * <p><b>What is exported.</b>
 * <ul>
 * <li>{@link Builder#counter counter}: a monotonic <b>sum</b> of longs, {@link PerCpuCounter#sum()};
 *     the counter must only grow (a negative value is exported as 0).
 *     {@link Builder#upDownCounter upDownCounter}: a non-monotonic sum, for counters that go
 *     up and down.</li>
 * <li>{@link Builder#histogram histogram}: a {@link Histogram} (a {@link PerCpuHistogram} or a
 *     {@link HistogramSeries}) in its own unit; an
 *     <b>exponential histogram</b> when its layout is {@link BucketLayout#exponential
 *     exponential} (same scale, exact counts, OpenTelemetry's bucket {@code i} being
 *     {@code (base^i, base^(i+1)]}), else an <b>explicit-bucket histogram</b> with one
 *     bucket per bucket of the layout (the layout's bounds as boundaries: keep such layouts
 *     small, e.g. {@link BucketLayout#explicit}). Sum, count, min and max come from one
 *     snapshot, so they agree with the buckets.</li>
 * <li>{@link Builder#timer timer}: a {@link PerCpuTimer} in seconds (unit {@code s}), its
 *     nanoseconds divided by 10^9; exponential with a {@link BucketLayout#exponentialSeconds}
 *     layout, explicit-bucket otherwise.</li>
 * <li>The same name may be given several times with different attributes: one metric with
 *     a point per attribute set (same kind, description and unit).</li>
 * </ul>
 *
 * <p><b>Temporality.</b> Cumulative by default: every point counts everything since the
 * producer was built (its start time), and nothing is reset. With
 * {@link Builder#temporality(AggregationTemporalitySelector)} given the reader or exporter
 * (both are {@link AggregationTemporalitySelector}s; {@code OtlpHttpMetricExporter} with
 * {@code setAggregationTemporalitySelector(deltaPreferred())} asks for delta), the producer
 * exports each instrument type the way it asks: a delta point holds what was recorded since
 * the previous collection (its start time), taken out of the rseq4j structure with
 * {@link Histogram#snapshotThenReset()} and {@link PerCpuCounter#sumThenReset()},
 * which lose no record and count none twice, and give each interval its own exact min and
 * max. A producer that exports delta must be read by exactly one reader (each collection
 * takes the records out), and the structures it resets must not be read elsewhere.
 *
 * <p><b>Cost.</b> A collection takes one snapshot per histogram point (each CPU's part of
 * the histogram stopped for a moment; recorders never wait) and reads each counter. The
 * producer is thread-safe; collections run one at a time.
 */
public final class RseqMetricProducer implements MetricProducer {
    /** The default instrumentation scope: this module. */
    public static final String DEFAULT_SCOPE = "io.github.rseq4j.opentelemetry";

    private final InstrumentationScopeInfo scope;
    private final AggregationTemporalitySelector temporality;
    private final List<Instrument> instruments;
    private final Clock clock;

    private RseqMetricProducer(InstrumentationScopeInfo scope, AggregationTemporalitySelector temporality,
                               List<Instrument> instruments, Clock clock) {
        this.scope = scope;
        this.temporality = temporality;
        this.instruments = instruments;
        this.clock = clock;
        long now = clock.now();
        for (Instrument i : instruments) {
            for (Point p : i.points) {
                p.start = now;
            }
        }
    }

    /**
     * A builder of a producer.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The metrics, as the SDK's readers collect them: one {@link MetricData} per name, with
     * a point per attribute set, all with {@code resource} and this producer's scope.
     *
     * @param resource the meter provider's resource
     * @return the metrics
     */
    @Override
    public synchronized Collection<MetricData> produce(Resource resource) {
        long now = clock.now();
        List<MetricData> out = new ArrayList<>(instruments.size());
        for (Instrument i : instruments) {
            AggregationTemporality t = Objects.requireNonNull(temporality.getAggregationTemporality(i.kind.type),
                    "temporality");
            boolean delta = t == AggregationTemporality.DELTA;
            out.add(i.collect(resource, scope, t, delta, now));
        }
        return out;
    }

    @Override
    public String toString() {
        List<String> names = new ArrayList<>();
        for (Instrument i : instruments) {
            names.add(i.name);
        }
        return "RseqMetricProducer" + names + " (" + AggregationTemporalitySelector.asString(temporality) + ")";
    }

    // ------------------------------------------------------------------ instruments

    /** What an instrument is exported as, and the SDK instrument type whose temporality it follows. */
    private enum Kind {
        COUNTER(InstrumentType.COUNTER), UP_DOWN_COUNTER(InstrumentType.UP_DOWN_COUNTER),
        HISTOGRAM(InstrumentType.HISTOGRAM), EXPONENTIAL_HISTOGRAM(InstrumentType.HISTOGRAM);

        final InstrumentType type;

        Kind(InstrumentType type) {
            this.type = type;
        }
    }

    /** One metric: name, description, unit, kind, and its points. */
    private static final class Instrument {
        final String name, description, unit;
        final Kind kind;
        final List<Point> points = new ArrayList<>();

        Instrument(String name, String description, String unit, Kind kind) {
            this.name = name;
            this.description = description;
            this.unit = unit;
            this.kind = kind;
        }

        MetricData collect(Resource resource, InstrumentationScopeInfo scope, AggregationTemporality t,
                           boolean delta, long now) {
            Data<?> data;
            MetricDataType type;
            switch (kind) {
                case COUNTER, UP_DOWN_COUNTER -> {
                    List<LongPointData> ps = new ArrayList<>(points.size());
                    for (Point p : points) {
                        long v = p.counter.read(delta);
                        ps.add(LongPointData.create(p.startFor(delta, now), now, p.attributes,
                                kind == Kind.COUNTER ? Math.max(0, v) : v));
                    }
                    data = SumData.createLongSumData(kind == Kind.COUNTER, t, ps);
                    type = MetricDataType.LONG_SUM;
                }
                case HISTOGRAM -> {
                    data = HistogramData.create(t, histogramPoints(HistogramPointData.class, delta, now));
                    type = MetricDataType.HISTOGRAM;
                }
                case EXPONENTIAL_HISTOGRAM -> {
                    data = ExponentialHistogramData.create(t,
                            histogramPoints(ExponentialHistogramPointData.class, delta, now));
                    type = MetricDataType.EXPONENTIAL_HISTOGRAM;
                }
                default -> throw new AssertionError(kind);
            }
            return new Metric(resource, scope, name, description, unit, type, data);
        }
        /** One snapshot per point, each exported as a point of {@code type}. */
        private <P extends PointData> List<P> histogramPoints(Class<P> type, boolean delta, long now) {
            List<P> ps = new ArrayList<>(points.size());
            for (Point p : points) {
                ps.add(type.cast(p.histogramPoint(delta, now)));
            }
            return ps;
        }
    }

    /**
     * Where a histogram point's snapshots come from: everything so far, or everything since
     * the last reset and a reset. The one place that knows the histogram's type.
     */
    private record HistogramSource(Supplier<HistogramCounts> cumulative, Supplier<HistogramCounts> delta,
                                   BucketLayout layout) {
        static HistogramSource of(Histogram h) {
            return new HistogramSource(h::snapshot, h::snapshotThenReset, h.layout());
        }
    }

    /** One point: attributes, and a counter or a histogram with its export. */
    private static final class Point {
        final Attributes attributes;
        final Counter counter;
        final HistogramSource histogram;
        final HistogramExport export;
        /** The start time: the producer's creation; for delta points, the previous collection's time. */
        long start;

        Point(Attributes attributes, Counter counter, HistogramSource histogram, HistogramExport export) {
            this.attributes = attributes;
            this.counter = counter;
            this.histogram = histogram;
            this.export = export;
        }

        long startFor(boolean delta, long now) {
            long s = start;
            if (delta) {
                start = now;
            }
            return s;
        }

        PointData histogramPoint(boolean delta, long now) {
            HistogramCounts s = delta ? histogram.delta().get() : histogram.cumulative().get();
            return export.point(s, startFor(delta, now), now, attributes);
        }
    }

    /** A counter's reads: its sum, and its sum taken out of it. */
    private record Counter(LongSupplier current, LongSupplier takeOut) {
        static Counter of(PerCpuCounter c) {
            return new Counter(c::sum, c::sumThenReset);
        }

        long read(boolean delta) {
            return delta ? takeOut.getAsLong() : current.getAsLong();
        }
    }

    /** The SDK's data model has interfaces only: one metric, as produced. */
    private record Metric(Resource resource, InstrumentationScopeInfo scope, String name, String description,
                          String unit, MetricDataType type, Data<?> data) implements MetricData {
        @Override
        public Resource getResource() {
            return resource;
        }

        @Override
        public InstrumentationScopeInfo getInstrumentationScopeInfo() {
            return scope;
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public String getDescription() {
            return description;
        }

        @Override
        public String getUnit() {
            return unit;
        }

        @Override
        public MetricDataType getType() {
            return type;
        }

        @Override
        public Data<?> getData() {
            return data;
        }
    }

    // ------------------------------------------------------------------ builder

    /** Collects metric definitions; {@link #build()} makes the producer. */
    public static final class Builder {
        /** OpenTelemetry's instrument name syntax. */
        private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.\\-/]{0,254}");
        /** Units: at most 63 printable ASCII characters. */
        private static final Pattern UNIT = Pattern.compile("[\\x20-\\x7e]{0,63}");

        private final Map<String, Instrument> instruments = new LinkedHashMap<>();
        private InstrumentationScopeInfo scope = InstrumentationScopeInfo.create(DEFAULT_SCOPE);
        private AggregationTemporalitySelector temporality = AggregationTemporalitySelector.alwaysCumulative();
        private Clock clock = Clock.getDefault();

        private Builder() {
        }

        /**
         * The instrumentation scope of the metrics (default: {@value RseqMetricProducer#DEFAULT_SCOPE}).
         *
         * @param scope the scope, e.g. {@code InstrumentationScopeInfo.builder("my.library").setVersion("1.0").build()}
         * @return this builder
         */
        public Builder scope(InstrumentationScopeInfo scope) {
            this.scope = Objects.requireNonNull(scope, "scope");
            return this;
        }

        /**
         * The temporality of each instrument type, as the reader asks for it: pass the
         * {@code MetricReader} or {@code MetricExporter} that reads this producer (both are
         * selectors), or {@link AggregationTemporalitySelector#deltaPreferred()}. Default:
         * {@link AggregationTemporalitySelector#alwaysCumulative()}. With delta, the
         * producer resets what it exports: see the class notes.
         *
         * @param selector the temporality per instrument type
         * @return this builder
         */
        public Builder temporality(AggregationTemporalitySelector selector) {
            this.temporality = Objects.requireNonNull(selector, "selector");
            return this;
        }

        /**
         * The clock of the points' times (default: the SDK's {@link Clock#getDefault()}).
         *
         * @param clock the clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * A counter: a monotonic sum of {@code counter}.
         *
         * @param name        the metric name (OpenTelemetry's instrument name syntax)
         * @param description the description
         * @param unit        the unit (UCUM, e.g. {@code "{request}"} or {@code "By"}; may be empty)
         * @param counter     the counter, which must only grow
         * @param attributes  the point's attributes
         * @return this builder
         */
        public Builder counter(String name, String description, String unit, PerCpuCounter counter,
                               Attributes attributes) {
            Objects.requireNonNull(counter, "counter");
            add(name, description, unit, Kind.COUNTER, new Point(attributes(attributes), Counter.of(counter), null, null));
            return this;
        }

        /**
         * An up-down counter: a non-monotonic sum of {@code counter}.
         *
         * @param name        the metric name
         * @param description the description
         * @param unit        the unit (may be empty)
         * @param counter     the counter
         * @param attributes  the point's attributes
         * @return this builder
         */
        public Builder upDownCounter(String name, String description, String unit, PerCpuCounter counter,
                                     Attributes attributes) {
            Objects.requireNonNull(counter, "counter");
            add(name, description, unit, Kind.UP_DOWN_COUNTER,
                    new Point(attributes(attributes), Counter.of(counter), null, null));
            return this;
        }

        /**
         * A histogram in its own unit: exponential for an {@link BucketLayout#exponential}
         * layout (whose lowest value must be 1), explicit-bucket otherwise.
         *
         * @param name        the metric name
         * @param description the description
         * @param unit        the unit of the recorded values (may be empty)
         * @param histogram   the histogram (a {@code PerCpuHistogram} or a {@code HistogramSeries})
         * @param attributes  the point's attributes
         * @return this builder
         * @throws IllegalArgumentException for an exponential layout in seconds
         *                                  ({@code exponentialSeconds}: use {@link #timer}) or whose zero
         *                                  bucket holds more than 0
         */
        public Builder histogram(String name, String description, String unit, Histogram histogram,
                                 Attributes attributes) {
            Objects.requireNonNull(histogram, "histogram");
            return histogram(name, description, unit, HistogramSource.of(histogram), 1, attributes);
        }

        /**
         * A timer in seconds (unit {@code s}): exponential for an
         * {@link BucketLayout#exponentialSeconds} layout (from 1 ns), explicit-bucket otherwise.
         *
         * @param name        the metric name
         * @param description the description
         * @param timer       the timer
         * @param attributes  the point's attributes
         * @return this builder
         * @throws IllegalArgumentException for an exponential layout not in seconds, or whose
         *                                  zero bucket holds more than 0 ns
         */
        public Builder timer(String name, String description, PerCpuTimer timer, Attributes attributes) {
            Objects.requireNonNull(timer, "timer");
            return histogram(name, description, "s", HistogramSource.of(timer.histogram()),
                    BucketLayout.NANOS_PER_SECOND, attributes);
        }

        private Builder histogram(String name, String description, String unit, HistogramSource source, long divisor,
                                  Attributes attributes) {
            HistogramExport export = HistogramExport.of(source.layout(), divisor);
            add(name, description, unit, export.exponential() ? Kind.EXPONENTIAL_HISTOGRAM : Kind.HISTOGRAM,
                    new Point(attributes(attributes), null, source, export));
            return this;
        }

        /**
         * The producer.
         *
         * @return the producer, to register with {@link SdkMeterProviderBuilder#registerMetricProducer}
         * @throws IllegalArgumentException when it would export nothing
         */
        public RseqMetricProducer build() {
            if (instruments.isEmpty()) {
                throw new IllegalArgumentException("nothing to produce: add a counter, histogram or timer");
            }
            List<Instrument> copy = new ArrayList<>();
            for (Instrument i : instruments.values()) {
                Instrument c = new Instrument(i.name, i.description, i.unit, i.kind);
                for (Point p : i.points) {
                    c.points.add(new Point(p.attributes, p.counter, p.histogram, p.export));
                }
                copy.add(c);
            }
            return new RseqMetricProducer(scope, temporality, List.copyOf(copy), clock);
        }

        private static Attributes attributes(Attributes a) {
            return Objects.requireNonNull(a, "attributes (Attributes.empty() for none)");
        }

        private void add(String name, String description, String unit, Kind kind, Point p) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(description, "description");
            Objects.requireNonNull(unit, "unit");
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("not a valid OpenTelemetry instrument name: '" + name
                        + "' (a letter, then up to 254 letters, digits, _ . - /)");
            }
            if (!UNIT.matcher(unit).matches()) {
                throw new IllegalArgumentException("not a valid unit: '" + unit
                        + "' (up to 63 printable ASCII characters)");
            }
            Instrument i = instruments.get(name);
            if (i == null) {
                i = new Instrument(name, description, unit, kind);
                instruments.put(name, i);
            } else {
                if (i.kind != kind) {
                    throw new IllegalArgumentException(name + ": already defined as " + i.kind + ", not " + kind);
                }
                if (!i.description.equals(description) || !i.unit.equals(unit)) {
                    throw new IllegalArgumentException(name + ": already defined with description '" + i.description
                            + "' and unit '" + i.unit + "'");
                }
                for (Point q : i.points) {
                    if (q.attributes.equals(p.attributes)) {
                        throw new IllegalArgumentException(name + ": already defined with attributes " + p.attributes);
                    }
                }
            }
            i.points.add(p);
        }
    }
}
