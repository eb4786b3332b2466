package io.github.rseq4j.micrometer;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.distribution.HistogramSupport;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Exemplars;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Hands a meter of rseq4j's to the code of Micrometer's {@code PrometheusMeterRegistry} that
 * turns a timer into Prometheus samples, so that an rseq4j timer is exported by the very
 * code that exports Micrometer's own (same names, labels, help, {@code _count},
 * {@code _sum}, {@code _max}, {@code _bucket} and quantile lines).
 *
 * <p><b>Implementation notes.</b> Micrometer registers a timer with its private
 * {@code applyToCollector(Id, Consumer<MicrometerCollector>)}, whose consumer calls the
 * private {@code addDistributionStatisticSamples(Id, MicrometerCollector, HistogramSupport,
 * Supplier<Exemplars>, List<String> tagValues, boolean)} with the timer as the
 * {@code HistogramSupport}; from then on every scrape calls the timer's
 * {@code takeSnapshot()}. Both methods, and the static {@code tagValues(Id)}, are looked up
 * here once with a private lookup: micrometer-registry-prometheus is an automatic module
 * (and on the class path an unnamed one), so its packages are open. They are present in
 * Micrometer 1.13 to 1.17 (the versions with client_java 1.x); where they are missing the
 * registry's constructor throws, naming the version it needs, instead of exporting
 * something else.
 *
 * <p><b>Summaries.</b> Micrometer exports its own {@code DistributionSummary} with a lambda of
 * its own, bound to its package-private {@code PrometheusDistributionSummary}, so nothing of
 * ours can be handed to it. That lambda builds the same families as
 * {@code addDistributionStatisticSamples} (summary or classic histogram, then {@code _max}),
 * with two differences: it exports amounts as they are, where the timers' method divides
 * every amount (sum, bucket boundaries, quantiles, maximum) by the nanoseconds of the
 * registry's {@code getBaseTimeUnit()}, and its exemplars are the summary's own. So a summary
 * is registered with the registry's collector as a timer is, but its samples are built by
 * {@code addDistributionStatisticSamples} of an {@link #amountExporter amount exporter}: a
 * {@code PrometheusMeterRegistry} of the same configuration and clock, never scraped itself,
 * whose base time unit is nanoseconds (Micrometer's {@code TimeUtils.nanosToUnit} returns a
 * value unchanged for nanoseconds, so every amount is exported exactly as recorded) and whose
 * naming convention is the registry's. rseq4j's summaries have no exemplars (nor has
 * Micrometer's without a span context). {@code RseqPrometheusMeterRegistryTest} checks the
 * result line for line against Micrometer's summaries, in both text formats.
 */
final class MicrometerCollectorBridge {
    private static final MethodHandle APPLY_TO_COLLECTOR;
    private static final MethodHandle ADD_SAMPLES;
    private static final MethodHandle TAG_VALUES;
    private static final ReflectiveOperationException FAILURE;

    static {
        MethodHandle apply = null, add = null, tagValues = null;
        ReflectiveOperationException failure = null;
        try {
            MethodHandles.Lookup l = MethodHandles.privateLookupIn(PrometheusMeterRegistry.class, MethodHandles.lookup());
            Class<?> collector = Class.forName("io.micrometer.prometheusmetrics.MicrometerCollector", false,
                    PrometheusMeterRegistry.class.getClassLoader());
            apply = l.findVirtual(PrometheusMeterRegistry.class, "applyToCollector",
                    MethodType.methodType(void.class, Meter.Id.class, Consumer.class));
            add = l.findVirtual(PrometheusMeterRegistry.class, "addDistributionStatisticSamples",
                            MethodType.methodType(void.class, Meter.Id.class, collector, HistogramSupport.class,
                                    Supplier.class, List.class, boolean.class))
                    .asType(MethodType.methodType(void.class, PrometheusMeterRegistry.class, Meter.Id.class,
                            Object.class, HistogramSupport.class, Supplier.class, List.class, boolean.class));
            tagValues = l.findStatic(PrometheusMeterRegistry.class, "tagValues",
                    MethodType.methodType(List.class, Meter.Id.class));
        } catch (ReflectiveOperationException e) {
            failure = e;
        }
        APPLY_TO_COLLECTOR = apply;
        ADD_SAMPLES = add;
        TAG_VALUES = tagValues;
        FAILURE = failure;
    }

    private MicrometerCollectorBridge() {
    }

    /**
     * Checks that this Micrometer has the methods the bridge uses.
     *
     * @throws IllegalStateException naming the versions that have them, when they are missing
     */
    static void check() {
        if (FAILURE != null) {
            throw new IllegalStateException("RseqPrometheusMeterRegistry needs micrometer-registry-prometheus 1.13 to 1.17"
                    + " (its PrometheusMeterRegistry.addDistributionStatisticSamples); this one has not: " + FAILURE, FAILURE);
        }
    }

    /**
     * Registers {@code meter} with {@code registry}'s Prometheus collectors as Micrometer
     * registers its own timers: every scrape then exports {@code meter.takeSnapshot()}.
     *
     * @param registry the registry the meter belongs to
     * @param id       the meter's id (after the registry's filters)
     * @param meter    the meter, read at every scrape
     */
    static void registerDistribution(PrometheusMeterRegistry registry, Meter.Id id, HistogramSupport meter) {
        registerDistribution(registry, registry, id, meter);
    }

    /**
     * Registers {@code meter} with {@code registry}'s Prometheus collectors, its samples built
     * by {@code exporter}'s {@code addDistributionStatisticSamples} (with {@link #amountExporter}:
     * a summary's samples, amounts as recorded).
     *
     * @param registry the registry the meter belongs to
     * @param exporter the registry whose sample code (base time unit, convention tags, clock) exports it
     * @param id       the meter's id (after the registry's filters)
     * @param meter    the meter, read at every scrape
     */
    static void registerDistribution(PrometheusMeterRegistry registry, PrometheusMeterRegistry exporter, Meter.Id id,
                                     HistogramSupport meter) {
        check();
        Supplier<Exemplars> noExemplars = () -> Exemplars.EMPTY;
        Consumer<Object> add = collector -> {
            try {
                @SuppressWarnings("unchecked")
                List<String> values = (List<String>) TAG_VALUES.invokeExact(id);
                ADD_SAMPLES.invokeExact(exporter, id, collector, meter, noExemplars, values, false);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        };
        try {
            APPLY_TO_COLLECTOR.invoke(registry, id, add);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * The amount exporter of {@code owner} (see the class notes): its samples are Micrometer's
     * summary samples, amounts exactly as recorded.
     *
     * @param owner  the registry whose summaries it exports
     * @param config {@code owner}'s configuration (descriptions on or off)
     * @param clock  {@code owner}'s clock (the created timestamps)
     * @return a registry used only for its sample code
     */
    static PrometheusMeterRegistry amountExporter(PrometheusMeterRegistry owner, PrometheusConfig config, Clock clock) {
        return new AmountExporter(owner, config, clock);
    }

    /** A registry whose base time unit is nanoseconds and whose convention tags are its owner's. */
    private static final class AmountExporter extends PrometheusMeterRegistry {
        private final PrometheusMeterRegistry owner;

        AmountExporter(PrometheusMeterRegistry owner, PrometheusConfig config, Clock clock) {
            super(config, new PrometheusRegistry(), clock);
            this.owner = owner;
        }

        @Override
        protected TimeUnit getBaseTimeUnit() {
            return TimeUnit.NANOSECONDS;
        }

        @Override
        protected List<Tag> getConventionTags(Meter.Id id) {
            return id.getConventionTags(owner.config().namingConvention());
        }
    }
}
