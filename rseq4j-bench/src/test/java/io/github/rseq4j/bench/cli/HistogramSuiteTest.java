package io.github.rseq4j.bench.cli;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The histogram topic's rows, values, checks and notes, without timing anything. */
class HistogramSuiteTest {

    @Test
    void rowsHaveTheAgreedNamesKindsAndThreadCounts() {
        List<BenchCase> cases = Suites.cases(List.of("histogram"));
        assertEquals(3 * 8, cases.size());
        for (int t : new int[] {1, 2, 8}) {
            List<BenchCase> at = cases.stream().filter(c -> c.threads() == t).toList();
            assertEquals(1, at.stream().filter(c -> c.kind() == RowKind.RSEQ4J).count());
            assertEquals(1, at.stream().filter(c -> c.kind() == RowKind.CONTROL).count());
            List<String> names = at.stream().map(BenchCase::name).toList();
            for (String prefix : List.of("rseq4j histogram", "HdrHistogram Recorder", "HdrHistogram ConcurrentHistogram",
                    "Prometheus Histogram", "Micrometer Timer", "OpenTelemetry histogram", "Dropwizard Histogram")) {
                assertEquals(1, names.stream().filter(n -> n.startsWith(prefix)).count(), prefix + " in " + names);
            }
            assertTrue(at.stream().filter(c -> !c.name().startsWith("rseq4j") && c.kind() != RowKind.CONTROL)
                    .allMatch(c -> c.kind() == RowKind.ALTERNATIVE));
            assertTrue(at.stream().allMatch(c -> !c.virtual() && c.topic().equals("histogram")));
        }
        assertTrue(Suites.isTopic("histogram"));
    }

    @Test
    void valuesAreLogUniformOverOneMicrosecondToTenSecondsAndFixed() {
        assertEquals(4096, HistogramSuite.NANOS.length);
        int below1ms = 0;
        for (int i = 0; i < HistogramSuite.VALUES; i++) {
            long v = HistogramSuite.NANOS[i];
            assertTrue(v >= 1_000 && v <= 10_000_000_000L, "value " + v);
            assertEquals(v / 1e9, HistogramSuite.SECONDS[i]);
            if (v < 1_000_000) {
                below1ms++;
            }
        }
        // log-uniform over 7 decades: 3 of them (1 us to 1 ms) hold about 3/7 of the values
        assertTrue(below1ms > 4096 * 3 / 7 - 200 && below1ms < 4096 * 3 / 7 + 200, "below 1 ms: " + below1ms);
    }

    @Test
    void everyRowCountsEveryRecordAndReportsItsSnapshotCost() throws Exception {
        Map<String, BenchCase> byName = new LinkedHashMap<>();
        for (BenchCase c : Suites.cases(List.of("histogram"))) {
            byName.putIfAbsent(c.name(), c);
        }
        for (BenchCase c : byName.values()) {
            Workload w = c.workload().get();
            int threads = 3;
            long perThread = 5_000;
            runOnThreads(w, threads, loop -> loop.run(perThread));
            String check = w.check(threads * perThread);
            if (c.kind() == RowKind.CONTROL) {
                assertNull(check, c.name());
                continue;
            }
            assertEquals("ok", check, c.name());
            String note = w.note();
            assertTrue(note.contains("snapshot "), c.name() + ": " + note);
            assertTrue(note.contains(" B per histogram") || note.contains("memory not measured"), note);
        }
    }

    /** Runs {@code body} with worker {@code i}'s loop on platform thread {@code i}, all at once; waits for them. */
    static void runOnThreads(Workload w, int threads, java.util.function.Consumer<Loop> body)
            throws InterruptedException {
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Loop loop = w.newLoop(i);
            ts.add(Thread.ofPlatform().start(() -> body.accept(loop)));
        }
        for (Thread t : ts) {
            t.join();
        }
    }
}
