package io.github.rseq4j.bench.cli;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The series topic's rows, buckets, checks and heap figures, without timing anything. */
class SeriesSuiteTest {

    /** The row names the issue asks for, as prefixes. */
    static final List<String> PREFIXES = List.of("rseq4j series", "rseq4j Micrometer series", "Micrometer Timer series", "Prometheus Histogram series",
            "OpenTelemetry histogram series", "HdrHistogram Recorder series");

    @Test
    void rowsHaveTheAgreedNamesKindsAndThreadCounts() {
        List<BenchCase> cases = Suites.cases(List.of("series"), 10);
        assertTrue(Suites.isTopic("series"));
        assertEquals(4 * PREFIXES.size(), cases.size());
        for (int k = 0; k < 4; k++) {
            boolean virtual = k == 3;
            int t = virtual ? 8 : new int[] {1, 2, 8}[k];
            List<BenchCase> at = cases.stream().filter(c -> c.threads() == t && c.virtual() == virtual).toList();
            List<String> names = at.stream().map(BenchCase::name).toList();
            for (String prefix : PREFIXES) {
                assertEquals(1, names.stream().filter(n -> n.startsWith(prefix)).count(), prefix + " in " + names);
            }
            assertTrue(at.stream().allMatch(c -> c.kind() == (c.name().startsWith("rseq4j") ? RowKind.RSEQ4J
                    : RowKind.ALTERNATIVE) && c.topic().equals("series") && c.group().equals(SeriesSuite.GROUP)),
                    at::toString);
            assertEquals(1, at.stream().filter(BenchCase::reference).count());
        }
    }

    @Test
    void everyLibraryUsesTheSixtyNineBucketsOfMicrometersTimerHistogram() {
        assertEquals(69, SeriesSuite.LAYOUT.bucketCount());
        assertEquals(68, SeriesSuite.BOUNDS_NANOS.length);

        // Micrometer's own percentile-histogram bounds are the layout's
        Timer timer = SeriesSuite.micrometerTimer(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), 0);
        timer.record(5, TimeUnit.MILLISECONDS);
        CountAtBucket[] buckets = timer.takeSnapshot().histogramCounts();
        assertEquals(SeriesSuite.BOUNDS_NANOS.length, buckets.length);
        for (int i = 0; i < buckets.length; i++) {
            assertEquals((double) SeriesSuite.BOUNDS_NANOS[i], buckets[i].bucket(TimeUnit.NANOSECONDS), "bound " + i);
        }

        // Prometheus: the same bounds in seconds, plus +Inf
        var prometheus = SeriesSuite.prometheusHistogram();
        prometheus.labelValues("s0").observe(0.005);
        var classic = prometheus.collect().getDataPoints().getFirst().getClassicBuckets();
        assertEquals(69, classic.size());
        for (int i = 0; i < 68; i++) {
            assertEquals(SeriesSuite.BOUNDS_NANOS[i] / 1e9, classic.getUpperBound(i), "bound " + i);
        }

        // OpenTelemetry: the same bounds in nanoseconds
        HistogramSuite.PullReader reader = new HistogramSuite.PullReader();
        SeriesSuite.openTelemetryHistogram(reader, 1).record(5_000_000, Attributes.empty());
        List<Double> boundaries = new ArrayList<>();
        for (MetricData m : reader.collect()) {
            for (HistogramPointData p : m.getHistogramData().getPoints()) {
                boundaries.addAll(p.getBoundaries());
            }
        }
        assertEquals(68, boundaries.size());
        for (int i = 0; i < 68; i++) {
            assertEquals((double) SeriesSuite.BOUNDS_NANOS[i], boundaries.get(i), "bound " + i);
        }
    }

    @Test
    void everyRowCountsEveryRecordAndReportsItsHeapPerSeries() throws Exception {
        int series = 400;
        Map<String, BenchCase> byName = new LinkedHashMap<>();
        for (BenchCase c : Suites.cases(List.of("series"), series)) {
            byName.putIfAbsent(c.name(), c);
        }
        for (BenchCase c : byName.values()) {
            Workload w = c.workload().get();
            int threads = 3;
            long perThread = 5_000;
            // in two calls: the cursor carries on where the first call stopped
            HistogramSuiteTest.runOnThreads(w, threads, loop -> {
                loop.run(perThread / 2);
                loop.run(perThread - perThread / 2);
            });
            assertEquals("ok", w.check(threads * perThread), c.name());
            String note = w.note();
            assertTrue(note.contains(" B heap per series (400 series, each recorded once)"), c.name() + ": " + note);
            Map<String, Object> f = w.fields();
            assertEquals(series, f.get("series"));
            double heap = assertInstanceOf(Double.class, f.get(SeriesSuite.HEAP_FIELD), c.name());
            // every library keeps at least 69 counters of 8 bytes per series (heap readings
            // agree within 64 KiB, i.e. 164 B per series here)
            assertTrue(heap > 69 * 8 - 164, c.name() + ": " + heap + " B per series");
        }
    }

    @Test
    void memoryRowsComeInTheirOwnUnitAndAreComparedOnlyWithEachOther() {
        List<MemorySuite.MemoryResult> rows = SeriesSuite.memory(400);
        assertEquals(PREFIXES.size(), rows.size());
        for (MemorySuite.MemoryResult m : rows) {
            assertEquals("series", m.unit());
            assertEquals(400, m.count());
            assertEquals("ok", m.check(), m.name());
            assertEquals(m.retainedHeapPerUnit() + m.nativePerUnit(), m.totalPerUnit());
            // only rseq4j keeps memory off the heap: its group's per-CPU logs, spread over the series
            assertEquals(m.name().startsWith("rseq4j"), m.nativePerUnit() > 0, m.name());
        }
        MemorySuite.MemoryResult counter = new MemorySuite.MemoryResult("AtomicLong", MemorySuite.COUNTER, 1000,
                "hammered", 64, 24, 24, 0, 24, List.of(), "", "ok", RowKind.ALTERNATIVE, null);
        List<MemorySuite.MemoryResult> all = new ArrayList<>(rows);
        all.add(0, counter);
        for (MemorySuite.MemoryResult m : Comparisons.compareMemory(all)) {
            // a 24-byte AtomicLong is never the best alternative for a series
            assertTrue(m.vsBest().bestAlternative().equals("AtomicLong") == m.unit().equals("counter"), m::toString);
        }
    }
}
