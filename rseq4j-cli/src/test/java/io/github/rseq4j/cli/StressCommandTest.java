package io.github.rseq4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StressCommandTest {

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

    private static String lastLine(Object[] r) {
        List<String> lines = ((String) r[1]).lines().toList();
        return lines.isEmpty() ? "" : lines.getLast();
    }

    @Test
    void oneTestPassesWithExactCounts() {
        Object[] r = run("stress", "--test", "increment", "--threads", "4", "--reps", "100");
        assertEquals(0, r[0], () -> r[1] + "\nstderr: " + r[2]);
        String last = lastLine(r);
        assertTrue(last.matches("stress increment index=cpu threads=4 reps=100 expected=400 actual=400 aborts=\\d+"
                + " fallbacks=\\d+ elapsed=\\d+\\.\\d\\ds PASS"), last);
    }

    @Test
    void optionsShowInTheLastLine() {
        Object[] r = run("stress", "--test", "list", "--index", "mmcid", "--threads", "4", "--reps", "50",
                "--every", "2", "--yield", "--virtual", "--unregistered-every", "2");
        String last = lastLine(r);
        if (((String) r[2]).contains("needs mm_cid")) {
            assertEquals(2, r[0], (String) r[2]); // a kernel without mm_cid
            return;
        }
        assertEquals(0, r[0], () -> r[1] + "\nstderr: " + r[2]);
        assertTrue(last.startsWith("stress list index=mmcid threads=4 reps=50 every=2:yield virtual"
                + " unregistered-every=2 expected="), last);
        assertTrue(last.endsWith(" PASS"), last);
    }

    @Test
    void allRunsEveryScenarioInBothIndexModes() {
        Object[] r = run("stress", "--test", "all", "--threads", "4", "--reps", "50");
        assertEquals(0, r[0], () -> r[1] + "\nstderr: " + r[2]);
        String out = (String) r[1];
        for (String t : List.of("increment", "spinlock", "list", "buffer", "memcpy", "membarrier")) {
            assertTrue(out.contains("stress " + t + " index=cpu threads=4 reps=50 "), t + "\n" + out);
            assertTrue(out.contains("stress " + t + " index=mmcid threads=4 reps=50 ")
                    || out.contains("stress " + t + " index=mmcid SKIPPED"), t + "\n" + out);
        }
        String last = lastLine(r);
        assertTrue(last.matches("stress all threads=4 reps=50 runs=(12|6) passed=\\1 failed=0( skipped=6)?"
                + " aborts=\\d+ fallbacks=\\d+ elapsed=\\d+\\.\\d\\ds PASS"), last);
    }

    @Test
    void aRunThatTimesOutFailsWithExitStatus1() {
        Object[] r = run("stress", "--test", "increment", "--threads", "2", "--reps", "50", "--every", "1",
                "--sleep-ms", "100", "--timeout-s", "1");
        assertEquals(1, r[0], () -> r[1] + "\nstderr: " + r[2]);
        assertTrue(((String) r[1]).contains("FAILED: timeout after 1 s: "), (String) r[1]);
        String last = lastLine(r);
        assertTrue(last.startsWith("stress increment index=cpu threads=2 reps=50 every=1:sleep100ms expected=100 "),
                last);
        assertTrue(last.endsWith(" FAIL"), last);
    }

    static Stream<Arguments> badArguments() {
        return Stream.of(
                Arguments.of(List.of("--test", "bogus"), "unknown stress test 'bogus'"),
                Arguments.of(List.of("--index", "numa"), "unknown index mode 'numa'"),
                Arguments.of(List.of("--threads", "0"), "threads must be 1 to 4096: 0"),
                Arguments.of(List.of("--reps", "0"), "reps must be 1 to"),
                Arguments.of(List.of("--every", "2"), "--every 2 needs --yield or --sleep-ms S"),
                Arguments.of(List.of("--yield"), "--yield needs --every M"),
                Arguments.of(List.of("--every", "2", "--yield", "--sleep-ms", "1"), "exclude each other"),
                Arguments.of(List.of("--delay-loops", "10"), "--delay-loops needs --delay-point"),
                Arguments.of(List.of("--delay-point", "4"), "delay point must be 1, 2 or 3"),
                Arguments.of(List.of("--timeout-s", "0"), "--timeout-s must be 1 to 86400"),
                Arguments.of(List.of("--threads", "x"), "Invalid value for option '--threads'"),
                Arguments.of(List.of("--frobnicate"), "Unknown option: '--frobnicate'"));
    }

    @ParameterizedTest
    @MethodSource("badArguments")
    void badArgumentsExitWith2AndSayWhy(List<String> args, String message) {
        String[] a = Stream.concat(Stream.of("stress"), args.stream()).toArray(String[]::new);
        Object[] r = run(a);
        assertEquals(2, r[0], () -> r[1] + "\nstderr: " + r[2]);
        assertTrue(((String) r[2]).contains(message), (String) r[2]);
        assertEquals("", r[1]);
    }

    @Test
    void helpListsTheScenarios() {
        Object[] r = run("stress", "--help");
        assertEquals(0, r[0]);
        for (String s : List.of("--test", "--delay-point", "--unregistered-every", "membarrier", "PASS or FAIL")) {
            assertTrue(((String) r[1]).contains(s), s);
        }
    }
}
