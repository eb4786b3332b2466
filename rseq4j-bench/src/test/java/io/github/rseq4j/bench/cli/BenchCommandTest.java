package io.github.rseq4j.bench.cli;

import io.github.rseq4j.cli.Main;
import io.github.rseq4j.cli.MiniJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code rseq4j bench}, run in-process with {@code --quick} and a topic filter so the
 * whole class stays well under 30 seconds.
 */
class BenchCommandTest {

    /** Runs the CLI in-process; returns {exit code, stdout, stderr}. */
    private static Object[] run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int rc = cl.execute(args);
        return new Object[] {rc, out.toString(), err.toString()};
    }

    private static double number(Object o) {
        if (o instanceof Long l) {
            return l;
        }
        return assertInstanceOf(BigDecimal.class, o).doubleValue();
    }

    @Test
    void quickJsonHasTheRequiredRows() {
        Object[] r = run("bench", "--quick", "--json", "--only", "counter,cpu", "--runs", "2");
        assertEquals(0, r[0], () -> "stdout: " + r[1] + "\nstderr: " + r[2]);
        Map<?, ?> root = assertInstanceOf(Map.class, MiniJson.parse((String) r[1]));
        List<?> results = assertInstanceOf(List.class, root.get("results"));
        assertInstanceOf(Map.class, root.get("machine"));
        assertTrue(List.of("rseq", "portable").contains(root.get("mode")), String.valueOf(root.get("mode")));

        for (String name : List.of("rseq4j add", "AtomicLong", "LongAdder")) {
            for (long threads : new long[] {1, 2}) {
                Map<?, ?> row = results.stream().map(x -> (Map<?, ?>) x)
                        .filter(x -> name.equals(x.get("name")) && Long.valueOf(threads).equals(x.get("threads")))
                        .findFirst().orElseThrow(() -> new AssertionError("no row " + name + " x" + threads
                                + " in " + r[1]));
                double ns = number(row.get("ns_per_op"));
                assertTrue(Double.isFinite(ns) && ns > 0, name + ": " + ns);
                assertEquals("ok", row.get("check"), name + " x" + threads + ": the counter lost updates");
            }
        }
        // the rest of the counter topic: PerCpuCounter, 8 threads, virtual threads
        assertTrue(results.stream().anyMatch(x -> "rseq4j counter".equals(((Map<?, ?>) x).get("name"))), r[1]::toString);
        assertTrue(results.stream().anyMatch(x -> "rseq4j add (virtual)".equals(((Map<?, ?>) x).get("name"))
                && Long.valueOf(8).equals(((Map<?, ?>) x).get("threads"))), r[1]::toString);
        assertTrue(results.stream().anyMatch(x -> "Rseq.currentCpu()".equals(((Map<?, ?>) x).get("name"))),
                r[1]::toString);
        // ratios: the baseline row of each group is exactly 1
        Map<?, ?> atomic = results.stream().map(x -> (Map<?, ?>) x)
                .filter(x -> "AtomicLong".equals(x.get("name"))).findFirst().orElseThrow();
        assertEquals(1.0, number(atomic.get("ratio")), 1e-9);
        // each rseq4j row against the fastest alternative: AtomicLong or LongAdder, never the control row
        assertEquals("alternative", atomic.get("kind"));
        for (Object x : results) {
            Map<?, ?> row = (Map<?, ?>) x;
            if ("rseq4j".equals(row.get("kind"))) {
                assertTrue(List.of("win", "loss", "same").contains(row.get("verdict")), row::toString);
                assertTrue(number(row.get("ratio_vs_best")) > 0, row::toString);
                assertInstanceOf(String.class, row.get("vs_best"));
                if ("counter".equals(row.get("topic"))) {
                    String best = String.valueOf(row.get("best_alternative")).replace(" (virtual)", "");
                    assertTrue(List.of("AtomicLong", "LongAdder").contains(best), row::toString);
                }
            }
        }
        assertInstanceOf(Map.class, root.get("summary"));
    }

    @Test
    void ringTopicHasAgronaAsAnAlternativeWithItsCountChecked() {
        Object[] r = run("bench", "--quick", "--json", "--only", "ring", "--runs", "1");
        assertEquals(0, r[0], () -> "stdout: " + r[1] + "\nstderr: " + r[2]);
        Map<?, ?> root = assertInstanceOf(Map.class, MiniJson.parse((String) r[1]));
        List<?> results = assertInstanceOf(List.class, root.get("results"));
        for (long threads : new long[] {1, 2}) {
            for (String name : List.of("PerCpuRingBuffer", "Agrona ManyToOneRingBuffer", "ConcurrentLinkedQueue")) {
                Map<?, ?> row = results.stream().map(x -> (Map<?, ?>) x)
                        .filter(x -> name.equals(x.get("name")) && Long.valueOf(threads).equals(x.get("threads")))
                        .findFirst().orElseThrow(() -> new AssertionError("no row " + name + " x" + threads));
                assertEquals("ok", row.get("check"), name + " x" + threads + ": records lost");
                assertEquals(name.equals("PerCpuRingBuffer") ? "rseq4j" : "alternative", row.get("kind"));
                if (name.equals("PerCpuRingBuffer")) {
                    assertTrue(List.of("Agrona ManyToOneRingBuffer", "ConcurrentLinkedQueue")
                            .contains(row.get("best_alternative")), row::toString);
                }
            }
        }
    }

    @Test
    void seriesTopicHasEveryLibraryAtEveryThreadCountWithItsHeapPerSeries() {
        Object[] r = run("bench", "--quick", "--json", "--only", "series", "--series", "300", "--runs", "1");
        assertEquals(0, r[0], () -> "stdout: " + r[1] + "\nstderr: " + r[2]);
        Map<?, ?> root = assertInstanceOf(Map.class, MiniJson.parse((String) r[1]));
        List<?> results = assertInstanceOf(List.class, root.get("results"));
        List<String> prefixes = List.of("rseq4j series", "rseq4j Micrometer series", "Micrometer Timer series", "Prometheus Histogram series",
                "OpenTelemetry histogram series", "HdrHistogram Recorder series");
        assertEquals(prefixes.size() * 4, results.size(), r[1]::toString);
        for (String prefix : prefixes) {
            for (Object[] at : new Object[][] {{1L, false}, {2L, false}, {8L, false}, {8L, true}}) {
                Map<?, ?> row = results.stream().map(x -> (Map<?, ?>) x)
                        .filter(x -> String.valueOf(x.get("name")).startsWith(prefix) && at[0].equals(x.get("threads"))
                                && at[1].equals(x.get("virtual")))
                        .findFirst().orElseThrow(() -> new AssertionError("no row " + prefix + " x" + at[0]));
                assertEquals("series", row.get("topic"));
                assertEquals("ok", row.get("check"), row::toString);
                assertEquals(300L, row.get("series"));
                assertTrue(number(row.get("heap_bytes_per_series")) > 0, row::toString);
                assertTrue(number(row.get("ns_per_op")) > 0, row::toString);
                assertEquals(prefix.startsWith("rseq4j") ? "rseq4j" : "alternative", row.get("kind"));
            }
        }
        // the memory rows of 300 series, beside each other
        List<?> memory = assertInstanceOf(List.class, root.get("memory"));
        assertEquals(prefixes.size(), memory.size(), memory::toString);
        for (Object x : memory) {
            Map<?, ?> m = (Map<?, ?>) x;
            assertEquals("series", m.get("unit"));
            assertEquals(300L, m.get("series"));
            assertEquals("ok", m.get("check"));
            assertEquals(number(m.get("heap_bytes_per_series")), number(m.get("retained_heap_bytes_per_series")));
            assertTrue(prefixes.stream().anyMatch(p -> String.valueOf(m.get("name")).startsWith(p)), m::toString);
        }
    }

    @Test
    void htmlReportIsSelfContainedWithCharts(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub/report.html");
        Object[] r = run("bench", "--quick", "--only", "counter,memory", "--runs", "1", "--counters", "2000",
                "--html", file.toString());
        assertEquals(0, r[0], () -> "stdout: " + r[1] + "\nstderr: " + r[2]);
        String table = (String) r[1];
        // "vs base" (a bare time ratio) became "vs best alternative" (in words)
        assertTrue(table.contains("rseq4j add") && table.contains("vs best alternative")
                && table.contains("bytes per counter") && table.contains("summary"), table);
        assertTrue(Files.exists(file));
        String html = Files.readString(file);
        assertTrue(html.startsWith("<!DOCTYPE html>"), html);
        assertTrue(html.contains("<svg"), "no chart");
        for (String name : List.of("rseq4j add", "AtomicLong", "LongAdder", "rseq4j counter")) {
            assertTrue(html.contains(name), name);
        }
        // nothing loaded from elsewhere
        assertFalse(html.contains("<script"), "script");
        assertFalse(html.matches("(?s).*(src|href)=\"https?:.*"), "external resource");
        assertNotEquals(-1, html.indexOf("</html>"));
    }

    @Test
    void unknownTopicIsAUsageError() {
        Object[] r = run("bench", "--only", "nonsense");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("unknown topic"), (String) r[2]);
    }
}
