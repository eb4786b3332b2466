package io.github.rseq4j.cli;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.stress.StressConfig;
import io.github.rseq4j.stress.StressResult;
import io.github.rseq4j.stress.StressTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
        assertTrue(last.matches("stress increment index=cpu threads=4 reps=100 seconds=- ops=400 check=counter-sum"
                + " expected=400 actual=400 aborts=\\d+ fallbacks=\\d+ elapsed=\\d+\\.\\d\\ds PASS"), last);
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
        assertTrue(last.startsWith("stress list index=mmcid threads=4 reps=50 seconds=- ops=200 every=2:yield"
                + " virtual unregistered-every=2 check=nodes expected="), last);
        assertTrue(last.endsWith(" PASS"), last);
    }

    @Test
    void allRunsEveryScenarioInBothIndexModes() {
        Object[] r = run("stress", "--test", "all", "--threads", "4", "--reps", "50");
        assertEquals(0, r[0], () -> r[1] + "\nstderr: " + r[2]);
        String out = (String) r[1];
        for (String t : List.of("increment", "spinlock", "list", "buffer", "memcpy", "membarrier")) {
            assertTrue(out.contains("stress " + t + " index=cpu threads=4 reps=50 seconds=- ops=200 "),
                    t + "\n" + out);
            assertTrue(out.contains("stress " + t + " index=mmcid threads=4 reps=50 seconds=- ops=200 ")
                    || out.contains("stress " + t + " index=mmcid SKIPPED"), t + "\n" + out);
        }
        // the public structures index by CPU whatever the mode: they run once
        for (String t : List.of("counter", "pool", "bufferpool", "ringbuffer", "histogram", "series")) {
            assertTrue(out.contains("stress " + t + " index=cpu threads=4 reps=50 seconds=- ops=200 "),
                    t + "\n" + out);
            assertFalse(out.contains("stress " + t + " index=mmcid"), t + "\n" + out);
            assertTrue(out.contains("stress " + t + " index=cpu: 4 platform workers x 50 reps, "), t + "\n" + out);
        }
        assertFalse(out.contains("note:"), out);
        String last = lastLine(r);
        assertTrue(last.matches("stress all threads=4 reps=50 seconds=- runs=(18|12) passed=\\1 failed=0( skipped=6)?"
                + " aborts=\\d+ fallbacks=\\d+ elapsed=\\d+\\.\\d\\ds PASS"), last);
    }

    /** The fields every result line has, in this order; the run's options come between ops and check. */
    private static final List<String> FIELDS = List.of("index", "threads", "reps", "seconds", "ops", "check",
            "expected", "actual", "aborts", "fallbacks", "elapsed");

    /**
     * A result line's fields by name, after checking that it has every field of {@link #FIELDS}
     * in that order, with the options (and nothing else) between ops and check, and ends in
     * PASS or FAIL.
     */
    private static Map<String, String> resultFields(String line, List<String> options) {
        String[] words = line.split(" ");
        assertTrue(words.length == FIELDS.size() + options.size() + 3, line);
        assertEquals("stress", words[0], line);
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("scenario", words[1]);
        List<String> keys = new ArrayList<>();
        for (int i = 2; i < words.length - 1; i++) {
            int eq = words[i].indexOf('=');
            String key = eq < 0 ? words[i] : words[i].substring(0, eq);
            keys.add(key);
            fields.put(key, eq < 0 ? "" : words[i].substring(eq + 1));
        }
        List<String> expectedKeys = new ArrayList<>(FIELDS.subList(0, 5));
        expectedKeys.addAll(options);
        expectedKeys.addAll(FIELDS.subList(5, FIELDS.size()));
        assertEquals(expectedKeys, keys, line);
        fields.put("result", words[words.length - 1]);
        assertTrue(List.of("PASS", "FAIL").contains(fields.get("result")), line);
        assertTrue(fields.get("elapsed").matches("\\d+\\.\\d\\ds"), line);
        return fields;
    }

    @Test
    void everyScenarioPrintsTheSameFieldsInTheSameOrder() {
        Object[] r = run("stress", "--test", "all", "--threads", "2", "--reps", "20", "--every", "5", "--yield");
        assertEquals(0, r[0], () -> r[1] + "\nstderr: " + r[2]);
        List<String> results = ((String) r[1]).lines()
                .filter(l -> l.endsWith(" PASS") || l.endsWith(" FAIL")).toList();
        Set<String> seen = new LinkedHashSet<>();
        int skipped = (int) ((String) r[1]).lines().filter(l -> l.contains(" SKIPPED: ")).count();
        for (String line : results.subList(0, results.size() - 1)) {
            Map<String, String> f = resultFields(line, List.of("every"));
            StressTest test = StressTest.parse(f.get("scenario"));
            assertTrue(seen.add(test.word() + " " + f.get("index")), "one line per run: " + line);
            assertEquals("2", f.get("threads"), line);
            assertEquals("20", f.get("reps"), line);
            assertEquals("-", f.get("seconds"), line);
            assertEquals("40", f.get("ops"), line);
            assertEquals("5:yield", f.get("every"), line);
            assertEquals(test.checkWord(), f.get("check"), line);
            assertTrue(f.get("expected").matches("-?\\d+"), line);
            assertEquals(f.get("expected"), f.get("actual"), line);
            assertTrue(f.get("aborts").matches("\\d+") && f.get("fallbacks").matches("\\d+"), line);
            assertEquals("PASS", f.get("result"), line);
        }
        // 6 kernel scenarios in 2 index fields (mmcid ones skipped on a kernel without it) + 6 public ones
        assertEquals(18 - skipped, seen.size(), String.join("\n", results));
        assertTrue(results.getLast().startsWith("stress all threads=2 reps=20 seconds=- every=5:yield runs="
                + seen.size() + " passed=" + seen.size() + " failed=0"), results.getLast());
    }

    @Test
    void aRunEndedByAnExceptionPrintsTheSameFields() {
        StressConfig c = StressConfig.of(StressTest.POOL, IndexMode.CPU_ID).withThreads(3).withReps(7)
                .withYieldEvery(2);
        String line = StressResult.errorLine(c, Duration.ofMillis(12));
        Map<String, String> f = resultFields(line, List.of("every"));
        assertEquals("stress pool index=cpu threads=3 reps=7 seconds=- ops=- every=2:yield check=objects-back"
                + " expected=- actual=- aborts=- fallbacks=- elapsed=0.01s FAIL", line);
        assertEquals("FAIL", f.get("result"));
    }

    @Test
    void secondsRunsEachWorkerForADuration() {
        long t0 = System.nanoTime();
        Object[] r = run("stress", "--test", "counter", "--threads", "2", "--seconds", "1");
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, r[0], () -> r[1] + "\nstderr: " + r[2]);
        String out = (String) r[1];
        assertTrue(out.startsWith("stress counter index=cpu: 2 platform workers x 1 s, "), out);
        String last = lastLine(r);
        assertTrue(last.matches("stress counter index=cpu threads=2 reps=- seconds=1 ops=\\d+ check=sum-of-adds"
                + " expected=(-?\\d+) actual=\\1 aborts=\\d+ fallbacks=\\d+ elapsed=\\d+\\.\\d\\ds PASS"), last);
        assertTrue(seconds >= 1 && seconds < 30, "took " + seconds + " s");
    }

    @Test
    void secondsAndRepsStopAtWhicheverComesFirst() {
        Object[] r = run("stress", "--test", "increment", "--threads", "2", "--reps", "20", "--seconds", "30");
        assertEquals(0, r[0], () -> r[1] + "\nstderr: " + r[2]);
        String last = lastLine(r);
        assertTrue(last.matches("stress increment index=cpu threads=2 reps=20 seconds=30 ops=40 check=counter-sum"
                + " expected=40 actual=40"
                + " aborts=\\d+ fallbacks=\\d+ elapsed=\\d+\\.\\d\\ds PASS"), last);

        // the duration first: 5 ms sleeps before every operation, at most 200 per worker in 1 s
        Object[] t = run("stress", "--test", "ringbuffer", "--threads", "2", "--reps", "100000000", "--seconds", "1",
                "--every", "1", "--sleep-ms", "5");
        assertEquals(0, t[0], () -> t[1] + "\nstderr: " + t[2]);
        String timed = lastLine(t);
        assertTrue(timed.matches("stress ringbuffer index=cpu threads=2 reps=100000000 seconds=1 ops=(\\d{1,3})"
                + " every=1:sleep5ms check=records expected=\\1 actual=\\1 .* PASS"), timed);
    }

    @Test
    void optionsThatDoNotApplyToThePublicStructuresAreNoted() {
        Object[] r = run("stress", "--test", "pool", "--threads", "4", "--reps", "50", "--index", "mmcid",
                "--delay-point", "1", "--unregistered-every", "2");
        assertEquals(0, r[0], () -> r[1] + "\nstderr: " + r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("stress pool index=cpu: note: delay points do not apply: pool uses rseq4j's public API"),
                out);
        assertTrue(out.contains("stress pool index=cpu: note: unregistered workers do not apply: "), out);
        assertTrue(out.contains("stress pool index=cpu: note: index mode mmcid does not apply: "), out);
        String last = lastLine(r);
        assertTrue(last.startsWith("stress pool index=cpu threads=4 reps=50 seconds=- ops=200 check=objects-back"
                + " expected=2 actual=2 "), last);
        assertTrue(last.endsWith(" PASS"), last);
    }

    @Test
    void theTimeoutFollowsTheDuration() {
        assertEquals(Duration.ofSeconds(120), configs("--test", "counter").getFirst().timeout());
        List<StressConfig> runs = configs("--test", "all", "--seconds", "200");
        assertEquals(18, runs.size());
        for (StressConfig c : runs) {
            assertEquals(Duration.ofSeconds(200), c.duration());
            assertEquals(0, c.reps());
            assertEquals(Duration.ofSeconds(320), c.timeout());
        }
        assertEquals(6, runs.stream().filter(c -> c.test().usesPublicApi()).count());
        assertTrue(runs.stream().anyMatch(c -> c.test() == StressTest.HISTOGRAM), "--test all includes histogram");
        assertEquals(Duration.ofSeconds(86_400), configs("--seconds", "86399").getFirst().timeout());
        StressConfig both = configs("--test", "pool", "--seconds", "5", "--reps", "7", "--timeout-s", "6").getFirst();
        assertEquals("reps=7 seconds=5", both.limitWords());
        assertEquals(Duration.ofSeconds(6), both.timeout());
    }

    private static List<StressConfig> configs(String... args) {
        StressCommand cmd = new StressCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.configs();
    }

    @Test
    void aRunThatTimesOutFailsWithExitStatus1() {
        Object[] r = run("stress", "--test", "increment", "--threads", "2", "--reps", "50", "--every", "1",
                "--sleep-ms", "100", "--timeout-s", "1");
        assertEquals(1, r[0], () -> r[1] + "\nstderr: " + r[2]);
        assertTrue(((String) r[1]).contains("FAILED: timeout after 1 s: "), (String) r[1]);
        String last = lastLine(r);
        // the checks use the operations done: ops=, fewer than threads x reps
        assertTrue(last.matches("stress increment index=cpu threads=2 reps=50 seconds=- ops=(\\d+) every=1:sleep100ms"
                + " check=counter-sum expected=\\1 actual=\\1 .* FAIL"), last);
        assertTrue(((String) r[1]).contains(" operations done"), (String) r[1]);
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
                Arguments.of(List.of("--seconds", "0"), "--seconds must be 1 to 86399: 0"),
                Arguments.of(List.of("--seconds", "86400"), "--seconds must be 1 to 86399: 86400"),
                Arguments.of(List.of("--seconds", "10", "--timeout-s", "10"),
                        "--timeout-s 10 must be larger than --seconds 10"),
                Arguments.of(List.of("--seconds", "x"), "Invalid value for option '--seconds'"),
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
        for (String s : List.of("--test", "--delay-point", "--unregistered-every", "membarrier", "PASS or FAIL",
                "--seconds=S", "whichever", "S + 120", "counter", "pool",
                "bufferpool", "ringbuffer", "sumThenReset", "do not", "with a note")) {
            assertTrue(((String) r[1]).contains(s), s);
        }
    }
}
