package io.github.rseq4j.micrometer;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuHistogram;
import io.github.rseq4j.PerCpuTimer;
import io.github.rseq4j.Rseq;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Statistic;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
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
     * application drops it, the timer and its histogram must be collectable; a bound
     * {@code PerCpuHistogram} likewise (its meter reads it through a weak reference).
     */
    @Test
    void aDroppedTimerOrHistogramIsNotKeptByTheRegistry() throws InterruptedException {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        WeakReference<PerCpuHistogram> timers = bindThenDrop(registry);
        WeakReference<PerCpuHistogram> histogram = bindHistogramThenDrop(registry);
        FunctionTimer t = registry.get("dropped.latency").functionTimer();
        Meter m = registry.get("dropped.size").meter();
        List<Gauge> percentiles = List.of(registry.get("dropped.latency.percentile").gauge(),
                registry.get("dropped.size.percentile").gauge());
        awaitCollected(timers, "the registry keeps the dropped timer's histogram reachable");
        awaitCollected(histogram, "the registry keeps the dropped histogram reachable");
        assertEquals(2.0, t.count(), "the last count read stays");
        assertTrue(Double.isNaN(statistics(m).get(Statistic.COUNT)), "the count of a collected histogram");
        for (Gauge g : percentiles) {
            assertTrue(Double.isNaN(g.value()), "a gauge of a collected timer or histogram reads NaN");
        }
    }

    /** Runs the collector (up to a second) until {@code ref} is cleared; fails if it is not. */
    private static void awaitCollected(WeakReference<?> ref, String message) throws InterruptedException {
        for (int i = 0; i < 100 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertNull(ref.get(), message);
    }

    private static WeakReference<PerCpuHistogram> bindHistogramThenDrop(SimpleMeterRegistry registry) {
        PerCpuHistogram h = new PerCpuHistogram(BucketLayout.explicit(10, 20));
        h.record(15);
        RseqMeterBinder.builder().histogram("dropped.size", "dropped", "bytes", h).percentiles(0.5).build()
                .bindTo(registry);
        assertEquals(1.0, statistics(registry.get("dropped.size").meter()).get(Statistic.COUNT));
        assertEquals(15.0, registry.get("dropped.size.percentile").gauge().value());   // capped at the max
        return new WeakReference<>(h);
    }

    private static WeakReference<PerCpuHistogram> bindThenDrop(SimpleMeterRegistry registry) {
        PerCpuTimer timer = new PerCpuTimer(new PerCpuHistogram(BucketLayout.explicit(1_000_000, 2_000_000)));
        timer.record(Duration.ofMillis(1));
        timer.record(Duration.ofMillis(2));
        RseqMeterBinder.builder().percentiles(0.5).timer("dropped.latency", "dropped", timer).build().bindTo(registry);
        assertEquals(2.0, registry.get("dropped.latency").functionTimer().count());
        assertEquals(0.001, registry.get("dropped.latency.percentile").gauge().value(), 0.0011);
        return new WeakReference<>((PerCpuHistogram) timer.histogram());
    }

    @Test
    void countersTimersAndPercentilesInASimpleMeterRegistry() {
        PerCpuCounter ok = new PerCpuCounter();
        PerCpuCounter errors = new PerCpuCounter();
        PerCpuTimer latency = new PerCpuTimer(new PerCpuHistogram(BucketLayout.explicit(1_000_000, 2_000_000, 4_000_000)));
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

    /** A histogram: count, total and percentiles of plain values, exact, in its base unit. */
    @Test
    void aHistogramIsADistributionSummaryOfPlainValuesWithPercentiles() {
        PerCpuHistogram sizes = new PerCpuHistogram(BucketLayout.explicit(1_024, 16_384, 262_144));
        sizes.record(100);
        sizes.record(1_024);
        sizes.record(5_000, 3);
        sizes.record(300_000);                 // above the last bound: the max caps the top percentile

        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RseqMeterBinder.builder()
                .percentiles(0.5, 0.99)
                .histogram("response.size", "Response sizes", "bytes", sizes, "path", "/a")
                .build().bindTo(registry);

        Meter m = registry.get("response.size").tag("path", "/a").meter();
        assertEquals(Meter.Type.DISTRIBUTION_SUMMARY, m.getId().getType());
        assertEquals("bytes", m.getId().getBaseUnit());
        assertEquals("Response sizes", m.getId().getDescription());
        assertEquals(Map.of(Statistic.COUNT, 6.0, Statistic.TOTAL, 100 + 1_024 + 15_000 + 300_000.0), statistics(m));
        Gauge p50 = registry.get("response.size.percentile").tag("phi", "0.5").tag("path", "/a").gauge();
        Gauge p99 = registry.get("response.size.percentile").tag("phi", "0.99").gauge();
        assertEquals("bytes", p50.getId().getBaseUnit());
        assertEquals(16_384.0, p50.value());   // rank 3 of 6: in the bucket up to 16,384 (no scaling)
        assertEquals(300_000.0, p99.value());  // rank 6: the unbounded bucket, capped at the max
        sizes.record(1);
        assertEquals(7.0, statistics(m).get(Statistic.COUNT));
    }

    @Test
    void aHistogramOnAPrometheusMeterRegistry() {
        PerCpuHistogram sizes = new PerCpuHistogram(BucketLayout.explicit(1_024, 16_384));
        sizes.record(1_000);
        sizes.record(2_000);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        RseqMeterBinder.builder().histogram("response.size", "Response sizes", "bytes", sizes)
                .percentiles(0.5).build().bindTo(registry);
        String text = registry.scrape();
        assertTrue(text.contains("response_size_bytes_total{statistic=\"COUNT\"} 2.0\n"), text);
        assertTrue(text.contains("response_size_bytes_sum_total{statistic=\"TOTAL\"} 3000.0\n"), text);
        assertTrue(text.contains("response_size_percentile_bytes{phi=\"0.5\"} 1024.0\n"), text);
    }

    /**
     * percentiles() applies to every timer and histogram of the builder, whatever the order
     * of the calls (it applied only to timers added after it).
     */
    @Test
    void percentilesApplyToEveryTimerAndHistogramWhateverTheOrder() {
        for (boolean percentilesFirst : new boolean[] {true, false}) {
            PerCpuTimer early = new PerCpuTimer(new PerCpuHistogram(BucketLayout.explicit(1_000_000, 2_000_000)));
            PerCpuTimer late = new PerCpuTimer(new PerCpuHistogram(BucketLayout.explicit(1_000_000, 2_000_000)));
            PerCpuHistogram sizes = new PerCpuHistogram(BucketLayout.explicit(10, 20));
            early.record(Duration.ofMillis(2));
            late.record(Duration.ofMillis(1));
            sizes.record(20);
            RseqMeterBinder.Builder b = RseqMeterBinder.builder();
            if (percentilesFirst) {
                b.percentiles(0.5, 0.9);
            }
            b.timer("early", "early", early);
            b.percentiles(0.25);               // replaced below in one order, the last word in the other
            b.histogram("sizes", "sizes", null, sizes);
            if (!percentilesFirst) {
                b.percentiles(0.5, 0.9);
            }
            b.timer("late", "late", late);
            if (percentilesFirst) {
                b.percentiles(0.5, 0.9);
            }
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            b.build().bindTo(registry);
            String order = percentilesFirst ? "percentiles first" : "percentiles last";
            for (String name : List.of("early", "sizes", "late")) {
                List<String> phis = new ArrayList<>();
                for (Gauge g : registry.get(name + ".percentile").gauges()) {
                    phis.add(g.getId().getTag("phi"));
                }
                phis.sort(null);
                assertEquals(List.of("0.5", "0.9"), phis, name + ", " + order);
            }
            assertEquals(0.002, registry.get("early.percentile").tag("phi", "0.9").gauge().value(), 1e-12, order);
            assertEquals(0.001, registry.get("late.percentile").tag("phi", "0.5").gauge().value(), 1e-12, order);
            assertEquals(20.0, registry.get("sizes.percentile").tag("phi", "0.5").gauge().value(), order);
        }
    }

    /** A built binder keeps the percentiles of its build: the builder's later calls change later builds only. */
    @Test
    void aBuiltBinderKeepsItsPercentiles() {
        PerCpuTimer t = new PerCpuTimer();
        RseqMeterBinder.Builder b = RseqMeterBinder.builder().timer("t", "t", t).percentiles(0.5);
        RseqMeterBinder first = b.build();
        b.percentiles(0.9);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        first.bindTo(registry);
        assertEquals(1, registry.get("t.percentile").gauges().size());
        assertNotNull(registry.get("t.percentile").tag("phi", "0.5").gauge());
    }

    private static Map<Statistic, Double> statistics(Meter m) {
        Map<Statistic, Double> out = new EnumMap<>(Statistic.class);
        for (Measurement x : m.measure()) {
            out.put(x.getStatistic(), x.getValue());
        }
        return out;
    }

    @Test
    void rseq4jStateAsGaugesAndCounters() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new RseqStatusMetrics().bindTo(registry);
        String mode = Rseq.isRseqMode() ? "rseq" : "portable";
        Gauge g = registry.get("rseq4j.mode.info").tag("mode", mode).gauge();
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
        PerCpuTimer latency = new PerCpuTimer();
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
        assertTrue(text.contains("rseq4j_mode_info{"), text);
        assertTrue(text.contains("rseq4j_rseq_mode " + (Rseq.isRseqMode() ? "1.0" : "0.0")), text);
    }

    /**
     * Every record is 1 µs, so a publication whose count and total came from different
     * snapshots shows sum != count x 1 µs.
     */
    @Test
    void countAndTotalOfEveryScrapeComeFromOneSnapshotWhileThreadsRecord() throws Exception {
        PerCpuTimer latency = new PerCpuTimer();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        PerCpuHistogram sizes = new PerCpuHistogram(BucketLayout.explicit(4, 8));
        RseqMeterBinder.builder().percentiles(0.5).timer("work", "Work", latency)
                .histogram("work.size", "Work sizes", null, sizes).build().bindTo(registry);
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
                        sizes.record(7);
                        n++;
                    }
                    records[id] = n;
                } catch (Throwable e) {
                    failure.set(e);
                }
            }));
        }
        long previous = 0;
        int slow = 0;
        for (int scrape = 0; scrape < 200; scrape++) {
            long started = System.nanoTime();
            String text = registry.scrape();
            // A scrape in which one meter's reads were SnapshotCache.MAX_IDLE_NANOS apart may read
            // its count and its sum from two snapshots (by design: a cache idle that long is taken
            // for one between publications): skip the pair check for such scrapes, only a few.
            boolean oneSnapshot = System.nanoTime() - started < SnapshotCache.MAX_IDLE_NANOS;
            slow += oneSnapshot ? 0 : 1;
            long count = (long) value(text, "work_seconds_count ");
            double sum = value(text, "work_seconds_sum ");
            assertTrue(count >= previous, "count went back");
            previous = count;
            double sizeCount = value(text, "work_size_total{statistic=\"COUNT\"} ");
            if (oneSnapshot) {
                assertEquals(count * 1e-6, sum, 1e-9 * Math.max(1, sum), "count and sum of scrape " + scrape);
                assertEquals(sizeCount * 7, value(text, "work_size_sum_total{statistic=\"TOTAL\"} "),
                        "histogram count and total of scrape " + scrape);
            }
            assertEquals(sizeCount == 0 ? 0 : 7, value(text, "work_size_percentile{phi=\"0.5\"} "), "p50 " + scrape);
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        assertNull(failure.get());
        assertTrue(slow < 20, slow + " of 200 scrapes took longer than SnapshotCache.MAX_IDLE_NANOS: too few checked");
        long total = records[0] + records[1] + records[2];
        String text = registry.scrape();
        assertEquals(total, (long) value(text, "work_seconds_count "));
        assertEquals(total, registry.get("work").functionTimer().count());
        assertEquals(total, (long) value(text, "work_size_total{statistic=\"COUNT\"} "));
        assertEquals(7 * total, (long) value(text, "work_size_sum_total{statistic=\"TOTAL\"} "));
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> RseqMeterBinder.builder().percentiles(1.0));
        assertThrows(IllegalArgumentException.class, () -> RseqMeterBinder.builder().percentiles(0));
        assertThrows(NullPointerException.class, () -> RseqMeterBinder.builder().timer("x", "x", null));
        assertThrows(NullPointerException.class, () -> RseqMeterBinder.builder().histogram("x", "x", "bytes", null));
        assertThrows(IllegalArgumentException.class,
                () -> RseqMeterBinder.builder().percentiles(new double[RseqMeterBinder.MAX_PERCENTILES + 1]));
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
