package io.github.rseq4j.prometheus;

import io.github.rseq4j.Rseq;
import io.github.rseq4j.RseqStatus;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.registry.PrometheusScrapeRequest;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricFamilyDescriptor;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * rseq4j's own state, from {@link Rseq#status()} (read once per scrape), as Prometheus
 * metrics:
 *
 * <pre>
 * rseq4j_mode_info{mode="rseq",fence="membarrier",arch="x86_64",registration="..."} 1.0   (gauge)
 * rseq4j_rseq_mode 1                         (1 in rseq mode, 0 in portable mode)
 * rseq4j_fallbacks_total{reason="not_registered"|"aborted"|"stopped"|"portable"}
 * rseq4j_aborts_total                        (critical-section aborts, each retried)
 * rseq4j_attempt_budget_cuts_total           (threads cut to one attempt per operation)
 * rseq4j_attempt_budget_restores_total
 * rseq4j_registration_refusals_total         (threads the kernel refused to register)
 * rseq4j_possible_cpus
 * </pre>
 *
 * The counters are process-wide and only grow. Register it on its own with
 * {@code new RseqStatusCollector().}{@link #register(PrometheusRegistry) register(registry)}
 * or through {@link RseqCollector.Builder#withRseqStatus()}.
 *
 * <p><b>One scheme in both modules.</b> {@code rseq4j-micrometer}'s {@code RseqStatusMetrics}
 * publishes the same metrics with the same names, types, labels and help (all gauges and
 * counters: Micrometer has no info type, so {@code rseq4j_mode_info} is a gauge of 1 here
 * too; the Prometheus text format typed the info metric {@code gauge} already, and now
 * writes its value {@code 1.0} for {@code 1}). rseq4j's status is
 * exported <b>once per registry</b>: {@link #register(PrometheusRegistry)} and
 * {@link RseqCollector#register(PrometheusRegistry)} first look for
 * {@value #MARKER} in the registry (a scrape of that one name) and, when rseq4j's status
 * is already there (from {@code RseqMeterBinder.withRseqStatus()} bound to a Micrometer
 * {@code PrometheusMeterRegistry} over this registry, or from another collector of this
 * module), add no second copy; the Micrometer binder does the same in the other order. A
 * collector registered with {@code registry.register(new RseqStatusCollector())} skips that
 * look, so a second copy would make client_java refuse the scrape (duplicate series).
 */
public final class RseqStatusCollector implements MultiCollector {

    static final String MODE = "rseq4j_mode_info";
    static final String RSEQ_MODE = "rseq4j_rseq_mode";
    static final String FALLBACKS = "rseq4j_fallbacks";
    static final String ABORTS = "rseq4j_aborts";
    static final String CUTS = "rseq4j_attempt_budget_cuts";
    static final String RESTORES = "rseq4j_attempt_budget_restores";
    static final String REFUSALS = "rseq4j_registration_refusals";
    static final String CPUS = "rseq4j_possible_cpus";
    /** The metric whose presence in a registry says rseq4j's status is exported there. */
    public static final String MARKER = RSEQ_MODE;

    private static final String MODE_HELP = "How rseq4j runs per-CPU operations: mode rseq (critical sections) "
            + "or portable (atomics), how it fences other CPUs, and how threads are registered";
    private static final String RSEQ_MODE_HELP = "1 when rseq4j runs per-CPU operations as rseq critical sections, "
            + "0 in its portable fallback mode";
    private static final String FALLBACKS_HELP = "rseq4j operations that completed off the rseq fast path, by reason "
            + "(portable: every operation in fallback mode)";
    private static final String ABORTS_HELP = "rseq critical-section aborts seen by rseq4j (each one retried)";
    private static final String CUTS_HELP = "Times a thread whose rseq4j operation kept aborting was cut to one "
            + "attempt per operation";
    private static final String RESTORES_HELP = "Times a cut thread got its full rseq4j attempt budget back";
    private static final String REFUSALS_HELP = "Threads the kernel refused to register for rseq4j (they use the "
            + "fallback path)";
    private static final String CPUS_HELP = "Possible CPUs, as rseq4j lays out per-CPU memory";

    private static final List<MetricFamilyDescriptor> DESCRIPTORS = List.of(
            MetricFamilyDescriptor.gauge(MODE).help(MODE_HELP).labelNames("mode", "fence", "arch", "registration")
                    .build(),
            MetricFamilyDescriptor.gauge(RSEQ_MODE).help(RSEQ_MODE_HELP).build(),
            MetricFamilyDescriptor.counter(FALLBACKS).help(FALLBACKS_HELP).labelNames("reason").build(),
            MetricFamilyDescriptor.counter(ABORTS).help(ABORTS_HELP).build(),
            MetricFamilyDescriptor.counter(CUTS).help(CUTS_HELP).build(),
            MetricFamilyDescriptor.counter(RESTORES).help(RESTORES_HELP).build(),
            MetricFamilyDescriptor.counter(REFUSALS).help(REFUSALS_HELP).build(),
            MetricFamilyDescriptor.gauge(CPUS).help(CPUS_HELP).build());

    /** A collector of rseq4j's state. */
    public RseqStatusCollector() {
    }

    /**
     * Registers this collector with {@code registry}, unless rseq4j's status is exported
     * there already ({@link #isExportedIn}), and returns it:
     * {@code new RseqStatusCollector().register(registry)}.
     *
     * @param registry the registry
     * @return this collector (not registered when the status was there already)
     */
    public RseqStatusCollector register(PrometheusRegistry registry) {
        if (!isExportedIn(registry)) {
            registry.register(this);
        }
        return this;
    }

    /**
     * Whether {@code registry} already exports rseq4j's status: whether a scrape of the one
     * name {@value #MARKER} finds it (from this module or from {@code rseq4j-micrometer}).
     *
     * @param registry the registry
     * @return true when the registry has {@value #MARKER}
     */
    public static boolean isExportedIn(PrometheusRegistry registry) {
        return registry.scrape(MARKER::equals).size() > 0;
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

    @Override
    public MetricSnapshots collect(Predicate<String> includedNames, PrometheusScrapeRequest scrapeRequest) {
        RseqStatus st = Rseq.status();
        RseqStatus.Fallbacks f = st.fallbacks();
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        add(out, includedNames, MODE, () -> GaugeSnapshot.builder().name(MODE).help(MODE_HELP)
                .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(1).labels(Labels.of(
                        "mode", lower(st.mode()),
                        "fence", lower(st.fence()),
                        "arch", st.arch() == null ? "unknown" : st.arch(),
                        "registration", lower(st.registrationStrategy()))).build())
                .build());
        add(out, includedNames, RSEQ_MODE, () -> gauge(RSEQ_MODE, RSEQ_MODE_HELP, st.rseqMode() ? 1 : 0));
        add(out, includedNames, FALLBACKS, () -> CounterSnapshot.builder().name(FALLBACKS).help(FALLBACKS_HELP)
                .dataPoint(point(f.notRegistered(), "not_registered"))
                .dataPoint(point(f.aborted(), "aborted"))
                .dataPoint(point(f.stopped(), "stopped"))
                .dataPoint(point(f.portable(), "portable"))
                .build());
        add(out, includedNames, ABORTS, () -> counter(ABORTS, ABORTS_HELP, f.aborts()));
        add(out, includedNames, CUTS, () -> counter(CUTS, CUTS_HELP, f.budgetCuts()));
        add(out, includedNames, RESTORES, () -> counter(RESTORES, RESTORES_HELP, f.budgetRestores()));
        add(out, includedNames, REFUSALS, () -> counter(REFUSALS, REFUSALS_HELP, st.refusals().count()));
        add(out, includedNames, CPUS, () -> gauge(CPUS, CPUS_HELP, st.possibleCpus().size()));
        return out.build();
    }

    @Override
    public List<MetricFamilyDescriptor> getMetricFamilyDescriptors() {
        return DESCRIPTORS;
    }

    private static void add(MetricSnapshots.Builder out, Predicate<String> included, String name,
                            java.util.function.Supplier<MetricSnapshot> s) {
        if (included.test(name)) {
            out.metricSnapshot(s.get());
        }
    }

    private static String lower(Enum<?> e) {
        return e == null ? "unknown" : e.name().toLowerCase(Locale.ROOT);
    }

    private static CounterSnapshot.CounterDataPointSnapshot point(long value, String reason) {
        return CounterSnapshot.CounterDataPointSnapshot.builder().value(Math.max(0, value))
                .labels(Labels.of("reason", reason)).build();
    }

    private static CounterSnapshot counter(String name, String help, long value) {
        return CounterSnapshot.builder().name(name).help(help)
                .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(Math.max(0, value)).build())
                .build();
    }

    private static GaugeSnapshot gauge(String name, String help, double value) {
        return GaugeSnapshot.builder().name(name).help(help)
                .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).build()).build();
    }

    @Override
    public String toString() {
        return "RseqStatusCollector";
    }
}
