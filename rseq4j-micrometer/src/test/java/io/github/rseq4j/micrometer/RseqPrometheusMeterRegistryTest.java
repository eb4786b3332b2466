package io.github.rseq4j.micrometer;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.HistogramSupport;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RseqPrometheusMeterRegistry} against Micrometer's own {@link PrometheusMeterRegistry}:
 * the same meter definitions, filters and records give the same exposition, line for line.
 */
class RseqPrometheusMeterRegistryTest {

    /** Both registries on clocks of their own that move alike, so decaying windows rotate alike. */
    private record Pair(MockClock clock, PrometheusMeterRegistry registry) {}

    private static Pair micrometer() {
        MockClock clock = new MockClock();
        return new Pair(clock, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(), clock));
    }

    private static Pair rseq() {
        MockClock clock = new MockClock();
        return new Pair(clock, new RseqPrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(), clock));
    }

    /** Meter definitions of every kind a service has, then a fixed sequence of records. */
    private static void defineAndRecord(Pair p) throws Exception {
        MeterRegistry r = p.registry();
        r.config().commonTags("app", "shop");
        r.config().meterFilter(MeterFilter.deny(id -> id.getName().startsWith("denied")));
        r.config().meterFilter(MeterFilter.renameTag("legacy", "old", "new"));
        Timer http = Timer.builder("http.server.requests").description("HTTP requests")
                .tags("uri", "/orders", "method", "GET")
                .publishPercentileHistogram()
                .serviceLevelObjectives(Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofNanos(1_500_001))
                .register(r);
        Timer httpPost = Timer.builder("http.server.requests").description("HTTP requests")
                .tags("uri", "/orders", "method", "POST")
                .publishPercentileHistogram()
                .serviceLevelObjectives(Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofNanos(1_500_001))
                .register(r);
        Timer db = Timer.builder("db.query").publishPercentiles(0.5, 0.95, 0.99).register(r);
        Timer mixed = Timer.builder("legacy.mixed").tag("old", "x").publishPercentileHistogram().publishPercentiles(0.9)
                .minimumExpectedValue(Duration.ofMillis(5)).maximumExpectedValue(Duration.ofSeconds(2)).register(r);
        Timer plain = r.timer("cache.get", "hit", "true");
        Timer denied = r.timer("denied.timer");
        Timer neverRecorded = Timer.builder("idle").publishPercentileHistogram().register(r);

        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 3_000; i++) {
            // log-spread over 1 us .. 60 s, so the +Inf bucket and the expected-range ends are hit
            long nanos = (long) Math.exp(Math.log(1_000) + random.nextDouble() * (Math.log(60e9) - Math.log(1_000)));
            switch (i % 6) {
                case 0 -> http.record(nanos, TimeUnit.NANOSECONDS);
                case 1 -> httpPost.record(Duration.ofNanos(nanos));
                case 2 -> db.record(nanos, TimeUnit.NANOSECONDS);
                case 3 -> mixed.record(nanos / 1_000, TimeUnit.MICROSECONDS);
                case 4 -> plain.record(nanos, TimeUnit.NANOSECONDS);
                default -> denied.record(nanos, TimeUnit.NANOSECONDS);
            }
        }
        // exactly at the boundaries: Micrometer counts a value equal to a boundary in that bucket
        for (long b : new long[]{1_000_000, 100_000_000, 250_000_000, 1_500_001, 1_500_000, 1_500_002, 30_000_000_000L}) {
            http.record(b, TimeUnit.NANOSECONDS);
            mixed.record(b, TimeUnit.NANOSECONDS);
        }
        Timer.Sample sample = Timer.start(r);
        p.clock().add(Duration.ofMillis(7));
        sample.stop(plain);
        plain.recordCallable(() -> {
            p.clock().add(Duration.ofMillis(3));
            return null;
        });
        http.record(Duration.ofSeconds(-1)); // ignored by both
        assertEquals(0, neverRecorded.count());
        defineAndRecordSummaries(r);
    }

    /**
     * Summaries: whole amounts (the series), fractional, huge and infinite ones (the exact side
     * path), amounts on and between boundaries, scale, SLOs, percentile histograms and quantiles.
     * Fractional amounts are multiples of 1/8 and totals stay far below 2^50, so every double
     * addition is exact and the sums do not depend on the order of addition.
     */
    private static void defineAndRecordSummaries(MeterRegistry r) {
        DistributionSummary payload = DistributionSummary.builder("http.payload").description("Payload sizes")
                .baseUnit("bytes").tags("uri", "/orders")
                .publishPercentileHistogram().serviceLevelObjectives(100, 1_000.5, 65_536)
                .publishPercentiles(0.5, 0.99).register(r);
        DistributionSummary items = DistributionSummary.builder("queue.items").scale(0.25)
                .publishPercentileHistogram().minimumExpectedValue(4.0).maximumExpectedValue(1e6).register(r);
        DistributionSummary rows = DistributionSummary.builder("db.rows").publishPercentiles(0.5, 0.95).register(r);
        DistributionSummary ratio = DistributionSummary.builder("legacy.ratio").tag("old", "y")
                .serviceLevelObjectives(0.5, 1.7, 2, 3.25).register(r);   // amounts k / 2^17: exact sums
        // the ladder up to 4.2e18, above the series' 2^53, and an SLO above Long.MAX_VALUE (where Micrometer's
        // (long) ceil(amount) saturates: 1e19, Double.MAX_VALUE and infinity count at or below it)
        DistributionSummary huge = DistributionSummary.builder("huge").baseUnit("bytes").publishPercentileHistogram()
                .serviceLevelObjectives(1e19).register(r);
        DistributionSummary batch = r.summary("batch.size", "kind", "import");
        DistributionSummary denied = r.summary("denied.summary");
        DistributionSummary idle = DistributionSummary.builder("idle.summary").publishPercentileHistogram().register(r);

        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 3_000; i++) {
            long whole = (long) Math.exp(random.nextDouble() * Math.log(5e6));   // 1 .. 5e6
            double eighths = random.nextInt(8 * 70_000) / 8.0;                    // 0 .. 70,000 in steps of 1/8
            switch (i % 7) {
                case 0 -> payload.record(whole);
                case 1 -> payload.record(eighths);
                case 2 -> items.record(whole);          // scaled by 1/4: whole or fractional
                case 3 -> rows.record(i % 2 == 0 ? whole : eighths);
                case 4 -> ratio.record(eighths / 16_384);
                case 5 -> batch.record(whole);
                default -> denied.record(whole);
            }
        }
        // on and next to boundaries: Micrometer buckets an amount as (long) ceil(amount)
        for (double a : new double[]{100, 99.875, 100.125, 1_000.5, 1_000, 1_001, 65_536, 65_535.5, 0, 1, 1.5, 2}) {
            payload.record(a);
        }
        for (double a : new double[]{0.5, 0.25, 1.7, 1.5, 1.75, 2, 3.25, 3, 3.5, 4}) {
            ratio.record(a);
        }
        for (double a : new double[]{16, 17, 4, 5, 1_000_000, 4_000_004, 6}) {
            items.record(a);
        }
        for (double a : new double[]{1, 0x1p53 - 1, 0x1p53, 0x1p60, 1e19, Double.MAX_VALUE, Double.POSITIVE_INFINITY, 3}) {
            huge.record(a);
        }
        payload.record(-1);        // ignored by both
        payload.record(Double.NaN); // ignored by both
        assertEquals(0, idle.count());
    }

    @Test
    void scrapeIsMicrometersOwnForTheSameRecords() throws Exception {
        Pair theirs = micrometer();
        Pair ours = rseq();
        defineAndRecord(theirs);
        defineAndRecord(ours);
        assertInstanceOf(RseqTimer.class, ours.registry().get("http.server.requests").tag("method", "GET").timer());
        assertInstanceOf(RseqDistributionSummary.class, ours.registry().get("http.payload").summary());

        for (String format : new String[]{"text/plain; version=0.0.4; charset=utf-8",
                "application/openmetrics-text; version=1.0.0; charset=utf-8"}) {
            List<String> expected = theirs.registry().scrape(format).lines().toList();
            List<String> actual = ours.registry().scrape(format).lines().toList();
            assertTrue(expected.stream().anyMatch(l -> l.startsWith("http_server_requests_seconds_bucket")), format);
            assertTrue(expected.stream().anyMatch(l -> l.startsWith("http_server_requests_seconds_max")), format);
            assertTrue(expected.stream().anyMatch(l -> l.startsWith("db_query_seconds{") && l.contains("quantile=")), format);
            assertTrue(expected.stream().anyMatch(l -> l.startsWith("http_payload_bytes_bucket")), format);
            assertTrue(expected.stream().anyMatch(l -> l.startsWith("http_payload_bytes_max")), format);
            assertTrue(expected.stream().anyMatch(l -> l.startsWith("legacy_ratio_bucket")), format);
            assertTrue(expected.stream().anyMatch(l -> l.startsWith("huge_bytes_bucket")), format);
            assertTrue(expected.stream().anyMatch(l -> l.startsWith("db_rows{") && l.contains("quantile=")), format);
            assertEquals(expected, actual, () -> "exposition differs in " + format + ":\n" + diff(expected, actual));
        }
    }

    @Test
    void maxDecaysAsMicrometersAfterTheWindow() throws Exception {
        Pair theirs = micrometer();
        Pair ours = rseq();
        for (Pair p : List.of(theirs, ours)) {
            Timer t = p.registry().timer("slow");
            t.record(Duration.ofMillis(900));
            p.registry().scrape();                     // ours takes the record into the window here
            p.clock().add(Duration.ofSeconds(50));
            t.record(Duration.ofMillis(20));
        }
        Function<Pair, Double> max = p -> p.registry().get("slow").timer().max(TimeUnit.MILLISECONDS);
        List<Double> theirMaxima = new ArrayList<>(), ourMaxima = new ArrayList<>();
        for (int step = 0; step < 8; step++) {          // 50 s .. 330 s after the 900 ms record
            theirMaxima.add(max.apply(theirs));
            ourMaxima.add(max.apply(ours));
            assertEquals(theirs.registry().scrape(), ours.registry().scrape());
            theirs.clock().add(Duration.ofSeconds(40));
            ours.clock().add(Duration.ofSeconds(40));
        }
        assertEquals(900.0, theirMaxima.get(0));
        assertEquals(0.0, theirMaxima.get(theirMaxima.size() - 1), "the window expired: " + theirMaxima);
        assertEquals(theirMaxima, ourMaxima);
    }

    @Test
    void concurrentRecordsAreAllCountedWithConsistentBuckets() throws Exception {
        Pair ours = rseq();
        Timer t = Timer.builder("work").publishPercentileHistogram().register(ours.registry());
        int threads = 4, perThread = 50_000;
        recordConcurrently(threads, () -> {
            for (int i = 0; i < perThread; i++) {
                t.record(1_000_000L + i, TimeUnit.NANOSECONDS);
            }
        }, t);
        long n = (long) threads * perThread;
        assertEquals(n, t.count());
        long sum = threads * (perThread * 1_000_000L + (long) perThread * (perThread - 1) / 2);
        assertEquals((double) sum, t.totalTime(TimeUnit.NANOSECONDS));
    }

    @Test
    void concurrentSummaryRecordsAreAllCountedExactlyOnBothPaths() throws Exception {
        Pair ours = rseq();
        DistributionSummary s = DistributionSummary.builder("work.bytes").publishPercentileHistogram()
                .serviceLevelObjectives(2.5).register(ours.registry());
        assertInstanceOf(RseqDistributionSummary.class, s);
        int threads = 4, perThread = 40_000;
        recordConcurrently(threads, () -> {
            for (int i = 0; i < perThread; i++) {
                // even i: whole (the series), odd i: with a half (the exact side path)
                s.record(i % 2 == 0 ? 1_000 + i : 1_000 + i + 0.5);
            }
        }, s);
        long n = (long) threads * perThread;
        assertEquals(n, s.count());
        // per thread: sum of (1000 + i) over all i, plus 0.5 for each odd i; every partial sum is a multiple of 0.5 below 2^52
        double perThreadSum = perThread * 1_000.0 + (double) perThread * (perThread - 1) / 2 + perThread / 2 * 0.5;
        assertEquals(threads * perThreadSum, s.totalAmount());
        assertEquals(1_000 + perThread - 1 + 0.5, s.max());
        var counts = s.takeSnapshot().histogramCounts();
        assertEquals(0, (long) counts[0].count(), "nothing at or below the first boundary (1)");
        assertEquals(n, (long) counts[counts.length - 1].count());
    }

    @Test
    void removedOrClosedMetersKeepTheirTotalsAndIgnoreLaterRecords() {
        Pair ours = rseq();
        MeterRegistry r = ours.registry();
        DistributionSummary removed = DistributionSummary.builder("removed.bytes").publishPercentileHistogram().register(r);
        DistributionSummary kept = r.summary("kept.bytes");
        Timer timer = r.timer("kept.timer");
        removed.record(10);
        removed.record(2.5);
        r.remove(removed);
        removed.record(1_000);
        removed.record(0.5);
        assertEquals(2, removed.count());
        assertEquals(12.5, removed.totalAmount());
        assertTrue(r.find("removed.bytes").summary() == null);
        kept.record(7);
        kept.record(0.25);
        timer.record(Duration.ofMillis(3));
        ours.registry().close();
        kept.record(9);
        kept.record(1.5);
        timer.record(Duration.ofMillis(5));
        assertEquals(2, kept.count());
        assertEquals(7.25, kept.totalAmount());
        assertEquals(7.0, kept.max());
        assertEquals(1, timer.count());
    }

    /**
     * Runs {@code work} on {@code threads} threads started together (every other one virtual)
     * and, while they run, checks every snapshot of {@code meter}: its count is its last
     * cumulative bucket's (the last boundary is above every recorded value), i.e. count and
     * buckets come from the same records.
     */
    private static void recordConcurrently(int threads, Runnable work, HistogramSupport meter) throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int k = 0; k < threads; k++) {
            Runnable afterStart = () -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                work.run();
            };
            all.add(k % 2 == 1 ? Thread.ofVirtual().unstarted(afterStart) : Thread.ofPlatform().unstarted(afterStart));
        }
        all.forEach(Thread::start);
        start.countDown();
        long snapshots = 0;
        while (all.stream().anyMatch(Thread::isAlive)) {
            var snap = meter.takeSnapshot();
            var counts = snap.histogramCounts();
            assertEquals(snap.count(), (long) counts[counts.length - 1].count(), "count and buckets from one view");
            snapshots++;
        }
        for (Thread th : all) {
            th.join();
        }
        assertTrue(snapshots > 0);
    }

    private static String diff(List<String> expected, List<String> actual) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < Math.max(expected.size(), actual.size()); i++) {
            String e = i < expected.size() ? expected.get(i) : "<none>";
            String a = i < actual.size() ? actual.get(i) : "<none>";
            if (!e.equals(a)) {
                b.append("line ").append(i + 1).append("\n  micrometer: ").append(e).append("\n  rseq4j:     ").append(a).append('\n');
            }
        }
        return b.toString();
    }
}
