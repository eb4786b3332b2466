package io.github.rseq4j.cli;

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
        assertTrue(List.of("rseq", "fallback").contains(root.get("mode")), String.valueOf(root.get("mode")));

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
    }

    @Test
    void htmlReportIsSelfContainedWithCharts(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub/report.html");
        Object[] r = run("bench", "--quick", "--only", "counter,memory", "--runs", "1", "--counters", "2000",
                "--html", file.toString());
        assertEquals(0, r[0], () -> "stdout: " + r[1] + "\nstderr: " + r[2]);
        String table = (String) r[1];
        assertTrue(table.contains("rseq4j add") && table.contains("vs base") && table.contains("bytes per counter"),
                table);
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
