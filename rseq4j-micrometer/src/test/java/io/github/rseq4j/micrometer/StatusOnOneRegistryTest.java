package io.github.rseq4j.micrometer;

import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuTimer;
import io.github.rseq4j.prometheus.RseqCollector;
import io.github.rseq4j.prometheus.RseqStatusCollector;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code withRseqStatus()} of this module and of {@code rseq4j-prometheus} on one Micrometer
 * {@code PrometheusMeterRegistry} (the second through its {@code getPrometheusRegistry()}):
 * the scrape works and has each status metric once, in either order; and the two modules
 * export their status with the same names, types, labels and help. (It failed with
 * {@code rseq4j_mode: conflicting metric types: InfoSnapshot and GaugeSnapshot}.)
 */
class StatusOnOneRegistryTest {

    /** The status series of both modules, as the registry writes them (up to the value). */
    private static final List<String> STATUS_SERIES = List.of(
            "rseq4j_mode_info{", "rseq4j_rseq_mode", "rseq4j_possible_cpus",
            "rseq4j_fallbacks_total{reason=\"not_registered\"}", "rseq4j_fallbacks_total{reason=\"aborted\"}",
            "rseq4j_fallbacks_total{reason=\"stopped\"}", "rseq4j_fallbacks_total{reason=\"portable\"}",
            "rseq4j_aborts_total", "rseq4j_attempt_budget_cuts_total", "rseq4j_attempt_budget_restores_total",
            "rseq4j_registration_refusals_total");

    @Test
    void micrometerFirstThenPrometheus() {
        bothOnOneRegistry(true);
    }

    @Test
    void prometheusFirstThenMicrometer() {
        bothOnOneRegistry(false);
    }

    private static void bothOnOneRegistry(boolean micrometerFirst) {
        PerCpuCounter requests = new PerCpuCounter();
        PerCpuTimer latency = new PerCpuTimer();
        requests.add(3);
        latency.record(Duration.ofMillis(500));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        RseqMeterBinder binder = RseqMeterBinder.builder().timer("mm.latency", "Latency", latency).withRseqStatus()
                .build();
        RseqCollector.Builder collector = RseqCollector.builder().counter("prom_requests_total", "Requests", requests)
                .withRseqStatus();
        if (micrometerFirst) {
            binder.bindTo(registry);
            collector.register(registry.getPrometheusRegistry());
        } else {
            collector.register(registry.getPrometheusRegistry());
            binder.bindTo(registry);
        }
        String text = registry.scrape();
        for (String series : STATUS_SERIES) {
            assertEquals(1, count(text, series), series + " once in\n" + text);
        }
        assertEquals(1, count(text, "# TYPE rseq4j_mode_info gauge\n"), text);
        assertTrue(text.contains("mm_latency_seconds_count 1\n"), text);
        assertTrue(text.contains("prom_requests_total 3.0\n"), text);
        // and again: the second scrape is as good as the first
        assertEquals(1, count(registry.scrape(), "rseq4j_rseq_mode"));
    }

    /** Each module on a registry of its own writes the same status lines, values aside. */
    @Test
    void bothModulesExportTheSameNamesTypesLabelsAndHelp() {
        PrometheusMeterRegistry micrometer = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new RseqStatusMetrics().bindTo(micrometer);
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new RseqStatusCollector().register(prometheus.getPrometheusRegistry());
        List<String> theirs = withoutValues(micrometer.scrape());
        assertEquals(withoutValues(prometheus.scrape()), theirs);
        assertEquals(STATUS_SERIES.size() + 2 * 8, theirs.size(), "11 series, 8 families of HELP and TYPE: " + theirs);
    }

    @Test
    void onARegistryWithoutPrometheusTheStatusIsBoundOnce() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new RseqStatusMetrics().bindTo(registry);
        new RseqStatusMetrics().bindTo(registry);
        assertEquals(1, registry.get("rseq4j.mode.info").gauges().size());
        assertEquals(4, registry.get("rseq4j.fallbacks").functionCounters().size());
        assertFalse(PrometheusStatusLookup.isExportedIn(registry));
    }

    private static int count(String text, String series) {
        int n = 0;
        for (String line : text.lines().toList()) {
            if (line.startsWith(series + (series.endsWith("{") || series.endsWith("\n") ? "" : " "))
                    || (series.endsWith("\n") && (line + "\n").equals(series))) {
                n++;
            }
        }
        return n;
    }

    private static List<String> withoutValues(String text) {
        List<String> out = new ArrayList<>();
        for (String line : text.lines().toList()) {
            out.add(line.startsWith("#") ? line : line.substring(0, line.lastIndexOf(' ')));
        }
        out.sort(null);
        return out;
    }
}
