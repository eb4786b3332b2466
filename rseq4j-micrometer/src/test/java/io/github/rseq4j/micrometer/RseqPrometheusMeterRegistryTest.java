package io.github.rseq4j.micrometer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
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
    }

    @Test
    void scrapeIsMicrometersOwnForTheSameRecords() throws Exception {
        Pair theirs = micrometer();
        Pair ours = rseq();
        defineAndRecord(theirs);
        defineAndRecord(ours);
        assertInstanceOf(RseqTimer.class, ours.registry().get("http.server.requests").tag("method", "GET").timer());

        for (String format : new String[]{"text/plain; version=0.0.4; charset=utf-8",
                "application/openmetrics-text; version=1.0.0; charset=utf-8"}) {
            List<String> expected = theirs.registry().scrape(format).lines().toList();
            List<String> actual = ours.registry().scrape(format).lines().toList();
            assertTrue(expected.stream().anyMatch(l -> l.startsWith("http_server_requests_seconds_bucket")), format);
            assertTrue(expected.stream().anyMatch(l -> l.startsWith("http_server_requests_seconds_max")), format);
            assertTrue(expected.stream().anyMatch(l -> l.startsWith("db_query_seconds{") && l.contains("quantile=")), format);
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
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int k = 0; k < threads; k++) {
            boolean virtual = k % 2 == 1;
            Runnable work = () -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                for (int i = 0; i < perThread; i++) {
                    t.record(1_000_000L + i, TimeUnit.NANOSECONDS);
                }
            };
            all.add(virtual ? Thread.ofVirtual().unstarted(work) : Thread.ofPlatform().unstarted(work));
        }
        all.forEach(Thread::start);
        start.countDown();
        long scrapes = 0;
        while (all.stream().anyMatch(Thread::isAlive)) {
            var snap = t.takeSnapshot();
            var counts = snap.histogramCounts();
            // cumulative: the last finite bucket holds everything up to 30 s, i.e. every record so far
            assertEquals(snap.count(), (long) counts[counts.length - 1].count(), "count and buckets from one interval");
            scrapes++;
        }
        for (Thread th : all) {
            th.join();
        }
        long n = (long) threads * perThread;
        assertEquals(n, t.count());
        long sum = threads * (perThread * 1_000_000L + (long) perThread * (perThread - 1) / 2);
        assertEquals((double) sum, t.totalTime(TimeUnit.NANOSECONDS));
        assertTrue(scrapes > 0);
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
