package io.github.rseq4j.micrometer;

import io.github.rseq4j.Rseq;
import io.github.rseq4j.RseqStatus;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * rseq4j's own state, from {@link Rseq#status()} (read at most once per 100 ms, shared by
 * these meters):
 *
 * <pre>
 * rseq4j.mode.info                gauge 1, tags mode (rseq|portable), fence, arch, registration
 * rseq4j.rseq.mode                gauge: 1 in rseq mode, 0 in the portable fallback mode
 * rseq4j.possible.cpus            gauge
 * rseq4j.fallbacks                counter, tag reason (not_registered|aborted|stopped|portable)
 * rseq4j.aborts                   counter: critical-section aborts (each retried)
 * rseq4j.attempt.budget.cuts      counter
 * rseq4j.attempt.budget.restores  counter
 * rseq4j.registration.refusals    counter
 * </pre>
 *
 * The counts are process-wide and only grow, so they are function counters (a Prometheus
 * registry shows {@code rseq4j_fallbacks_total{reason="stopped"}}, say).
 *
 * <p><b>One scheme in both modules.</b> These are the names, types, tags and help of
 * {@code rseq4j-prometheus}'s {@code RseqStatusCollector}: on a {@code PrometheusMeterRegistry}
 * they show as {@code rseq4j_mode_info{...} 1.0} (a gauge: Micrometer has no info type, so
 * that module exports this gauge too), {@code rseq4j_rseq_mode},
 * {@code rseq4j_fallbacks_total{reason}} and so on, line for line what that module exports.
 * rseq4j's status is exported <b>once per registry</b>: bound to a
 * {@code PrometheusMeterRegistry} whose Prometheus registry already has it (a scrape of
 * {@code rseq4j_rseq_mode}: from {@code RseqCollector.withRseqStatus()} or
 * {@code new RseqStatusCollector().register} on {@code getPrometheusRegistry()}), this binder
 * registers nothing; that module does the same in the other order. On other registries
 * Micrometer's own rule applies: meters of the same name and tags are one meter.
 */
public final class RseqStatusMetrics implements MeterBinder {

    /** How long one {@code Rseq.status()} serves the meters. */
    static final long MAX_AGE_NANOS = 100_000_000L;

    private RseqStatus status;
    private long readAt;

    /** Meters of rseq4j's state. */
    public RseqStatusMetrics() {
    }

    private synchronized RseqStatus status() {
        long now = System.nanoTime();
        if (status == null || now - readAt > MAX_AGE_NANOS) {
            status = Rseq.status();
            readAt = now;
        }
        return status;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        if (PrometheusStatusLookup.isExportedIn(registry)) {
            return;                                    // exported there already, by either module
        }
        RseqStatus s = status();
        Gauge.builder("rseq4j.mode.info", this, x -> 1)
                .description("How rseq4j runs per-CPU operations: mode rseq (critical sections) or portable "
                        + "(atomics), how it fences other CPUs, and how threads are registered")
                .tag("mode", lower(s.mode())).tag("fence", lower(s.fence()))
                .tag("arch", s.arch() == null ? "unknown" : s.arch())
                .tag("registration", lower(s.registrationStrategy()))
                .strongReference(true).register(registry);
        gauge(registry, "rseq4j.rseq.mode", "1 when rseq4j runs per-CPU operations as rseq critical sections, 0 in "
                + "its portable fallback mode", x -> x.status().rseqMode() ? 1 : 0);
        gauge(registry, "rseq4j.possible.cpus", "Possible CPUs, as rseq4j lays out per-CPU memory",
                x -> x.status().possibleCpus().size());
        String fallbacks = "rseq4j operations that completed off the rseq fast path, by reason (portable: every "
                + "operation in fallback mode)";
        counter(registry, "rseq4j.fallbacks", fallbacks, "not_registered", x -> x.status().fallbacks().notRegistered());
        counter(registry, "rseq4j.fallbacks", fallbacks, "aborted", x -> x.status().fallbacks().aborted());
        counter(registry, "rseq4j.fallbacks", fallbacks, "stopped", x -> x.status().fallbacks().stopped());
        counter(registry, "rseq4j.fallbacks", fallbacks, "portable", x -> x.status().fallbacks().portable());
        counter(registry, "rseq4j.aborts", "rseq critical-section aborts seen by rseq4j (each one retried)", null,
                x -> x.status().fallbacks().aborts());
        counter(registry, "rseq4j.attempt.budget.cuts", "Times a thread whose rseq4j operation kept aborting was cut "
                + "to one attempt per operation", null, x -> x.status().fallbacks().budgetCuts());
        counter(registry, "rseq4j.attempt.budget.restores", "Times a cut thread got its full rseq4j attempt budget "
                + "back", null, x -> x.status().fallbacks().budgetRestores());
        counter(registry, "rseq4j.registration.refusals", "Threads the kernel refused to register for rseq4j (they "
                        + "use the fallback path)", null,
                x -> x.status().refusals().count());
    }

    private void gauge(MeterRegistry r, String name, String description, ToDoubleFunction<RseqStatusMetrics> f) {
        Gauge.builder(name, this, f).description(description).strongReference(true).register(r);
    }

    /**
     * A function counter of this binder. Micrometer holds a function counter's object
     * weakly; the gauges above hold this binder strongly, so it lives as long as they are
     * registered.
     */
    private void counter(MeterRegistry r, String name, String description, String reason,
                         ToDoubleFunction<RseqStatusMetrics> f) {
        FunctionCounter.Builder<RseqStatusMetrics> b = FunctionCounter.builder(name, this, f).description(description);
        if (reason != null) {
            b.tag("reason", reason);
        }
        b.register(r);
    }

    private static String lower(Enum<?> e) {
        return e == null ? "unknown" : e.name().toLowerCase(Locale.ROOT);
    }
}
