package io.github.rseq4j.bench.cli;

import io.github.rseq4j.cli.Json;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The three renderers on one synthetic report (nothing is measured). */
class ReportsTest {

    private static final MachineFacts MACHINE = new MachineFacts("Test CPU 3000", 2, 4, 4, "Linux", "6.8.0",
            "x86_64", "25 (Test VM, Test vendor)", "0.1.0-test", "rseq", "kernel rseq registered", "glibc",
            "membarrier", new MachineFacts.Fallbacks(0, 0, 0, 0, 0));

    private static BenchResult row(BenchCase c, double ns) {
        return BenchResult.measured(c, new Harness.Measurement(ns, ns * 0.9, ns * 1.1, ns / c.threads(), 10_000, 3,
                30_000), "ok", null);
    }

    private static BenchReport report() {
        List<BenchResult> rows = Comparisons.compare(List.of(
                row(BenchCase.rseq4j("ring", "ring write", "PerCpuRingBuffer", 1, false, null), 7.0),
                row(BenchCase.alternative("ring", "ring write", "Agrona ManyToOneRingBuffer", 1, false, null), 2.38),
                row(BenchCase.alternative("ring", "ring write", "ConcurrentLinkedQueue", 1, false, null)
                        .asReference(), 20.0),
                row(BenchCase.rseq4j("ring", "ring write", "PerCpuRingBuffer", 2, false, null), 7.0),
                row(BenchCase.alternative("ring", "ring write", "Agrona ManyToOneRingBuffer", 2, false, null), 12.6),
                row(BenchCase.alternative("ring", "ring write", "ConcurrentLinkedQueue", 2, false, null)
                        .asReference(), 30.0)));
        return new BenchReport(MACHINE, "0.50 0.40 0.30", "0.90 0.50 0.30", Harness.Settings.quick(), true, rows,
                List.of(), Comparisons.summarize(rows, List.of()));
    }

    @Test
    void textOpensWithTheMachineAndTheSummary() {
        String text = TextReport.render(report(), "-");
        assertTrue(text.startsWith("rseq4j bench - Test CPU 3000"), text);
        assertTrue(text.contains("Java 25 (Test VM, Test vendor)"), text);
        assertTrue(text.contains("load average (1, 5, 15 min): 0.50 0.40 0.30 at start, 0.90 0.50 0.30 at end"),
                text);
        int summary = text.indexOf("summary - rseq4j against the fastest alternative");
        int table = text.indexOf("ring write - alternatives:");
        assertTrue(summary > 0 && table > summary, text);
        assertTrue(text.contains("vs Agrona ManyToOneRingBuffer (2.38 ns/op)  PerCpuRingBuffer 2.9x slower"), text);
        assertTrue(text.contains("vs Agrona ManyToOneRingBuffer (12.6 ns/op)  PerCpuRingBuffer 1.8x faster"), text);
        assertTrue(text.contains("rseq4j wins 1, loses 1, ties 0"), text);
        assertTrue(text.contains("(best alternative)"), text);
        assertFalse(text.contains("2.94x"), "no bare time ratio: " + text);
    }

    @Test
    void htmlHasTheSummaryFirstColourCodedWithALegend() {
        String html = HtmlReport.render("rseq4j bench", report());
        int summary = html.indexOf("<h2>summary");
        int chart = html.indexOf("<svg");
        assertTrue(summary > 0 && chart > summary, "summary before the charts");
        assertTrue(html.contains("<span class=\"v loss\">PerCpuRingBuffer: 2.9x slower</span>"), html);
        assertTrue(html.contains("<span class=\"v win\">PerCpuRingBuffer: 1.8x faster</span>"), html);
        assertTrue(html.contains("Colours:"), "legend");
        assertTrue(html.contains("best alternative at that thread count"), "bar legend");
        assertTrue(html.contains("Test CPU 3000") && html.contains("Java 25 (Test VM, Test vendor)")
                && html.contains("0.90 0.50 0.30"), "machine, JDK and load average");
        assertFalse(html.contains("<script"));
    }

    @Test
    void jsonKeepsTheOldFieldsAndAddsTheComparison() {
        Map<String, Object> root = JsonReport.render(report()).members();
        List<Object> results = ((Json.Arr) root.get("results")).elements();
        Map<String, Object> rseq = ((Json.Obj) results.get(0)).members();
        for (String old : List.of("name", "threads", "ns_per_op", "topic", "group", "virtual", "baseline", "ratio",
                "ns_per_op_min", "ns_per_op_max", "aggregate_ns_per_op", "ops_per_thread", "runs", "check", "note")) {
            assertTrue(rseq.containsKey(old), old);
        }
        assertEquals("rseq4j", rseq.get("kind"));
        assertEquals("ConcurrentLinkedQueue", rseq.get("baseline"));
        assertEquals(7.0 / 20.0, (Double) rseq.get("ratio"), 1e-12);
        assertEquals("Agrona ManyToOneRingBuffer", rseq.get("best_alternative"));
        assertEquals(2.38, (Double) rseq.get("best_alternative_ns_per_op"), 1e-12);
        assertEquals(7.0 / 2.38, (Double) rseq.get("ratio_vs_best"), 1e-12);
        assertEquals("loss", rseq.get("verdict"));
        assertEquals("2.9x slower", rseq.get("vs_best"));

        Map<String, Object> agrona = ((Json.Obj) results.get(1)).members();
        assertEquals("alternative", agrona.get("kind"));
        assertEquals(1.0, (Double) agrona.get("ratio_vs_best"), 1e-12);
        assertNull(agrona.get("verdict"));

        Map<String, Object> summary = ((Json.Obj) root.get("summary")).members();
        assertEquals(1L, summary.get("wins"));
        assertEquals(1L, summary.get("losses"));
        assertEquals(2, ((Json.Arr) summary.get("comparisons")).elements().size());
        Map<String, Object> machine = ((Json.Obj) root.get("machine")).members();
        assertEquals("0.50 0.40 0.30", machine.get("load_average_start"));
        assertEquals("6.8.0", machine.get("kernel"));
    }
}
