package io.github.rseq4j.prometheus;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.PerCpuHistogram;
import io.github.rseq4j.PerCpuTimer;
import io.prometheus.metrics.expositionformats.PrometheusProtobufWriter;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.NativeHistogramBucket;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Native histograms: schema, zero bucket and bucket counts against an independent, exact
 * reference (integer powers, no logarithms), through the model and through client_java's
 * protobuf exposition as a scraper receives it.
 */
class NativeHistogramTest {

    /**
     * The native bucket index of {@code num / den > 0} at {@code schema}: the smallest
     * {@code i} with {@code num/den <= 2^(i / 2^schema)}, that is
     * {@code (num/den)^(2^schema) <= 2^i}, in integers (schema >= 0).
     */
    private static int referenceIndex(int schema, long num, long den) {
        BigInteger a = BigInteger.valueOf(num).pow(1 << schema);
        BigInteger b = BigInteger.valueOf(den).pow(1 << schema);
        // smallest i with a <= b * 2^i (i may be negative: a * 2^-i <= b)
        int i = a.bitLength() - b.bitLength() - 2;
        while (!fits(a, b, i)) {
            i++;
        }
        while (fits(a, b, i - 1)) {
            i--;
        }
        return i;
    }

    private static boolean fits(BigInteger a, BigInteger b, int i) {
        return i >= 0 ? a.compareTo(b.shiftLeft(i)) <= 0 : a.shiftLeft(-i).compareTo(b) <= 0;
    }

    /** Native index to count, from the model. */
    private static TreeMap<Integer, Long> buckets(HistogramDataPointSnapshot p) {
        TreeMap<Integer, Long> m = new TreeMap<>();
        for (NativeHistogramBucket b : p.getNativeBucketsForPositiveValues()) {
            assertTrue(b.getCount() > 0, "empty buckets are left out");
            assertEquals(null, m.put(b.getBucketIndex(), b.getCount()), "one entry per index");
        }
        return m;
    }

    private static long[] values(long seed, int n, long max) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            // log-uniform over 1..max, plus exact powers of two and their neighbours (bucket boundaries)
            v[i] = switch (i % 4) {
                case 0 -> 1L << r.nextInt(63 - Long.numberOfLeadingZeros(max));
                case 1 -> (1L << r.nextInt(63 - Long.numberOfLeadingZeros(max))) + 1;
                default -> Math.max(1, (long) Math.exp(r.nextDouble() * Math.log(max)));
            };
        }
        return v;
    }

    @Test
    void exponentialBucketsAreTheNativeBucketsWithTheirCounts() {
        PerCpuHistogram h = new PerCpuHistogram(BucketLayout.exponential(3, 1, 1L << 20));
        long[] v = values(1, 5000, 1L << 20);
        TreeMap<Integer, Long> expected = new TreeMap<>();
        long sum = 0;
        for (long x : v) {
            h.record(x);
            expected.merge(referenceIndex(3, x, 1), 1L, Long::sum);
            sum += x;
        }
        h.record(0);
        h.record(0);
        PrometheusRegistry registry = new PrometheusRegistry();
        RseqCollector.builder().nativeHistogram("sizes_bytes", "sizes", h, "pool", "a").register(registry);
        MetricSnapshots s = registry.scrape();
        HistogramDataPointSnapshot p = Scrapes.histogram(s, "sizes_bytes", Labels.of("pool", "a"));

        assertTrue(p.hasNativeHistogramData());
        assertFalse(p.hasClassicHistogramData(), "native only");
        assertEquals(3, p.getNativeSchema());
        assertEquals(2, p.getNativeZeroCount());
        assertEquals(Math.pow(2, -1 / 8.0), p.getNativeZeroThreshold(), 0, "base^-1: the zero bucket holds 0 only");
        assertEquals(expected, buckets(p));
        assertEquals(5002, p.getCount());
        assertEquals(sum, p.getSum(), 0);
    }

    @Test
    void scalesAbove8AreMergedExactlyToSchema8() {
        PerCpuHistogram h = new PerCpuHistogram(BucketLayout.exponential(10, 1000, 1_000_000));
        long[] v = values(2, 4000, 1_000_000);
        TreeMap<Integer, Long> expected = new TreeMap<>();
        long zero = 0;
        for (long x : v) {
            h.record(x);
            if (x < 1000 && referenceIndex(10, x, 1) < referenceIndex(10, 1000, 1)) {
                zero++;                                        // below the bucket of lowest: zero bucket
            } else {
                expected.merge(referenceIndex(8, x, 1), 1L, Long::sum);
            }
        }
        PrometheusRegistry registry = new PrometheusRegistry();
        RseqCollector.builder().nativeHistogram("fine", "fine", h).register(registry);
        HistogramDataPointSnapshot p = Scrapes.histogram(registry.scrape(), "fine", Labels.EMPTY);
        assertEquals(8, p.getNativeSchema());
        assertTrue(zero > 0 && zero < v.length, "the test reaches the zero bucket and the others: " + zero);
        assertEquals(zero, p.getNativeZeroCount());
        // the zero threshold: the upper boundary of the bucket below that of 1000, at scale 10
        int first = referenceIndex(10, 1000, 1);
        assertEquals(Math.pow(2, (first - 1) / 1024.0), p.getNativeZeroThreshold(), 1e-9);
        assertTrue(p.getNativeZeroThreshold() < 1000);
        assertEquals(expected, buckets(p));
    }

    @Test
    void timersAreNativeHistogramsInSecondsWithClassicBucketsBesideThem() throws IOException {
        PerCpuTimer t = new PerCpuTimer(BucketLayout.exponentialSeconds(2, Duration.ofNanos(1000),
                Duration.ofSeconds(100)));
        long[] v = values(3, 3000, 100_000_000_000L);
        TreeMap<Integer, Long> expected = new TreeMap<>();
        long zero = 0, sum = 0;
        int first = referenceIndex(2, 1000, 1_000_000_000L);
        for (long x : v) {
            t.record(x, TimeUnit.NANOSECONDS);
            sum += x;
            int i = referenceIndex(2, x, 1_000_000_000L);
            if (i < first) {
                zero++;
            } else {
                expected.merge(i, 1L, Long::sum);
            }
        }
        PrometheusRegistry registry = new PrometheusRegistry();
        RseqCollector.builder()
                .nativeTimer("rpc_seconds", "rpc latency", t, ClassicBounds.powersOfTwo(), "method", "get")
                .register(registry);
        MetricSnapshots s = registry.scrape();
        HistogramDataPointSnapshot p = Scrapes.histogram(s, "rpc_seconds", Labels.of("method", "get"));
        assertTrue(zero > 0, "the test reaches the zero bucket");
        assertEquals(2, p.getNativeSchema());
        assertEquals(zero, p.getNativeZeroCount());
        assertEquals(Math.pow(2, (first - 1) / 4.0), p.getNativeZeroThreshold(), 1e-18);
        assertEquals(expected, buckets(p));
        assertEquals(sum / 1e9, p.getSum(), 1e-6);
        long[] cumulative = Scrapes.checkConsistent(p);             // classic buckets beside them
        assertEquals(v.length, cumulative[cumulative.length - 1]);

        // The protobuf exposition, as a scraper parses it: one histogram with both kinds of buckets.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PrometheusProtobufWriter().write(out, s);
        ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());
        Metrics.MetricFamily f = Metrics.MetricFamily.parseDelimitedFrom(in);
        assertEquals("rpc_seconds", f.getName());
        assertEquals(Metrics.MetricType.HISTOGRAM, f.getType());
        Metrics.Histogram ph = f.getMetric(0).getHistogram();
        assertEquals(2, ph.getSchema());
        assertEquals(v.length, ph.getSampleCount());
        assertEquals(sum / 1e9, ph.getSampleSum(), 1e-6);
        assertEquals(zero, ph.getZeroCount());
        assertEquals(cumulative.length, ph.getBucketCount(), "classic buckets in the protobuf too");
        assertEquals(expected, decodeSpans(ph));
        assertEquals(null, Metrics.MetricFamily.parseDelimitedFrom(in), "one family");
    }

    /** Index to count from protobuf spans and delta-encoded counts, as Prometheus decodes them. */
    private static TreeMap<Integer, Long> decodeSpans(Metrics.Histogram h) {
        TreeMap<Integer, Long> m = new TreeMap<>();
        int index = 0, k = 0;
        long count = 0;
        for (Metrics.BucketSpan span : h.getPositiveSpanList()) {
            index += span.getOffset();
            for (int j = 0; j < span.getLength(); j++, index++) {
                count += h.getPositiveDelta(k++);
                if (count != 0) {
                    m.put(index, count);
                }
            }
        }
        assertEquals(h.getPositiveDeltaCount(), k, "one delta per bucket of the spans");
        return m;
    }

    @Test
    void theTextFormatShowsTheClassicBucketsOrOnlyCountAndSum() {
        PerCpuHistogram both = new PerCpuHistogram(BucketLayout.exponential(0, 1, 1024));
        PerCpuHistogram only = new PerCpuHistogram(BucketLayout.exponential(0, 1, 1024));
        for (long x : new long[] {1, 2, 3, 4, 100}) {
            both.record(x);
            only.record(x);
        }
        PrometheusRegistry registry = new PrometheusRegistry();
        RseqCollector.builder()
                .nativeHistogram("both", "both", both, ClassicBounds.every())
                .nativeHistogram("only", "only", only)
                .register(registry);
        String text = Scrapes.text(registry.scrape());
        Scrapes.TextHistogram b = Scrapes.checkText(text, "both", "");
        assertEquals(5, b.count());
        assertEquals(110, b.sum(), 0);
        assertEquals(1L, b.buckets().get("1.0"));
        assertEquals(2L, b.buckets().get("2.0"));
        assertEquals(4L, b.buckets().get("4.0"));
        assertEquals(5L, b.buckets().get("128.0"));
        assertTrue(text.contains("only_count 5\n"), text);
        assertTrue(text.contains("only_sum 110.0\n"), text);
    }

    @Test
    void layoutsThatAreNoNativeHistogramAreRefusedWhenDefined() {
        List<Runnable> bad = new ArrayList<>();
        PerCpuHistogram logLinear = new PerCpuHistogram(BucketLayout.logLinear(1 << 20, 3));
        bad.add(() -> RseqCollector.builder().nativeHistogram("a", "a", logLinear));
        PerCpuHistogram coarse = new PerCpuHistogram(BucketLayout.exponential(-5, 1L << 40));
        bad.add(() -> RseqCollector.builder().nativeHistogram("b", "b", coarse));
        PerCpuHistogram inSeconds = new PerCpuHistogram(BucketLayout.exponentialSeconds(3,
                Duration.ofNanos(1), Duration.ofSeconds(1)));
        bad.add(() -> RseqCollector.builder().nativeHistogram("c", "c", inSeconds));
        PerCpuTimer nanos = new PerCpuTimer(BucketLayout.exponential(3, 1L << 40));
        bad.add(() -> RseqCollector.builder().nativeTimer("d_seconds", "d", nanos));
        PerCpuTimer explicit = new PerCpuTimer();
        bad.add(() -> RseqCollector.builder().nativeTimer("e_seconds", "e", explicit));
        for (Runnable r : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
            assertTrue(e.getMessage().contains("exponential") || e.getMessage().contains("schemas"), e.getMessage());
        }
        PerCpuTimer ok = new PerCpuTimer(BucketLayout.exponentialSeconds(3, Duration.ofNanos(1),
                Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class,
                () -> RseqCollector.builder().nativeTimer("no_unit", "f", ok), "the name must end in _seconds");
        assertThrows(IllegalArgumentException.class,
                () -> RseqCollector.builder().nativeTimer("f_seconds", "f", ok, ClassicBounds.of(0.3)),
                "0.3 s is no bucket bound");
    }
}
