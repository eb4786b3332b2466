package io.github.rseq4j.bench.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The jackson topic's rows without the harness: the names are {@code <pool>: <scenario>}
 * for every pool and scenario, and each workload, run directly for a few operations,
 * passes its check and reports its bytes per operation and (for pools that count) the
 * peak number of pooled recyclers.
 */
class JacksonSuiteTest {

    @Test
    void everyPoolHasEveryScenarioUnderOneName() {
        List<BenchCase> cases = JacksonSuite.cases();
        Set<String> pools = cases.stream().map(c -> c.name().substring(0, c.name().indexOf(": "))).collect(Collectors.toSet());
        assertTrue(pools.containsAll(Set.of("rseq4j", "ThreadLocal", "ConcurrentDeque", "LockFree", "Bounded",
                "NonRecycling", "Vert.x Hybrid")), pools.toString());
        Set<String> scenarios = Set.of("round trip small", "round trip large", "round trip small virtual",
                "round trip large virtual", "round trip small per task", "pool only", "pool only virtual");
        for (String pool : pools) {
            for (String s : scenarios) {
                assertTrue(cases.stream().anyMatch(c -> c.displayName().equals(pool + ": " + s)), pool + ": " + s);
            }
        }
        for (BenchCase c : cases) {
            assertEquals(c.group(), c.name().substring(c.name().indexOf(": ") + 2), "the group is the scenario");
            assertEquals(c.name(), c.displayName(), "names are shown as given");
            assertEquals(c.name().startsWith("rseq4j: ") ? RowKind.RSEQ4J : RowKind.ALTERNATIVE, c.kind());
        }
        assertEquals(7 * (3 + 3 + 1 + 1 + 1 + 3 + 1), cases.size());
    }

    @Test
    void theJsonRowCarriesTheWorkloadsFields() {
        BenchCase c = BenchCase.rseq4j(JacksonSuite.TOPIC, "pool only", "rseq4j: pool only", 2, false, null);
        Map<String, Object> fields = new java.util.LinkedHashMap<>();
        fields.put("bytes_per_op", 12.5);
        fields.put("peak_pooled", 7);
        fields.put("document_bytes", null);
        BenchResult r = BenchResult.measured(c, new Harness.Measurement(30, 29, 31, 15, 1_000, 3, 3_000), "ok", null,
                fields);
        MachineFacts machine = new MachineFacts("Test CPU", 2, 2, 2, "Linux", "6.8.0", "x86_64", "25", "0.1.0-test",
                "rseq", "test", "glibc", "membarrier", new MachineFacts.Fallbacks(0, 0, 0, 0, 0));
        BenchReport report = new BenchReport(machine, "1 1 1", "1 1 1", Harness.Settings.quick(), true, List.of(r),
                List.of(), Comparisons.summarize(List.of(r), List.of()));
        String json = io.github.rseq4j.cli.Json.write(JsonReport.render(report));
        assertTrue(json.contains("\"name\":\"rseq4j: pool only\""), json);
        assertTrue(json.contains("\"threads\":2"), json);
        assertTrue(json.contains("\"bytes_per_op\":12.5"), json);
        assertTrue(json.contains("\"peak_pooled\":7"), json);
        assertTrue(json.contains("\"document_bytes\":null"), json);
    }

    @Test
    void workloadsCheckAndReportBytesAndPeakPooled() throws Exception {
        for (JacksonSuite.Pool p : JacksonSuite.Pool.values()) {
            for (Workload w : List.of(JacksonSuite.roundTrips(p, JacksonSuite.SMALL), JacksonSuite.perTask(p),
                    JacksonSuite.poolOnly(p))) {
                w.beforeCase();
                try {
                    Loop loop = w.newLoop(0);
                    loop.run(50);
                } finally {
                    w.afterCase();
                }
                assertEquals("ok", w.check(50), p + " " + w);
                Map<String, Object> f = w.fields();
                assertEquals(p.row, f.get("pool"));
                assertInstanceOf(Double.class, f.get("bytes_per_op"), p + ": bytes_per_op");
                assertTrue((Double) f.get("bytes_per_op") >= 0, p + ": bytes_per_op " + f.get("bytes_per_op"));
                if (p.counts()) {
                    int peak = (Integer) f.get("peak_pooled");
                    assertTrue(peak >= (p == JacksonSuite.Pool.NON_RECYCLING ? 0 : 1), p + " peak " + peak);
                } else {
                    assertNull(f.get("peak_pooled"), p + " does not count");
                }
            }
        }
    }

    @Test
    void aLargeRoundTripWeighsAsManySmallOnesAsItIsLarger() {
        assertEquals(1, JacksonSuite.roundTrips(JacksonSuite.Pool.RSEQ4J, JacksonSuite.SMALL).opWeight());
        assertEquals(JacksonSuite.LARGE / JacksonSuite.SMALL,
                JacksonSuite.roundTrips(JacksonSuite.Pool.RSEQ4J, JacksonSuite.LARGE).opWeight());
        assertEquals(1, JacksonSuite.perTask(JacksonSuite.Pool.RSEQ4J).opWeight());
    }
}
