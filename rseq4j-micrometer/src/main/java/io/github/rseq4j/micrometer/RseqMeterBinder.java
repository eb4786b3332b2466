package io.github.rseq4j.micrometer;

import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuTimer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Publishes rseq4j counters and timers into any Micrometer {@link MeterRegistry}.
 *
 * <pre>{@code
 * PerCpuCounter requests = new PerCpuCounter();
 * PerCpuTimer latency = PerCpuTimer.create();
 * RseqMeterBinder.builder()
 *         .counter("http.requests", "HTTP requests served", requests, "outcome", "ok")
 *         .timer("http.request.duration", "HTTP request latency", latency)
 *         .withRseqStatus()
 *         .build()
 *         .bindTo(registry);
 * }</pre>
 *
 * <ul>
 * <li>A {@link PerCpuCounter} is a {@link FunctionCounter} reading {@link PerCpuCounter#sum()}
 *     (it must only grow; never {@code sumThenReset()} a published counter).</li>
 * <li>A {@link PerCpuTimer} is a {@link FunctionTimer} (count and total time, nanoseconds
 *     converted by the registry to its base time unit), and, when asked with
 *     {@link Builder#percentiles}, gauges {@code <name>.percentile} tagged {@code phi}
 *     (the value at that percentile since the start, in seconds, within the timer's bucket
 *     precision). The count, the total and the percentiles of one publication come from
 *     one histogram snapshot, so they always agree (see {@code SnapshotCache}).</li>
 * </ul>
 *
 * <p>Micrometer holds the counted object of a function meter weakly: the meters read NaN
 * once the {@code PerCpuCounter} or {@code PerCpuTimer} is no longer referenced by the
 * application (which then records nothing into it either).
 */
public final class RseqMeterBinder implements MeterBinder {

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

    /** Collects meter definitions. */
    public static final class Builder {
        private final List<MeterBinder> meters = new ArrayList<>();
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
            meters.add(r -> FunctionCounter.builder(name, counter, PerCpuCounter::sum)
                    .description(description).tags(t).register(r));
            return this;
        }

        /**
         * Percentiles (each in (0, 1), e.g. 0.5, 0.99) published as gauges for the timers
         * added after this call; none by default.
         *
         * @param phis the percentiles, each in (0, 1)
         * @return this builder
         * @throws IllegalArgumentException for a value outside (0, 1)
         */
        public Builder percentiles(double... phis) {
            for (double p : phis) {
                if (!(p > 0 && p < 1)) {
                    throw new IllegalArgumentException("percentiles are in (0, 1): " + p);
                }
            }
            this.percentiles = phis.clone();
            return this;
        }

        /**
         * A timer: count and total time from one snapshot per publication (and the
         * percentiles asked for with {@link #percentiles}).
         *
         * @param name        the meter name
         * @param description the description
         * @param timer       the timer
         * @param tags        tag keys and values, alternating
         * @return this builder
         */
        public Builder timer(String name, String description, PerCpuTimer timer, String... tags) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(timer, "timer");
            Tags t = Tags.of(tags);
            double[] phis = percentiles.clone();
            if (phis.length > 61) {
                throw new IllegalArgumentException("at most 61 percentiles");
            }
            meters.add(r -> {
                SnapshotCache cache = new SnapshotCache();
                // The registry holds the lambdas, and they hold the cache: neither may hold the
                // timer or its histogram, which Micrometer passes in from a weak reference.
                FunctionTimer.builder(name, timer, x -> cache.get(x.histogram(), 0).count(),
                        x -> (double) cache.get(x.histogram(), 1).sum(),
                        TimeUnit.NANOSECONDS).description(description).tags(t).register(r);
                for (int i = 0; i < phis.length; i++) {
                    int reader = 2 + i;
                    double phi = phis[i];
                    Gauge.builder(name + ".percentile", timer,
                                    x -> cache.get(x.histogram(), reader).valueAtQuantile(phi) / 1e9)
                            .description(description).tags(t).tag("phi", phiTag(phi)).baseUnit("seconds")
                            .register(r);
                }
            });
            return this;
        }

        /**
         * Also publish rseq4j's own state ({@link RseqStatusMetrics}).
         *
         * @return this builder
         */
        public Builder withRseqStatus() {
            meters.add(new RseqStatusMetrics());
            return this;
        }

        /**
         * The binder.
         *
         * @return the binder
         */
        public RseqMeterBinder build() {
            return new RseqMeterBinder(List.copyOf(meters));
        }

        private static String phiTag(double phi) {
            String s = String.format(Locale.ROOT, "%.6f", phi);
            s = s.replaceAll("0+$", "");
            return s.endsWith(".") ? s + "0" : s;
        }
    }
}
