package io.github.rseq4j.prometheus;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBucket;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Helpers: find data points in a scrape, check classic histograms, render the text format. */
final class Scrapes {
    private Scrapes() {
    }

    static MetricSnapshot family(MetricSnapshots s, String name) {
        for (MetricSnapshot m : s) {
            if (m.getMetadata().getPrometheusName().equals(name)) {
                return m;
            }
        }
        return null;
    }

    static HistogramSnapshot.HistogramDataPointSnapshot histogram(MetricSnapshots s, String name, Labels labels) {
        HistogramSnapshot h = (HistogramSnapshot) family(s, name);
        assertNotNull(h, name);
        for (HistogramSnapshot.HistogramDataPointSnapshot p : h.getDataPoints()) {
            if (p.getLabels().equals(labels)) {
                return p;
            }
        }
        return fail("no data point " + name + labels);
    }

    static double counter(MetricSnapshots s, String name, Labels labels) {
        CounterSnapshot c = (CounterSnapshot) family(s, name);
        assertNotNull(c, name);
        for (CounterSnapshot.CounterDataPointSnapshot p : c.getDataPoints()) {
            if (p.getLabels().equals(labels)) {
                return p.getValue();
            }
        }
        return fail("no data point " + name + labels);
    }

    /**
     * Checks one classic histogram data point as a scraper sees it: cumulative buckets
     * never decrease, the last one is +Inf and equals the count, the count equals the sum
     * of the increments. Returns the cumulative counts.
     */
    static long[] checkConsistent(HistogramSnapshot.HistogramDataPointSnapshot p) {
        assertTrue(p.hasClassicHistogramData(), "classic data");
        assertTrue(p.hasCount(), "count");
        List<Long> cumulative = new ArrayList<>();
        long previous = 0;
        double previousBound = Double.NEGATIVE_INFINITY;
        long increments = 0;
        for (ClassicHistogramBucket b : p.getClassicBuckets()) {
            assertTrue(b.getUpperBound() > previousBound, "bounds increase");
            previousBound = b.getUpperBound();
            // ClassicHistogramBuckets holds per-bucket (non-cumulative) counts
            long c = b.getCount();
            assertTrue(c >= 0, "bucket count " + c);
            increments += c;
            long cum = previous + c;
            assertTrue(cum >= previous, "cumulative never decreases");
            cumulative.add(cum);
            previous = cum;
        }
        assertEquals(Double.POSITIVE_INFINITY, previousBound, "last bucket is +Inf");
        assertEquals(p.getCount(), previous, "_count == +Inf bucket");
        assertEquals(p.getCount(), increments, "_count == sum of increments");
        long[] out = new long[cumulative.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = cumulative.get(i);
        }
        return out;
    }

    static String text(MetricSnapshots s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** One histogram series of a text exposition: the bucket lines ({@code le} to cumulative count) and _count. */
    record TextHistogram(java.util.LinkedHashMap<String, Long> buckets, long count, double sum) {}

    /**
     * Parses the series of {@code name} whose label block (without {@code le}) is
     * {@code labels} (e.g. {@code ""} or {@code path="/a"}) from a Prometheus text
     * exposition, and checks it as a scraper would: buckets cumulative and non-decreasing,
     * last {@code +Inf} equal to {@code _count}.
     */
    static TextHistogram checkText(String text, String name, String labels) {
        java.util.LinkedHashMap<String, Long> buckets = new java.util.LinkedHashMap<>();
        Long count = null;
        Double sum = null;
        String prefix = labels.isEmpty() ? "" : labels + ",";
        String plain = labels.isEmpty() ? "" : "{" + labels + "}";
        for (String line : text.split("\n")) {
            if (line.startsWith(name + "_bucket{" + prefix + "le=\"")) {
                int q = line.indexOf('"', (name + "_bucket{" + prefix + "le=\"").length());
                String le = line.substring((name + "_bucket{" + prefix + "le=\"").length(), q);
                buckets.put(le, Long.parseLong(line.substring(line.lastIndexOf(' ') + 1)));
            } else if (line.startsWith(name + "_count" + plain + " ")) {
                count = Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
            } else if (line.startsWith(name + "_sum" + plain + " ")) {
                sum = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        assertNotNull(count, name + "_count" + plain + " in\n" + text);
        assertNotNull(sum, name + "_sum" + plain);
        assertTrue(buckets.size() >= 1, "buckets of " + name);
        long previous = 0;
        double previousLe = Double.NEGATIVE_INFINITY;
        String last = null;
        for (var e : buckets.entrySet()) {
            double le = e.getKey().equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(e.getKey());
            assertTrue(le > previousLe, "le increases: " + e.getKey());
            assertTrue(e.getValue() >= previous, name + " cumulative buckets never decrease: " + buckets);
            previous = e.getValue();
            previousLe = le;
            last = e.getKey();
        }
        assertEquals("+Inf", last, "last bucket is +Inf");
        assertEquals(count.longValue(), previous, name + "_count == +Inf bucket");
        return new TextHistogram(buckets, count, sum);
    }
}
