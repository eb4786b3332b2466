package io.github.rseq4j.prometheus;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuHistogram;
import io.github.rseq4j.PerCpuTimer;
import io.github.rseq4j.Rseq;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Names, help, types, labels and values as the Prometheus text format shows them. */
class ExpositionTest {

    @Test
    void countersTimersAndHistogramsInTheTextFormat() {
        PerCpuCounter requests = new PerCpuCounter();
        PerCpuCounter errors = new PerCpuCounter();
        PerCpuCounter inFlight = new PerCpuCounter();
        PerCpuTimer latency = new PerCpuTimer(new PerCpuHistogram(BucketLayout.explicit(
                5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000)));
        PerCpuHistogram sizes = new PerCpuHistogram(BucketLayout.explicit(1023, 4095));
        requests.add(41);
        requests.increment();
        errors.add(3);
        inFlight.add(5);
        inFlight.add(-2);
        latency.record(Duration.ofMillis(3));
        latency.record(5, TimeUnit.MILLISECONDS);      // exactly on a bound: counted at le=0.005
        latency.record(Duration.ofNanos(5_000_001));   // just above it
        latency.record(Duration.ofSeconds(2));         // only in +Inf
        sizes.record(100);
        sizes.record(4096);

        PrometheusRegistry registry = new PrometheusRegistry();
        RseqCollector.builder()
                .counter("http_requests_total", "HTTP requests served", requests, "outcome", "ok")
                .counter("http_requests_total", "HTTP requests served", errors, "outcome", "error")
                .gauge("http_in_flight", "Requests in flight", inFlight)
                .timer("http_request_duration_seconds", "HTTP request latency", latency, ClassicBounds.every(),
                        "path", "/api")
                .histogram("http_response_size_bytes", "Response sizes", sizes)
                .register(registry);
        String text = Scrapes.text(registry.scrape());

        assertTrue(text.contains("# HELP http_requests_total HTTP requests served\n"), text);
        assertTrue(text.contains("# TYPE http_requests_total counter\n"), text);
        assertTrue(text.contains("http_requests_total{outcome=\"ok\"} 42.0\n"), text);
        assertTrue(text.contains("http_requests_total{outcome=\"error\"} 3.0\n"), text);
        assertTrue(text.contains("# TYPE http_in_flight gauge\n"), text);
        assertTrue(text.contains("http_in_flight 3.0\n"), text);

        assertTrue(text.contains("# HELP http_request_duration_seconds HTTP request latency\n"), text);
        assertTrue(text.contains("# TYPE http_request_duration_seconds histogram\n"), text);
        assertTrue(text.contains("http_request_duration_seconds_bucket{path=\"/api\",le=\"0.005\"} 2\n"), text);
        assertTrue(text.contains("http_request_duration_seconds_bucket{path=\"/api\",le=\"0.01\"} 3\n"), text);
        assertTrue(text.contains("http_request_duration_seconds_bucket{path=\"/api\",le=\"0.1\"} 3\n"), text);
        assertTrue(text.contains("http_request_duration_seconds_bucket{path=\"/api\",le=\"+Inf\"} 4\n"), text);
        assertTrue(text.contains("http_request_duration_seconds_count{path=\"/api\"} 4\n"), text);
        assertTrue(text.contains("http_request_duration_seconds_sum{path=\"/api\"} 2.013000001\n"), text);

        assertTrue(text.contains("# TYPE http_response_size_bytes histogram\n"), text);
        assertTrue(text.contains("http_response_size_bytes_bucket{le=\"1023.0\"} 1\n"), text);
        assertTrue(text.contains("http_response_size_bytes_bucket{le=\"4095.0\"} 1\n"), text);
        assertTrue(text.contains("http_response_size_bytes_bucket{le=\"+Inf\"} 2\n"), text);
        assertTrue(text.contains("http_response_size_bytes_sum 4196.0\n"), text);
    }

    /** The default timer has buckets ending at the Prometheus default bounds: exported exactly, as client_java prints them. */
    @Test
    void timersDefaultToThePrometheusLatencyBoundsExactly() {
        PerCpuTimer t = new PerCpuTimer();
        PrometheusRegistry registry = new PrometheusRegistry();
        RseqCollector.builder().timer("t_seconds", "t", t).register(registry);
        t.record(Duration.ofMillis(1));
        t.record(Duration.ofMillis(5));
        t.record(Duration.ofNanos(5_000_001));
        t.record(Duration.ofSeconds(10));
        t.record(Duration.ofNanos(10_000_000_001L));
        String text = Scrapes.text(registry.scrape());
        Scrapes.TextHistogram h = Scrapes.checkText(text, "t_seconds", "");
        assertEquals(List.of("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"),
                List.copyOf(h.buckets().keySet()), text);
        assertEquals(2L, h.buckets().get("0.005"));
        assertEquals(3L, h.buckets().get("0.01"));
        assertEquals(4L, h.buckets().get("10.0"));
        assertEquals(5L, h.buckets().get("+Inf"));
    }

    /**
     * The case: {@code ClassicBounds.of(0.001, 0.005, 0.01, 0.1, 1)} exported
     * {@code le="9.99423E-4"}, {@code le="0.098566143"} ... (log-linear bounds below the
     * requested ones). With a layout that has those bounds (explicit in seconds, or
     * log-linear including them) it exports them as given, and a value lands under a
     * bound exactly when it is at or below it: checked at, one nanosecond below and one
     * above every bound.
     */
    @Test
    void requestedBoundsInSecondsAreExportedAsGivenAndHoldExactlyTheValuesUpToThem() {
        double[] seconds = {0.001, 0.005, 0.01, 0.1, 1};
        List<String> expectedLe = List.of("0.001", "0.005", "0.01", "0.1", "1.0", "+Inf");
        for (BucketLayout layout : new BucketLayout[] {BucketLayout.explicitSeconds(seconds),
                BucketLayout.logLinear(3_600_000_000_000L, 5).including(BucketLayout.explicitSeconds(seconds))}) {
            PerCpuTimer t = new PerCpuTimer(layout);
            PrometheusRegistry registry = new PrometheusRegistry();
            RseqCollector.builder().timer("t_seconds", "t", t, ClassicBounds.of(seconds)).register(registry);
            long[] recorded = new long[3 * seconds.length + 1];
            int n = 0;
            for (double b : seconds) {
                long ns = Math.round(b * 1e9);
                for (long v = ns - 1; v <= ns + 1; v++) {
                    t.record(Duration.ofNanos(v));
                    recorded[n++] = v;
                }
            }
            t.record(Duration.ofSeconds(100));
            recorded[n] = 100_000_000_000L;
            String text = Scrapes.text(registry.scrape());
            Scrapes.TextHistogram h = Scrapes.checkText(text, "t_seconds", "");
            assertEquals(expectedLe, List.copyOf(h.buckets().keySet()), layout + "\n" + text);
            for (int i = 0; i < seconds.length; i++) {
                long bound = Math.round(seconds[i] * 1e9), expected = 0;
                for (long v : recorded) {
                    expected += v <= bound ? 1 : 0;
                }
                assertEquals(expected, h.buckets().get(expectedLe.get(i)), layout + " le=" + expectedLe.get(i));
                assertEquals(3L * i + 2, expected);     // the one below and the one at this bound, and all before
            }
            assertEquals((long) recorded.length, h.buckets().get("+Inf"));
        }
        // the log-linear default layout has no bucket ending at 1 ms: refused, not rounded
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RseqCollector.builder().timer("t_seconds", "t", new PerCpuTimer(new PerCpuHistogram(BucketLayout.logLinear(
                        3_600_000_000_000L, 5))), ClassicBounds.of(seconds)));
        assertTrue(e.getMessage().contains("0.001"), e.getMessage());
    }

    @Test
    void logLinearHistogramsDefaultToPowersOfTwoAndSmallOnesToEveryBucket() {
        PerCpuHistogram big = new PerCpuHistogram(BucketLayout.logLinear(1L << 30, 5));
        PerCpuHistogram small = new PerCpuHistogram(BucketLayout.logLinear(16, 2));  // 13 buckets: 0..7, 8-9, ..., 14-15, 16
        PrometheusRegistry registry = new PrometheusRegistry();
        RseqCollector.builder().histogram("big", "big", big).histogram("small", "small", small).register(registry);
        for (long v = 0; v <= 4096; v++) {
            big.record(v);
        }
        for (long v = 0; v <= 20; v++) {
            small.record(v);   // 17..20 are clamped to 16
        }
        String text = Scrapes.text(registry.scrape());
        Scrapes.TextHistogram b = Scrapes.checkText(text, "big", "");
        // 2^k - 1 for k = 0..30, and +Inf
        assertEquals(32, b.buckets().size(), text);
        assertEquals(1L, b.buckets().get("0.0"));
        assertEquals(1024L, b.buckets().get("1023.0"));
        assertEquals(4096L, b.buckets().get("4095.0"));
        assertEquals(4097L, b.buckets().get("+Inf"));
        Scrapes.TextHistogram s = Scrapes.checkText(text, "small", "");
        // every bucket's upper bound but the last one's (that one is +Inf)
        assertEquals(List.of("0.0", "1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0", "9.0", "11.0", "13.0", "15.0",
                        "+Inf"),
                List.copyOf(s.buckets().keySet()), text);
        assertEquals(21L, s.count());
    }

    @Test
    void statusCollectorShowsTheModeAndCountersWithHelp() {
        PrometheusRegistry registry = new PrometheusRegistry();
        new RseqStatusCollector().register(registry);
        String text = Scrapes.text(registry.scrape());
        String mode = Rseq.isRseqMode() ? "rseq" : "portable";
        if ("portable".equals(System.getProperty("rseq4j.test.expectMode"))) {
            assertEquals("portable", mode, "this execution runs in the portable mode");
        }
        assertTrue(text.contains("# TYPE rseq4j_mode_info gauge\n"), text);
        String info = text.lines().filter(l -> l.startsWith("rseq4j_mode_info{")).findFirst().orElseThrow();
        assertTrue(info.contains("mode=\"" + mode + "\"") && info.contains("fence=\"") && info.endsWith("} 1.0"), info);
        assertTrue(text.contains("rseq4j_rseq_mode " + (Rseq.isRseqMode() ? "1.0" : "0.0") + "\n"), text);
        for (String reason : List.of("not_registered", "aborted", "stopped", "portable")) {
            assertTrue(text.contains("rseq4j_fallbacks_total{reason=\"" + reason + "\"} "), text);
        }
        for (String name : List.of("rseq4j_aborts_total", "rseq4j_attempt_budget_cuts_total",
                "rseq4j_attempt_budget_restores_total", "rseq4j_registration_refusals_total")) {
            assertTrue(text.contains("# TYPE " + name + " counter\n"), text);
            assertTrue(text.contains("\n" + name + " "), text);
        }
        assertTrue(text.contains("# HELP rseq4j_possible_cpus "), text);
    }

    /** rseq4j's status is exported once per registry, however many collectors ask for it. */
    @Test
    void theStatusIsExportedOncePerRegistry() {
        PerCpuCounter c = new PerCpuCounter();
        c.add(5);
        PrometheusRegistry registry = new PrometheusRegistry();
        RseqCollector first = RseqCollector.builder().withRseqStatus().register(registry);
        RseqCollector second = RseqCollector.builder().counter("second", "c", c).withRseqStatus().register(registry);
        new RseqStatusCollector().register(registry);
        assertTrue(first.toString().endsWith("+ rseq4j status"), first.toString());
        assertEquals("RseqCollector[second]", second.toString(), "registered without the status");
        String text = Scrapes.text(registry.scrape());
        for (String line : List.of("# TYPE rseq4j_mode_info gauge\n", "# TYPE rseq4j_rseq_mode gauge\n",
                "rseq4j_fallbacks_total{reason=\"stopped\"} ", "# TYPE rseq4j_possible_cpus gauge\n")) {
            assertEquals(1, text.split(java.util.regex.Pattern.quote(line), -1).length - 1, line + " in\n" + text);
        }
        assertTrue(text.contains("second_total 5.0\n"), text);
        assertTrue(RseqStatusCollector.isExportedIn(registry));
        assertFalse(RseqStatusCollector.isExportedIn(new PrometheusRegistry()));
    }

    @Test
    void filteredScrapesReadOnlyWhatIsAsked() {
        PerCpuCounter c = new PerCpuCounter();
        PerCpuTimer t = new PerCpuTimer();
        PrometheusRegistry registry = new PrometheusRegistry();
        RseqCollector.builder().counter("only_this", "c", c).timer("not_this_seconds", "t", t).withRseqStatus()
                .register(registry);
        MetricSnapshots s = registry.scrape(name -> name.equals("only_this"));
        assertEquals(1, s.size());
        assertEquals(0.0, Scrapes.counter(s, "only_this", Labels.EMPTY));
        assertNull(Scrapes.family(s, "not_this_seconds"));
        assertNull(Scrapes.family(s, "rseq4j_mode_info"));
    }

    @Test
    void badDefinitionsAreRejectedWhenBuiltOrRegistered() {
        PerCpuCounter c = new PerCpuCounter();
        PerCpuTimer t = new PerCpuTimer();
        assertThrows(IllegalArgumentException.class,
                () -> RseqCollector.builder().timer("latency_ms", "no unit", t));
        assertThrows(IllegalArgumentException.class,
                () -> RseqCollector.builder().counter("bad-name", "x", c));
        assertThrows(IllegalArgumentException.class,
                () -> RseqCollector.builder().counter("x", "x", c, "odd"));
        assertThrows(IllegalArgumentException.class,
                () -> RseqCollector.builder().counter("x", "x", c, "a", "1").counter("x", "x", c, "b", "1"));
        assertThrows(IllegalArgumentException.class,
                () -> RseqCollector.builder().counter("x", "x", c, "a", "1").counter("x", "x", c, "a", "1"));
        assertThrows(IllegalArgumentException.class,
                () -> RseqCollector.builder().counter("x", "x", c).counter("x", "other help", c));
        assertThrows(IllegalArgumentException.class,
                () -> RseqCollector.builder().counter("x", "x", c).gauge("x", "x", c));
        assertThrows(IllegalArgumentException.class, () -> RseqCollector.builder().build());
        assertThrows(IllegalArgumentException.class, () -> ClassicBounds.of());
        assertThrows(IllegalArgumentException.class, () -> ClassicBounds.of(-1));

        // the registry sees the families when the collector is registered
        PrometheusRegistry registry = new PrometheusRegistry();
        RseqCollector.builder().counter("dup", "x", c).register(registry);
        RseqCollector second = RseqCollector.builder().counter("dup", "x", new PerCpuCounter()).build();
        assertThrows(IllegalArgumentException.class, () -> registry.register(second));
        assertFalse(Scrapes.text(registry.scrape()).isEmpty());
    }
}
