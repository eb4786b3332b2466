package io.github.rseq4j.prometheus;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuHistogram;
import io.github.rseq4j.PerCpuTimer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBucket;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scrapes while threads record: every scrape is consistent (per data point and in the
 * text exposition), cumulative counts never go back between scrapes, and the final scrape
 * holds exactly what was recorded, bucket by bucket.
 */
class ConcurrentScrapeTest {

    static final int THREADS = 4;
    static final int MIN_SCRAPES = 150;
    static final long MAX_VALUE_NS = 10_000_000_000L;

    /** Thread {@code t}'s {@code i}-th value: log-uniform over 1 ns to 10 s, reproducible. */
    static final class Values {
        private final SplittableRandom random;

        Values(int thread) {
            random = new SplittableRandom(0x5EED_0000L + thread);
        }

        long next() {
            return Math.max(1, (long) Math.exp(random.nextDouble() * Math.log(MAX_VALUE_NS)));
        }
    }

    @Test
    void everyScrapeIsConsistentAndTheLastIsExact() throws Exception {
        PerCpuTimer latency = new PerCpuTimer();
        PerCpuHistogram sizes = new PerCpuHistogram(BucketLayout.explicit(100, 1_000, 10_000, 100_000));
        PerCpuHistogram a = new PerCpuHistogram(BucketLayout.logLinear(1 << 20, 3));
        PerCpuHistogram b = new PerCpuHistogram(BucketLayout.logLinear(1 << 20, 3));
        PerCpuCounter ok = new PerCpuCounter();
        PerCpuCounter errors = new PerCpuCounter();

        PrometheusRegistry registry = new PrometheusRegistry();
        RseqCollector.builder()
                .counter("test_requests_total", "Requests", ok, "outcome", "ok")
                .counter("test_requests_total", "Requests", errors, "outcome", "error")
                .timer("test_latency_seconds", "Latency", latency)
                .histogram("test_size_bytes", "Sizes", sizes)
                .histogram("test_values", "Values", a, ClassicBounds.powersOfTwo(), "path", "/a")
                .histogram("test_values", "Values", b, ClassicBounds.powersOfTwo(), "path", "/b")
                .withRseqStatus()
                .register(registry);

        long[] records = new long[THREADS];
        CountDownLatch started = new CountDownLatch(THREADS);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        final boolean[] stop = {false};
        Object stopLock = new Object();
        for (int t = 0; t < THREADS; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().name("recorder-" + t).start(() -> {
                try {
                    Values values = new Values(id);
                    started.countDown();
                    long n = 0;
                    while (true) {
                        if ((n & 1023) == 0) {
                            synchronized (stopLock) {
                                if (stop[0]) {
                                    break;
                                }
                            }
                        }
                        long v = values.next();
                        latency.record(v, TimeUnit.NANOSECONDS);
                        sizes.record(v % 200_000);
                        (v % 2 == 0 ? a : b).record(v % (1 << 20));
                        (v % 7 == 0 ? errors : ok).increment();
                        n++;
                    }
                    records[id] = n;
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        started.await();

        long[] previousLatency = null;
        long previousRequests = 0;
        int scrapes = 0;
        // Recorders never pause for a snapshot (issue 18): on a loaded 2-CPU machine the
        // scraper shares the CPUs with all of them, so give it time for its scrapes.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (scrapes < MIN_SCRAPES && System.nanoTime() < deadline) {
            MetricSnapshots s = registry.scrape();
            long[] cum = Scrapes.checkConsistent(Scrapes.histogram(s, "test_latency_seconds", Labels.EMPTY));
            Scrapes.checkConsistent(Scrapes.histogram(s, "test_size_bytes", Labels.EMPTY));
            Scrapes.checkConsistent(Scrapes.histogram(s, "test_values", Labels.of("path", "/a")));
            Scrapes.checkConsistent(Scrapes.histogram(s, "test_values", Labels.of("path", "/b")));
            if (previousLatency != null) {
                for (int i = 0; i < cum.length; i++) {
                    assertTrue(cum[i] >= previousLatency[i], "a cumulative bucket went back between scrapes");
                }
            }
            previousLatency = cum;
            long requests = (long) (Scrapes.counter(s, "test_requests", Labels.of("outcome", "ok"))
                    + Scrapes.counter(s, "test_requests", Labels.of("outcome", "error")));
            assertTrue(requests >= previousRequests, "the counter went back");
            previousRequests = requests;
            if (scrapes % 10 == 0) {
                String text = Scrapes.text(s);
                Scrapes.checkText(text, "test_latency_seconds", "");
                Scrapes.checkText(text, "test_size_bytes", "");
                Scrapes.checkText(text, "test_values", "path=\"/a\"");
                Scrapes.checkText(text, "test_values", "path=\"/b\"");
            }
            scrapes++;
        }
        synchronized (stopLock) {
            stop[0] = true;
        }
        for (Thread t : threads) {
            t.join();
        }
        assertNull(failure.get());
        assertTrue(scrapes >= MIN_SCRAPES, "only " + scrapes + " scrapes");
        long total = 0;
        for (long n : records) {
            total += n;
        }
        assertTrue(total > 0, "recorded nothing");

        // the exact expectation, from the same values
        MetricSnapshots last = registry.scrape();
        HistogramSnapshot.HistogramDataPointSnapshot lat = Scrapes.histogram(last, "test_latency_seconds",
                Labels.EMPTY);
        Scrapes.checkConsistent(lat);
        assertEquals(total, lat.getCount());
        long sumNs = 0, okCount = 0, errorCount = 0, aCount = 0;
        List<ClassicHistogramBucket> latBuckets = new ArrayList<>();
        lat.getClassicBuckets().forEach(latBuckets::add);
        long[] expectedLat = new long[latBuckets.size()];
        for (int t = 0; t < THREADS; t++) {
            Values values = new Values(t);
            for (long i = 0; i < records[t]; i++) {
                long v = values.next();
                sumNs += v;
                if (v % 7 == 0) {
                    errorCount++;
                } else {
                    okCount++;
                }
                if (v % 2 == 0) {
                    aCount++;
                }
                for (int k = 0; k < latBuckets.size(); k++) {
                    if ((double) v / 1e9 <= latBuckets.get(k).getUpperBound()) {
                        expectedLat[k]++;
                        break;
                    }
                }
            }
        }
        for (int k = 0; k < expectedLat.length; k++) {
            assertEquals(expectedLat[k], latBuckets.get(k).getCount(),
                    "bucket le=" + latBuckets.get(k).getUpperBound());
        }
        assertEquals((double) sumNs / 1e9, lat.getSum(), 0.0);
        assertEquals(okCount, (long) Scrapes.counter(last, "test_requests", Labels.of("outcome", "ok")));
        assertEquals(errorCount, (long) Scrapes.counter(last, "test_requests", Labels.of("outcome", "error")));
        assertEquals(total, Scrapes.histogram(last, "test_size_bytes", Labels.EMPTY).getCount());
        assertEquals(aCount, Scrapes.histogram(last, "test_values", Labels.of("path", "/a")).getCount());
        assertEquals(total - aCount, Scrapes.histogram(last, "test_values", Labels.of("path", "/b")).getCount());

        String text = Scrapes.text(last);
        assertEquals(total, Scrapes.checkText(text, "test_latency_seconds", "").count());
        String okLine = text.lines().filter(l -> l.startsWith("test_requests_total{outcome=\"ok\"} ")).findFirst()
                .orElseThrow();
        assertEquals((double) okCount, Double.parseDouble(okLine.substring(okLine.indexOf(' ') + 1)), 0.0);
    }
}
