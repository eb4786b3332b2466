package io.github.rseq4j.micrometer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Whether a {@link MeterRegistry} is a Micrometer {@code PrometheusMeterRegistry} whose
 * Prometheus registry already exports rseq4j's status, from this module or from
 * {@code rseq4j-prometheus}'s {@code RseqStatusCollector}: whether a scrape of the one name
 * {@value #MARKER} finds it (the same look that module takes before it registers its status).
 *
 * <p>micrometer-registry-prometheus is an optional dependency: without it on the class path
 * (or module graph) no registry is one, and the class that names it is never loaded.
 */
final class PrometheusStatusLookup {

    /** The metric whose presence in a registry says rseq4j's status is exported there. */
    static final String MARKER = "rseq4j_rseq_mode";

    private static final boolean PRESENT = present();

    private PrometheusStatusLookup() {
    }

    /** True when {@code registry} is a {@code PrometheusMeterRegistry} that has {@value #MARKER}. */
    static boolean isExportedIn(MeterRegistry registry) {
        return PRESENT && Lookup.isExportedIn(registry);
    }

    private static boolean present() {
        try {
            Class.forName("io.micrometer.prometheusmetrics.PrometheusMeterRegistry", false,
                    PrometheusStatusLookup.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Loaded only when micrometer-registry-prometheus is there. */
    private static final class Lookup {
        static boolean isExportedIn(MeterRegistry registry) {
            return registry instanceof PrometheusMeterRegistry p
                    && p.getPrometheusRegistry().scrape(MARKER::equals).size() > 0;
        }
    }
}
