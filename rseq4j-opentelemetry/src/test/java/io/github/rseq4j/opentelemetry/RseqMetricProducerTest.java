package io.github.rseq4j.opentelemetry;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.HistogramGroup;
import io.github.rseq4j.HistogramSeries;
import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuHistogram;
import io.github.rseq4j.PerCpuTimer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.export.AggregationTemporalitySelector;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The producer read through the SDK's own reader ({@link InMemoryMetricReader}) on a meter
 * provider: names, units, resource, scope, attributes; values, bucket counts and
 * boundaries exactly; exponential scale, offset and counts against the OpenTelemetry
 * data model's definition computed independently; cumulative and delta temporality.
 */
@SuppressWarnings("try")     // the meter providers are opened for their readers and closed, never called
class RseqMetricProducerTest {
    private static final AttributeKey<String> ROUTE = AttributeKey.stringKey("route");
    private static final Resource RESOURCE = Resource.getDefault().merge(
            Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "rseq4j-test")));

    private static SdkMeterProvider provider(InMemoryMetricReader reader, RseqMetricProducer producer) {
        return SdkMeterProvider.builder().setResource(RESOURCE).registerMetricReader(reader)
                .registerMetricProducer(producer).build();
    }

    private static MetricData metric(Collection<MetricData> all, String name) {
        for (MetricData m : all) {
            if (m.getName().equals(name)) {
                return m;
            }
        }
        return fail("no metric " + name + " in " + all);
    }

    private static <P extends io.opentelemetry.sdk.metrics.data.PointData> P point(Collection<P> points,
                                                                                      Attributes attributes) {
        for (P p : points) {
            if (p.getAttributes().equals(attributes)) {
                return p;
            }
        }
        return fail("no point " + attributes + " in " + points);
    }

    /**
     * The OpenTelemetry bucket index of {@code num / den > 0} at {@code scale >= 0}: the
     * {@code i} with {@code base^i < x <= base^(i+1)}, base {@code 2^(2^-scale)}: the smallest
     * {@code i} with {@code x^(2^scale) <= 2^(i+1)}, in integers.
     */
    private static int otelIndex(int scale, long num, long den) {
        BigInteger a = BigInteger.valueOf(num).pow(1 << scale);
        BigInteger b = BigInteger.valueOf(den).pow(1 << scale);
        int j = a.bitLength() - b.bitLength() - 2;        // j = i + 1: smallest j with a <= b * 2^j
        while (!(j >= 0 ? a.compareTo(b.shiftLeft(j)) <= 0 : a.shiftLeft(-j).compareTo(b) <= 0)) {
            j++;
        }
        while (j - 1 >= 0 ? a.compareTo(b.shiftLeft(j - 1)) <= 0 : a.shiftLeft(1 - j).compareTo(b) <= 0) {
            j--;
        }
        return j - 1;
    }

    /** Index to count from an exponential point's positive buckets (offset + dense counts). */
    private static TreeMap<Integer, Long> buckets(ExponentialHistogramPointData p) {
        TreeMap<Integer, Long> m = new TreeMap<>();
        List<Long> c = p.getPositiveBuckets().getBucketCounts();
        for (int k = 0; k < c.size(); k++) {
            if (c.get(k) != 0) {
                m.put(p.getPositiveBuckets().getOffset() + k, c.get(k));
            }
        }
        if (!c.isEmpty()) {
            assertTrue(c.get(0) > 0 && c.get(c.size() - 1) > 0, "the list runs from the first to the last non-empty bucket");
        }
        return m;
    }

    private static long[] values(long seed, int n, long max) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] v = new long[n];
        int bits = 63 - Long.numberOfLeadingZeros(max);
        for (int i = 0; i < n; i++) {
            v[i] = switch (i % 4) {
                case 0 -> 1L << r.nextInt(bits);                  // exactly on a boundary
                case 1 -> (1L << r.nextInt(bits)) + 1;            // just above one
                default -> Math.max(1, (long) Math.exp(r.nextDouble() * Math.log(max)));
            };
        }
        return v;
    }

    @Test
    void countersAndExplicitBucketHistogramsWithResourceScopeAttributesAndUnits() {
        PerCpuCounter ok = new PerCpuCounter();
        PerCpuCounter failed = new PerCpuCounter();
        PerCpuCounter inFlight = new PerCpuCounter();
        PerCpuHistogram sizes = new PerCpuHistogram(BucketLayout.explicit(10, 100, 1000));
        ok.add(41);
        ok.increment();
        failed.add(3);
        inFlight.add(5);
        inFlight.add(-7);
        for (long v : new long[] {0, 10, 11, 100, 500, 1000, 1001, 50_000}) {
            sizes.record(v);
        }
        RseqMetricProducer producer = RseqMetricProducer.builder()
                .scope(InstrumentationScopeInfo.builder("my.library").setVersion("1.2").build())
                .counter("requests", "Requests served", "{request}", ok, Attributes.of(ROUTE, "/ok"))
                .counter("requests", "Requests served", "{request}", failed, Attributes.of(ROUTE, "/fail"))
                .upDownCounter("in.flight", "Requests in flight", "{request}", inFlight, Attributes.empty())
                .histogram("response.size", "Response sizes", "By", sizes, Attributes.of(ROUTE, "/ok"))
                .build();
        InMemoryMetricReader reader = InMemoryMetricReader.create();
        try (SdkMeterProvider provider = provider(reader, producer)) {
            Collection<MetricData> all = reader.collectAllMetrics();
            assertEquals(3, all.size());
            for (MetricData m : all) {
                assertEquals(RESOURCE, m.getResource());
                assertEquals("my.library", m.getInstrumentationScopeInfo().getName());
                assertEquals("1.2", m.getInstrumentationScopeInfo().getVersion());
            }
            MetricData requests = metric(all, "requests");
            assertEquals(MetricDataType.LONG_SUM, requests.getType());
            assertEquals("Requests served", requests.getDescription());
            assertEquals("{request}", requests.getUnit());
            assertTrue(requests.getLongSumData().isMonotonic());
            assertEquals(AggregationTemporality.CUMULATIVE, requests.getLongSumData().getAggregationTemporality());
            assertEquals(42, point(requests.getLongSumData().getPoints(), Attributes.of(ROUTE, "/ok")).getValue());
            assertEquals(3, point(requests.getLongSumData().getPoints(), Attributes.of(ROUTE, "/fail")).getValue());
            MetricData flight = metric(all, "in.flight");
            assertFalse(flight.getLongSumData().isMonotonic());
            assertEquals(-2, point(flight.getLongSumData().getPoints(), Attributes.empty()).getValue());

            MetricData size = metric(all, "response.size");
            assertEquals(MetricDataType.HISTOGRAM, size.getType());
            assertEquals("By", size.getUnit());
            HistogramPointData h = point(size.getHistogramData().getPoints(), Attributes.of(ROUTE, "/ok"));
            assertEquals(List.of(10.0, 100.0, 1000.0), h.getBoundaries());
            // (-inf, 10], (10, 100], (100, 1000], (1000, +inf): inclusive upper bounds, as OpenTelemetry's
            assertEquals(List.of(2L, 2L, 2L, 2L), h.getCounts());
            assertEquals(8, h.getCount());
            assertEquals(0 + 10 + 11 + 100 + 500 + 1000 + 1001 + 50_000, h.getSum(), 0);
            assertTrue(h.hasMin() && h.hasMax());
            assertEquals(0, h.getMin(), 0);
            assertEquals(50_000, h.getMax(), 0);

            long start = h.getStartEpochNanos();
            assertTrue(start > 0 && start <= h.getEpochNanos());
            // cumulative: the next collection has everything, from the same start, nothing reset
            sizes.record(7);
            ok.increment();
            all = reader.collectAllMetrics();
            h = point(metric(all, "response.size").getHistogramData().getPoints(), Attributes.of(ROUTE, "/ok"));
            assertEquals(List.of(3L, 2L, 2L, 2L), h.getCounts());
            assertEquals(start, h.getStartEpochNanos());
            assertEquals(43, point(metric(all, "requests").getLongSumData().getPoints(),
                    Attributes.of(ROUTE, "/ok")).getValue());
            assertEquals(9, sizes.snapshot().count(), "cumulative export resets nothing");
        }
    }

    @Test
    void exponentialLayoutsAreExponentialHistogramsWithTheSpecsIndexes() {
        PerCpuHistogram h = new PerCpuHistogram(BucketLayout.exponential(3, 1, 1L << 30));
        long[] v = values(7, 6000, 1L << 30);
        TreeMap<Integer, Long> expected = new TreeMap<>();
        long sum = 0, min = Long.MAX_VALUE, max = 0;
        for (long x : v) {
            h.record(x);
            expected.merge(otelIndex(3, x, 1), 1L, Long::sum);
            sum += x;
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        h.record(0);
        RseqMetricProducer producer = RseqMetricProducer.builder()
                .histogram("payload", "payload sizes", "By", h, Attributes.empty()).build();
        InMemoryMetricReader reader = InMemoryMetricReader.create();
        try (SdkMeterProvider provider = provider(reader, producer)) {
            MetricData m = metric(reader.collectAllMetrics(), "payload");
            assertEquals(MetricDataType.EXPONENTIAL_HISTOGRAM, m.getType());
            ExponentialHistogramPointData p = point(m.getExponentialHistogramData().getPoints(), Attributes.empty());
            assertEquals(3, p.getScale());
            assertEquals(3, p.getPositiveBuckets().getScale());
            assertEquals(1, p.getZeroCount());
            assertEquals(expected.firstKey(), p.getPositiveBuckets().getOffset());
            assertEquals(expected, buckets(p));
            assertEquals(-1, otelIndex(3, 1, 1), "1 is in (base^-1, 1]: index -1");
            assertEquals(v.length + 1, p.getCount());
            assertEquals(sum, p.getSum(), 0);
            assertEquals(0, p.getMin(), 0);
            assertEquals(max, p.getMax(), 0);
            assertTrue(p.getNegativeBuckets().getBucketCounts().isEmpty());
        }
    }

    @Test
    void exponentialTimersAreInSeconds() {
        PerCpuTimer t = new PerCpuTimer(BucketLayout.exponentialSeconds(2, Duration.ofNanos(1),
                Duration.ofSeconds(100)));
        long[] v = values(8, 3000, 100_000_000_000L);
        TreeMap<Integer, Long> expected = new TreeMap<>();
        long sum = 0;
        for (long x : v) {
            t.record(x, TimeUnit.NANOSECONDS);
            expected.merge(otelIndex(2, x, 1_000_000_000L), 1L, Long::sum);
            sum += x;
        }
        RseqMetricProducer producer = RseqMetricProducer.builder()
                .timer("rpc.duration", "RPC latency", t, Attributes.of(ROUTE, "get")).build();
        InMemoryMetricReader reader = InMemoryMetricReader.create();
        try (SdkMeterProvider provider = provider(reader, producer)) {
            MetricData m = metric(reader.collectAllMetrics(), "rpc.duration");
            assertEquals("s", m.getUnit());
            ExponentialHistogramPointData p = point(m.getExponentialHistogramData().getPoints(),
                    Attributes.of(ROUTE, "get"));
            assertEquals(2, p.getScale());
            assertEquals(0, p.getZeroCount());
            assertEquals(expected, buckets(p));
            assertEquals(sum / 1e9, p.getSum(), 1e-6);
            assertEquals(v.length, p.getCount());
        }
    }

    /** A series of a HistogramGroup is a Histogram like any other: exported the same way, cumulative and delta. */
    @Test
    void seriesOfAHistogramGroupAreExportedToo() {
        HistogramGroup group = new HistogramGroup();
        HistogramSeries a = group.newSeries(BucketLayout.exponential(2, 1, 1 << 20));
        HistogramSeries b = group.newSeries(BucketLayout.explicit(10, 100));
        for (long v : new long[] {1, 2, 3, 4, 1000}) {
            a.record(v);
        }
        b.record(50);
        b.record(500);
        InMemoryMetricReader reader = InMemoryMetricReader.createDelta();
        RseqMetricProducer producer = RseqMetricProducer.builder().temporality(reader)
                .histogram("a", "a", "", a, Attributes.empty())
                .histogram("b", "b", "", b, Attributes.empty())
                .build();
        try (SdkMeterProvider provider = provider(reader, producer)) {
            Collection<MetricData> all = reader.collectAllMetrics();
            ExponentialHistogramPointData pa = point(metric(all, "a").getExponentialHistogramData().getPoints(),
                    Attributes.empty());
            TreeMap<Integer, Long> expected = new TreeMap<>();
            for (long v : new long[] {1, 2, 3, 4, 1000}) {
                expected.merge(otelIndex(2, v, 1), 1L, Long::sum);
            }
            assertEquals(expected, buckets(pa));
            assertEquals(1010, pa.getSum(), 0);
            HistogramPointData pb = point(metric(all, "b").getHistogramData().getPoints(), Attributes.empty());
            assertEquals(List.of(0L, 1L, 1L), pb.getCounts());
            b.record(5);
            all = reader.collectAllMetrics();
            assertEquals(0, point(metric(all, "a").getExponentialHistogramData().getPoints(), Attributes.empty())
                    .getCount(), "delta: the series was reset");
            assertEquals(List.of(1L, 0L, 0L), point(metric(all, "b").getHistogramData().getPoints(),
                    Attributes.empty()).getCounts());
        } finally {
            group.close();
        }
    }

    @Test
    void deltaWhenTheReaderAsksForIt() {
        PerCpuCounter requests = new PerCpuCounter();
        PerCpuCounter inFlight = new PerCpuCounter();
        PerCpuHistogram sizes = new PerCpuHistogram(BucketLayout.explicit(10, 100));
        PerCpuHistogram exp = new PerCpuHistogram(BucketLayout.exponential(0, 1, 1 << 20));
        InMemoryMetricReader reader = InMemoryMetricReader.builder()
                .setAggregationTemporalitySelector(AggregationTemporalitySelector.deltaPreferred()).build();
        RseqMetricProducer producer = RseqMetricProducer.builder()
                .temporality(reader)
                .counter("requests", "r", "", requests, Attributes.empty())
                .upDownCounter("in.flight", "f", "", inFlight, Attributes.empty())
                .histogram("sizes", "s", "By", sizes, Attributes.empty())
                .histogram("exp", "e", "", exp, Attributes.empty())
                .build();
        try (SdkMeterProvider provider = provider(reader, producer)) {
            requests.add(5);
            inFlight.add(3);
            sizes.record(5);
            sizes.record(50);
            exp.record(4);
            exp.record(1000);
            Collection<MetricData> first = reader.collectAllMetrics();
            LongPointData r1 = metric(first, "requests").getLongSumData().getPoints().iterator().next();
            assertEquals(AggregationTemporality.DELTA, metric(first, "requests").getLongSumData()
                    .getAggregationTemporality());
            assertEquals(5, r1.getValue());
            // an up-down counter stays cumulative: the SDK's delta preference asks for that
            assertEquals(AggregationTemporality.CUMULATIVE, metric(first, "in.flight").getLongSumData()
                    .getAggregationTemporality());
            HistogramPointData s1 = metric(first, "sizes").getHistogramData().getPoints().iterator().next();
            assertEquals(List.of(1L, 1L, 0L), s1.getCounts());
            assertEquals(5, s1.getMin(), 0);
            assertEquals(50, s1.getMax(), 0);
            ExponentialHistogramPointData e1 = metric(first, "exp").getExponentialHistogramData().getPoints()
                    .iterator().next();
            assertEquals(AggregationTemporality.DELTA, metric(first, "exp").getExponentialHistogramData()
                    .getAggregationTemporality());
            assertEquals(2, e1.getCount());

            requests.add(2);
            inFlight.add(-1);
            sizes.record(500);
            Collection<MetricData> second = reader.collectAllMetrics();
            LongPointData r2 = metric(second, "requests").getLongSumData().getPoints().iterator().next();
            assertEquals(2, r2.getValue(), "only what was added since the last collection");
            assertEquals(r1.getEpochNanos(), r2.getStartEpochNanos(), "a delta starts where the previous one ended");
            assertEquals(2, metric(second, "in.flight").getLongSumData().getPoints().iterator().next().getValue());
            HistogramPointData s2 = metric(second, "sizes").getHistogramData().getPoints().iterator().next();
            assertEquals(List.of(0L, 0L, 1L), s2.getCounts());
            assertEquals(500, s2.getMin(), 0, "each interval has its own min and max");
            assertEquals(500, s2.getMax(), 0);
            assertEquals(s1.getEpochNanos(), s2.getStartEpochNanos());
            ExponentialHistogramPointData e2 = metric(second, "exp").getExponentialHistogramData().getPoints()
                    .iterator().next();
            assertEquals(0, e2.getCount());
            assertFalse(e2.hasMin());
            assertTrue(e2.getPositiveBuckets().getBucketCounts().isEmpty());
            assertEquals(0, sizes.snapshot().count(), "delta takes the records out");
        }
    }

    /** Delta collections while threads record: every record is in exactly one collection. */
    @Test
    void deltaCollectionsUnderConcurrentRecordingLoseAndDuplicateNothing() throws Exception {
        PerCpuCounter counter = new PerCpuCounter();
        PerCpuHistogram histogram = new PerCpuHistogram(BucketLayout.exponential(2, 1, 1 << 16));
        InMemoryMetricReader reader = InMemoryMetricReader.createDelta();
        RseqMetricProducer producer = RseqMetricProducer.builder().temporality(reader)
                .counter("c", "c", "", counter, Attributes.empty())
                .histogram("h", "h", "", histogram, Attributes.empty())
                .build();
        int threads = 4, perThread = 50_000;
        long[] sums = new long[threads];
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers.add(Thread.ofPlatform().start(() -> {
                SplittableRandom r = new SplittableRandom(id);
                try {
                    start.await();
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
                for (int i = 0; i < perThread; i++) {
                    long v = 1 + r.nextInt(1 << 16);
                    histogram.record(v);
                    counter.increment();
                    sums[id] += v;
                }
            }));
        }
        long count = 0, collected = 0, buckets = 0;
        double sum = 0;
        int collections = 0;
        try (SdkMeterProvider provider = provider(reader, producer)) {
            AtomicBoolean done = new AtomicBoolean();
            start.countDown();
            while (!done.get()) {
                done.set(workers.stream().noneMatch(Thread::isAlive));
                Collection<MetricData> all = reader.collectAllMetrics();
                collections++;
                collected += metric(all, "c").getLongSumData().getPoints().iterator().next().getValue();
                ExponentialHistogramPointData p = metric(all, "h").getExponentialHistogramData().getPoints()
                        .iterator().next();
                count += p.getCount();
                sum += p.getSum();
                for (long c : p.getPositiveBuckets().getBucketCounts()) {
                    buckets += c;
                }
                assertEquals(p.getCount(), p.getZeroCount() + p.getPositiveBuckets().getBucketCounts().stream()
                        .mapToLong(Long::longValue).sum(), "count == buckets, in every delta");
            }
        }
        for (Thread w : workers) {
            w.join();
        }
        long total = (long) threads * perThread, expectedSum = 0;
        for (long s : sums) {
            expectedSum += s;
        }
        assertTrue(collections >= 2, "collections ran while recording: " + collections);
        assertEquals(total, collected);
        assertEquals(total, count);
        assertEquals(total, buckets);
        assertEquals(expectedSum, sum, 0, "sums of integers below 2^53 are exact in doubles");
    }

    @Test
    void badDefinitionsAreRejected() {
        PerCpuCounter c = new PerCpuCounter();
        PerCpuHistogram exp = new PerCpuHistogram(BucketLayout.exponential(3, 1, 1000));
        assertThrows(IllegalArgumentException.class, () -> RseqMetricProducer.builder().build(), "nothing");
        assertThrows(IllegalArgumentException.class,
                () -> RseqMetricProducer.builder().counter("1abc", "d", "", c, Attributes.empty()));
        assertThrows(IllegalArgumentException.class,
                () -> RseqMetricProducer.builder().counter("a b", "d", "", c, Attributes.empty()));
        assertThrows(IllegalArgumentException.class,
                () -> RseqMetricProducer.builder().counter("ok", "d", "\u00b5s", c, Attributes.empty()));
        assertThrows(NullPointerException.class,
                () -> RseqMetricProducer.builder().counter("ok", "d", "", c, null));
        assertThrows(IllegalArgumentException.class, () -> RseqMetricProducer.builder()
                .counter("a", "d", "", c, Attributes.empty())
                .counter("a", "d", "", new PerCpuCounter(), Attributes.empty()), "same attributes twice");
        assertThrows(IllegalArgumentException.class, () -> RseqMetricProducer.builder()
                .counter("a", "d", "", c, Attributes.empty())
                .upDownCounter("a", "d", "", new PerCpuCounter(), Attributes.of(ROUTE, "x")), "another kind");
        assertThrows(IllegalArgumentException.class, () -> RseqMetricProducer.builder()
                .counter("a", "d", "", c, Attributes.empty())
                .counter("a", "other", "", new PerCpuCounter(), Attributes.of(ROUTE, "x")), "another description");
        // exponential layouts: boundaries in the exported unit, zero bucket holding only 0
        PerCpuTimer nanos = new PerCpuTimer(BucketLayout.exponential(3, 1L << 40));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RseqMetricProducer.builder().timer("t", "d", nanos, Attributes.empty()));
        assertTrue(e.getMessage().contains("exponentialSeconds"), e.getMessage());
        PerCpuHistogram seconds = new PerCpuHistogram(BucketLayout.exponentialSeconds(3, Duration.ofNanos(1),
                Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class,
                () -> RseqMetricProducer.builder().histogram("h", "d", "s", seconds, Attributes.empty()));
        PerCpuHistogram above1 = new PerCpuHistogram(BucketLayout.exponential(3, 100, 1000));
        e = assertThrows(IllegalArgumentException.class,
                () -> RseqMetricProducer.builder().histogram("h", "d", "", above1, Attributes.empty()));
        assertTrue(e.getMessage().contains("zero bucket"), e.getMessage());
        assertNotNull(RseqMetricProducer.builder().histogram("h", "d", "", exp, Attributes.empty()).build());
    }
}
