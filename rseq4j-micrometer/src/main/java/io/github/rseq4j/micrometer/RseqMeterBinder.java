package io.github.rseq4j.micrometer;

import io.github.rseq4j.HistogramCounts;
import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.Histogram;
import io.github.rseq4j.PerCpuHistogram;
import io.github.rseq4j.PerCpuTimer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Statistic;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * Publishes rseq4j counters, timers and histograms into any Micrometer {@link MeterRegistry}.
 *
 * <pre>{@code
 * PerCpuCounter requests = new PerCpuCounter();
 * PerCpuTimer latency = new PerCpuTimer();
 * PerCpuHistogram sizes = new PerCpuHistogram(BucketLayout.explicit(1_024, 16_384, 262_144));
 * RseqMeterBinder.builder()
 *         .counter("http.requests", "HTTP requests served", requests, "outcome", "ok")
 *         .timer("http.request.duration", "HTTP request latency", latency)
 *         .histogram("http.response.size", "HTTP response sizes", "bytes", sizes)
 *         .percentiles(0.5, 0.99)              // for every timer and histogram above
 *         .withRseqStatus()
 *         .build()
 *         .bindTo(registry);
 * }</pre>
 *
 * <ul>
 * <li>A {@link PerCpuCounter} is a {@link FunctionCounter} reading {@link PerCpuCounter#sum()}
 *     (it must only grow; never {@code sumThenReset()} a published counter).</li>
 * <li>A {@link PerCpuTimer} is a {@link FunctionTimer} (count and total time, nanoseconds
 *     converted by the registry to its base time unit).</li>
 * <li>A {@link PerCpuHistogram} is a meter of type {@link Meter.Type#DISTRIBUTION_SUMMARY}
 *     with the statistics {@code COUNT} and {@code TOTAL}, values as recorded (no scaling),
 *     in the base unit given (such as {@code bytes}); see {@link Builder#histogram}.</li>
 * <li>Timers and histograms also get the {@link Builder#percentiles} as gauges
 *     {@code <name>.percentile} tagged {@code phi}: the value at that percentile since the
 *     start, within the bucket precision, in seconds for a timer and in the histogram's base
 *     unit for a histogram. The count, the total and the percentiles of one publication come
 *     from one histogram snapshot, so they always agree (see {@code SnapshotCache}); timers
 *     and histograms share that one path.</li>
 * <li>{@link Builder#withRseqStatus()} adds rseq4j's own state ({@link RseqStatusMetrics}),
 *     with the names and types of the {@code rseq4j-prometheus} module's status metrics;
 *     on one Prometheus registry the two are exported once.</li>
 * </ul>
 *
 * <p>Micrometer holds the counted object of a function meter weakly (and a histogram's meter
 * holds its histogram weakly): the meters read NaN once the {@code PerCpuCounter},
 * {@code PerCpuTimer} or {@code PerCpuHistogram} is no longer referenced by the application
 * (which then records nothing into it either).
 */
public final class RseqMeterBinder implements MeterBinder {

    /** At most this many percentiles (a snapshot cache has 64 readers: count, total and these). */
    public static final int MAX_PERCENTILES = SnapshotCache.READERS - SnapshotCache.FIRST_PERCENTILE_READER;

    private final List<MeterBinder> meters;

    private RseqMeterBinder(List<MeterBinder> meters) {
        this.meters = meters;
    }

    /**
     * A builder of a binder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        for (MeterBinder m : meters) {
            m.bindTo(registry);
        }
    }

    /** Collects meter definitions; {@link #build()} makes their meters. */
    public static final class Builder {
        /** Each definition makes its binder at {@link #build()}, from the builder's final percentiles. */
        private final List<Function<double[], MeterBinder>> definitions = new ArrayList<>();
        private double[] percentiles = new double[0];

        private Builder() {
        }

        /**
         * A counter: {@code counter.sum()} whenever the registry reads it.
         *
         * @param name        the meter name
         * @param description the description
         * @param counter     the counter
         * @param tags        tag keys and values, alternating
         * @return this builder
         */
        public Builder counter(String name, String description, PerCpuCounter counter, String... tags) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(counter, "counter");
            Tags t = Tags.of(tags);
            definitions.add(phis -> r -> FunctionCounter.builder(name, counter, PerCpuCounter::sum)
                    .description(description).tags(t).register(r));
            return this;
        }

        /**
         * Percentiles (each in (0, 1), e.g. 0.5, 0.99) published as gauges
         * {@code <name>.percentile} tagged {@code phi} for <b>every</b> timer and histogram of
         * this builder, whether added before or after this call; none by default. A second
         * call replaces the first.
         *
         * @param phis the percentiles, each in (0, 1), at most {@value RseqMeterBinder#MAX_PERCENTILES}
         * @return this builder
         * @throws IllegalArgumentException for a value outside (0, 1), or too many
         */
        public Builder percentiles(double... phis) {
            if (phis.length > MAX_PERCENTILES) {
                throw new IllegalArgumentException("at most " + MAX_PERCENTILES + " percentiles: " + phis.length);
            }
            for (double p : phis) {
                if (!(p > 0 && p < 1)) {
                    throw new IllegalArgumentException("percentiles are in (0, 1): " + p);
                }
            }
            this.percentiles = phis.clone();
            return this;
        }

        /**
         * A timer: a {@link FunctionTimer} (count and total time, which the registry converts
         * from nanoseconds to its base time unit) and the {@link #percentiles} in seconds,
         * all from one snapshot per publication.
         *
         * @param name        the meter name
         * @param description the description
         * @param timer       the timer
         * @param tags        tag keys and values, alternating
         * @return this builder
         */
        public Builder timer(String name, String description, PerCpuTimer timer, String... tags) {
            Objects.requireNonNull(timer, "timer");
            return distribution(name, description, Tags.of(tags), timer, PerCpuTimer::histogram,
                    (r, cache, t) -> {
                        Function<PerCpuTimer, HistogramCounts> count = cache.reader(SnapshotCache.COUNT_READER,
                                PerCpuTimer::histogram);
                        Function<PerCpuTimer, HistogramCounts> total = cache.reader(SnapshotCache.TOTAL_READER,
                                PerCpuTimer::histogram);
                        FunctionTimer.builder(name, timer, x -> count.apply(x).count(),
                                        x -> (double) total.apply(x).sum(), TimeUnit.NANOSECONDS)
                                .description(description).tags(t).register(r);
                    },
                    "seconds", 1e9);
        }

        /**
         * A histogram of plain values (sizes, queue lengths ...): a meter of type
         * {@link Meter.Type#DISTRIBUTION_SUMMARY} with the statistics {@link Statistic#COUNT}
         * (records) and {@link Statistic#TOTAL} (their sum), and the {@link #percentiles} as
         * gauges, all from one snapshot per publication. Values are published as recorded
         * (no scaling), in {@code baseUnit}.
         *
         * <p>Micrometer has no function-based distribution summary, so this is a custom meter;
         * each registry names its statistics as it does for any custom meter (a
         * {@code PrometheusMeterRegistry} shows {@code <name>_<unit>_total{statistic="COUNT"}}
         * and {@code <name>_<unit>_sum_total{statistic="TOTAL"}}). The meter holds the histogram
         * weakly, as Micrometer holds a timer's: once the application drops it, the meters read NaN.
         *
         * @param name        the meter name
         * @param description the description
         * @param baseUnit    the unit of the recorded values (such as {@code "bytes"}), or null for none
         * @param histogram   the histogram
         * @param tags        tag keys and values, alternating
         * @return this builder
         */
        public Builder histogram(String name, String description, String baseUnit, PerCpuHistogram histogram,
                                 String... tags) {
            Objects.requireNonNull(histogram, "histogram");
            return distribution(name, description, Tags.of(tags), histogram, Function.identity(),
                    (r, cache, t) -> {
                        // Micrometer holds a custom meter's measurements strongly: they read a weak reference
                        WeakReference<PerCpuHistogram> ref = new WeakReference<>(histogram);
                        Function<PerCpuHistogram, HistogramCounts> count = cache.reader(SnapshotCache.COUNT_READER,
                                Function.identity());
                        Function<PerCpuHistogram, HistogramCounts> total = cache.reader(SnapshotCache.TOTAL_READER,
                                Function.identity());
                        Meter.builder(name, Meter.Type.DISTRIBUTION_SUMMARY, List.of(
                                        new Measurement(() -> readWeakly(ref, h -> count.apply(h).count()),
                                                Statistic.COUNT),
                                        new Measurement(() -> readWeakly(ref, h -> total.apply(h).sum()),
                                                Statistic.TOTAL)))
                                .description(description).baseUnit(baseUnit).tags(t).register(r);
                    },
                    baseUnit, 1);
        }

        /**
         * The one path of timers and histograms: a count-and-total meter made by
         * {@code countAndTotal}, then a gauge per percentile, every reading from one
         * {@link SnapshotCache} (count: reader 0, total: reader 1, percentile i: reader 2 + i).
         * The percentiles are the builder's at {@link #build()}, published in
         * {@code percentileUnit}: the recorded value divided by {@code percentileDivisor}
         * (10^9 for a timer's nanoseconds in seconds, exactly as before; 1 for a histogram).
         */
        private <T> Builder distribution(String name, String description, Tags tags, T source,
                                         Function<T, ? extends Histogram> histogramOf, CountAndTotal<T> countAndTotal,
                                         String percentileUnit, double percentileDivisor) {
            Objects.requireNonNull(name, "name");
            definitions.add(phis -> r -> {
                // The registry holds the meters' functions, and they hold the cache: none may hold
                // the source, which the meters get from a weak reference at every reading.
                SnapshotCache cache = new SnapshotCache();
                countAndTotal.register(r, cache, tags);
                for (int i = 0; i < phis.length; i++) {
                    double phi = phis[i];
                    Function<T, HistogramCounts> read = cache.reader(SnapshotCache.FIRST_PERCENTILE_READER + i,
                            histogramOf);
                    Gauge.builder(name + ".percentile", source, x -> read.apply(x).valueAtQuantile(phi) / percentileDivisor)
                            .description(description).tags(tags)
                            .tag("phi", phiTag(phi)).baseUnit(percentileUnit).register(r);
                }
            });
            return this;
        }

        /** Registers the count-and-total meter of one timer or histogram. */
        @FunctionalInterface
        private interface CountAndTotal<T> {
            void register(MeterRegistry registry, SnapshotCache cache, Tags tags);
        }

        private static double readWeakly(WeakReference<PerCpuHistogram> ref, ToLongFunction<PerCpuHistogram> f) {
            PerCpuHistogram h = ref.get();
            return h == null ? Double.NaN : f.applyAsLong(h);
        }

        /**
         * Also publish rseq4j's own state ({@link RseqStatusMetrics}).
         *
         * @return this builder
         */
        public Builder withRseqStatus() {
            definitions.add(phis -> new RseqStatusMetrics());
            return this;
        }

        /**
         * The binder.
         *
         * @return the binder
         */
        public RseqMeterBinder build() {
            List<MeterBinder> meters = new ArrayList<>(definitions.size());
            for (Function<double[], MeterBinder> d : definitions) {
                meters.add(d.apply(percentiles.clone()));
            }
            return new RseqMeterBinder(List.copyOf(meters));
        }

        private static String phiTag(double phi) {
            String s = String.format(Locale.ROOT, "%.6f", phi);
            s = s.replaceAll("0+$", "");
            return s.endsWith(".") ? s + "0" : s;
        }
    }
}
