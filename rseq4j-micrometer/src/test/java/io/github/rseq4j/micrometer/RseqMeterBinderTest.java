package io.github.rseq4j.micrometer;

import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuHistogram;
import io.github.rseq4j.PerCpuTimer;
import io.github.rseq4j.Rseq;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RseqMeterBinderTest {

    /**
     * Issue 18: the registry held every bound timer's histogram through the snapshot cache
     * its meters share, for the registry's life. Micrometer holds the timer weakly; once the
     * application drops it, the timer and its histogram must be collectable.
     */
    @Test
    void aDroppedTimerAndItsHistogramAreNotKeptByTheRegistry() throws InterruptedException {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        WeakReference<PerCpuHistogram> histogram = bindThenDrop(registry);
        FunctionTimer t = registry.get("dropped.latency").functionTimer();
        Gauge p50 = registry.get("dropped.latency.percentile").gauge();
        for (int i = 0; i < 100 && histogram.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertNull(histogram.get(), "the registry keeps the dropped timer's histogram reachable");
        assertEquals(2.0, t.count(), "the last count read stays");
        assertTrue(Double.isNaN(p50.value()), "a gauge of a collected timer reads NaN");
    }

    private static WeakReference<PerCpuHistogram> bindThenDrop(SimpleMeterRegistry registry) {
        PerCpuTimer timer = PerCpuTimer.of(PerCpuHistogram.withBounds(1_000_000, 2_000_000));
        timer.record(Duration.ofMillis(1));
        timer.record(Duration.ofMillis(2));
        RseqMeterBinder.builder().percentiles(0.5).timer("dropped.latency", "dropped", timer).build().bindTo(registry);
        assertEquals(2.0, registry.get("dropped.latency").functionTimer().count());
        assertEquals(0.001, registry.get("dropped.latency.percentile").gauge().value(), 0.0011);
        return new WeakReference<>(timer.histogram());
    }

    @Test
    void countersTimersAndPercentilesInASimpleMeterRegistry() {
        PerCpuCounter ok = new PerCpuCounter();
        PerCpuCounter errors = new PerCpuCounter();
        PerCpuTimer latency = PerCpuTimer.of(PerCpuHistogram.withBounds(1_000_000, 2_000_000, 4_000_000));
        ok.add(42);
        errors.add(3);
        latency.record(Duration.ofMillis(1));
        latency.record(Duration.ofMillis(1));
        latency.record(Duration.ofMillis(3));
        latency.record(Duration.ofMillis(4));

        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RseqMeterBinder.builder()
                .counter("http.requests", "HTTP requests", ok, "outcome", "ok")
                .counter("http.requests", "HTTP requests", errors, "outcome", "error")
                .percentiles(0.5, 0.99)
                .timer("http.latency", "HTTP latency", latency, "path", "/a")
                .build().bindTo(registry);

        FunctionCounter c = registry.get("http.requests").tag("outcome", "ok").functionCounter();
        assertEquals(42.0, c.count());
        assertEquals("HTTP requests", c.getId().getDescription());
        assertEquals(3.0, registry.get("http.requests").tag("outcome", "error").functionCounter().count());
        ok.increment();
        assertEquals(43.0, c.count());

        FunctionTimer t = registry.get("http.latency").tag("path", "/a").functionTimer();
        assertEquals(4.0, t.count());
        assertEquals(9.0, t.totalTime(TimeUnit.MILLISECONDS), 1e-9);
        assertEquals(2.25, t.mean(TimeUnit.MILLISECONDS), 1e-9);
        Gauge p50 = registry.get("http.latency.percentile").tag("phi", "0.5").tag("path", "/a").gauge();
        Gauge p99 = registry.get("http.latency.percentile").tag("phi", "0.99").gauge();
        assertEquals(0.001, p50.value(), 1e-12);  // the 2nd record is in the bucket up to 1 ms
        assertEquals(0.004, p99.value(), 1e-12);  // the last one: capped at the max, 4 ms
    }

    @Test
    void rseq4jStateAsGaugesAndCounters() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new RseqStatusMetrics().bindTo(registry);
        String mode = Rseq.isRseqMode() ? "rseq" : "portable";
        Gauge g = registry.get("rseq4j.mode").tag("mode", mode).gauge();
        assertEquals(1.0, g.value());
        assertNotNull(g.getId().getTag("fence"));
        assertEquals(Rseq.isRseqMode() ? 1.0 : 0.0, registry.get("rseq4j.rseq.mode").gauge().value());
        assertEquals(Rseq.status().possibleCpus().size(), registry.get("rseq4j.possible.cpus").gauge().value());
        for (String reason : List.of("not_registered", "aborted", "stopped", "portable")) {
            assertTrue(registry.get("rseq4j.fallbacks").tag("reason", reason).functionCounter().count() >= 0);
        }
        for (String name : List.of("rseq4j.aborts", "rseq4j.attempt.budget.cuts", "rseq4j.attempt.budget.restores",
                "rseq4j.registration.refusals")) {
            assertTrue(registry.get(name).functionCounter().count() >= 0, name);
        }
    }

    @Test
    void aPrometheusMeterRegistryShowsNamesHelpAndTags() {
        PerCpuCounter requests = new PerCpuCounter();
        PerCpuTimer latency = PerCpuTimer.create();
        requests.add(7);
        latency.record(Duration.ofMillis(250));
        latency.record(Duration.ofMillis(750));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        RseqMeterBinder.builder()
                .counter("demo.requests", "Requests served", requests, "outcome", "ok")
                .timer("demo.request.latency", "Request latency", latency)
                .withRseqStatus()
                .build().bindTo(registry);
        String text = registry.scrape();
        assertTrue(text.contains("# HELP demo_requests_total Requests served\n"), text);
        assertTrue(text.contains("# TYPE demo_requests_total counter\n"), text);
        assertTrue(text.contains("demo_requests_total{outcome=\"ok\"} 7.0\n"), text);
        assertTrue(text.contains("# HELP demo_request_latency_seconds Request latency\n"), text);
        assertTrue(text.contains("demo_request_latency_seconds_count 2\n"), text);
        assertTrue(text.contains("demo_request_latency_seconds_sum 1.0\n"), text);
        assertTrue(text.contains("rseq4j_fallbacks_total{reason=\"stopped\"} "), text);
        assertTrue(text.contains("rseq4j_mode{"), text);
        assertTrue(text.contains("rseq4j_rseq_mode " + (Rseq.isRseqMode() ? "1.0" : "0.0")), text);
    }

    /**
     * Every record is 1 µs, so a publication whose count and total came from different
     * snapshots shows sum != count x 1 µs.
     */
    @Test
    void countAndTotalOfEveryScrapeComeFromOneSnapshotWhileThreadsRecord() throws Exception {
        PerCpuTimer latency = PerCpuTimer.create();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        RseqMeterBinder.builder().percentiles(0.5).timer("work", "Work", latency).build().bindTo(registry);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long[] records = new long[3];
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < records.length; i++) {
            int id = i;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    long n = 0;
                    while (!stop.get()) {
                        latency.record(1_000, TimeUnit.NANOSECONDS);
                        n++;
                    }
                    records[id] = n;
                } catch (Throwable e) {
                    failure.set(e);
                }
            }));
        }
        long previous = 0;
        for (int scrape = 0; scrape < 200; scrape++) {
            String text = registry.scrape();
            long count = (long) value(text, "work_seconds_count ");
            double sum = value(text, "work_seconds_sum ");
            assertTrue(count >= previous, "count went back");
            previous = count;
            assertEquals(count * 1e-6, sum, 1e-9 * Math.max(1, sum), "count and sum of scrape " + scrape);
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        assertNull(failure.get());
        long total = records[0] + records[1] + records[2];
        String text = registry.scrape();
        assertEquals(total, (long) value(text, "work_seconds_count "));
        assertEquals(total, registry.get("work").functionTimer().count());
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> RseqMeterBinder.builder().percentiles(1.0));
        assertThrows(IllegalArgumentException.class, () -> RseqMeterBinder.builder().percentiles(0));
        assertThrows(NullPointerException.class, () -> RseqMeterBinder.builder().timer("x", "x", null));
    }

    private static double value(String text, String prefix) {
        for (String line : text.split("\n")) {
            if (line.startsWith(prefix)) {
                return Double.parseDouble(line.substring(prefix.length()).trim());
            }
        }
        throw new AssertionError("no " + prefix + " in\n" + text);
    }
}
