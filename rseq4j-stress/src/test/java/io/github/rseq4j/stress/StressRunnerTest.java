package io.github.rseq4j.stress;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.Rseq;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Short versions of every stress scenario in both index modes, plain and with each kind of
 * disturbance, plus an abort storm, a self-test of the membarrier check and a timeout.
 * Every run must reach its exact total. In portable mode the delay variants run without
 * delay loops (the runner says so, and the test checks that it did). The public-structure
 * scenarios and timed runs have tests of their own ({@link PublicScenariosTest}).
 */
class StressRunnerTest {
    private static final int THREADS = 8;
    private static final int REPS = 200;
    private static final long DELAY_LOOPS = 2000;

    enum Variant { PLAIN, DELAY_POINT_1, YIELD_EVERY_2, VIRTUAL_THREADS, UNREGISTERED_EVERY_3 }

    static Stream<Arguments> runs() {
        List<Arguments> a = new ArrayList<>();
        for (IndexMode mode : IndexMode.values()) {
            for (StressTest test : StressTest.values()) {
                if (test.usesPublicApi()) {
                    continue;
                }
                for (Variant v : Variant.values()) {
                    a.add(Arguments.of(test, mode, v));
                }
            }
        }
        return a.stream();
    }

    static StressConfig config(StressTest test, IndexMode mode, Variant v) {
        StressConfig c = StressConfig.of(test, mode).withThreads(THREADS).withReps(REPS)
                .withTimeout(Duration.ofSeconds(60));
        return switch (v) {
            case PLAIN -> c;
            case DELAY_POINT_1 -> c.withDelay(1, DELAY_LOOPS);
            case YIELD_EVERY_2 -> c.withYieldEvery(2);
            case VIRTUAL_THREADS -> c.withVirtualThreads(true);
            case UNREGISTERED_EVERY_3 -> c.withUnregisteredEvery(3);
        };
    }

    static StressResult run(StressConfig c, List<String> log) {
        StressResult r = new StressRunner(c, log::add).run();
        // Passing runs are logged; a failing one is explained by the assertion that checks it
        // (so a green build prints no line ending in FAIL, even from deliberate negative runs).
        if (r.passed()) {
            System.out.println(r.line());
        }
        return r;
    }

    /** How a deliberately failing run is logged: not as a failure of the build. */
    static String intended(StressResult r) {
        return r.line().replaceFirst(" FAIL$", " (failed, as this negative test intends)");
    }

    static String explain(StressResult r, List<String> log) {
        return r.line() + "\n" + String.join("\n", log);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("runs")
    void totalsAreExact(StressTest test, IndexMode mode, Variant v) {
        assumeTrue(StressRunner.unsupportedReason(mode) == null, () -> StressRunner.unsupportedReason(mode));
        StressConfig c = config(test, mode, v);
        List<String> log = new ArrayList<>();
        StressResult r = run(c, log);

        assertTrue(r.passed(), () -> explain(r, log));
        assertEquals(List.of(), r.failures(), () -> explain(r, log));
        assertEquals(r.expected(), r.actual(), () -> explain(r, log));
        long ops = (long) THREADS * REPS;
        switch (test) {
            case INCREMENT, SPINLOCK, MEMCPY, MEMBARRIER -> assertEquals(ops, r.expected(), () -> explain(r, log));
            case LIST, BUFFER -> assertTrue(r.expected() >= 8, () -> explain(r, log));
            default -> throw new AssertionError(test);
        }
        assertEquals(ops, r.operations(), () -> explain(r, log));
        assertTrue(r.line().endsWith(" PASS"), r.line());

        if (v == Variant.UNREGISTERED_EVERY_3) {
            // 2 of 8 workers: every one of their operations is a NOT_REGISTERED fallback
            long forced = (long) c.unregisteredWorkers() * REPS;
            assertEquals(2, c.unregisteredWorkers());
            assertTrue(r.fallbacks().notRegistered() >= forced, () -> "not-registered fallbacks "
                    + r.fallbacks().notRegistered() + " < " + forced + "\n" + explain(r, log));
        }
        if (v == Variant.DELAY_POINT_1) {
            if (Rseq.isRseqMode()) {
                assertTrue(r.options().contains("delay=1x" + DELAY_LOOPS), r.line());
                assertEquals(List.of(), r.notes());
            } else {
                assertFalse(r.options().contains("delay"), r.line());
                assertTrue(r.notes().stream().anyMatch(n -> n.contains("delay points need rseq mode")),
                        () -> "no note about delay points in portable mode: " + r.notes());
            }
        }
        if (!Rseq.isRseqMode()) {
            assertEquals(0, r.aborts(), r.line());
            assertTrue(r.fallbacks().portable() > 0, r.line());
        }
    }

    /**
     * A delay longer than a time slice inside every critical section, 8 threads on (here)
     * 2 CPUs: sections keep being preempted and aborted, operations give up after
     * rseq4j.maxAttempts and complete on the fallback path, and the total is still exact.
     */
    @ParameterizedTest
    @EnumSource(IndexMode.class)
    void abortStormCompletesThroughTheFallback(IndexMode mode) {
        assumeTrue(Rseq.isRseqMode(), "delay loops need rseq mode");
        assumeTrue(StressRunner.unsupportedReason(mode) == null, () -> StressRunner.unsupportedReason(mode));
        // Several time slices long even when the calibration ran on a loaded machine.
        long loops = DelayCalibration.loopsFor(Duration.ofMillis(20));
        int threads = Math.max(8, 4 * Runtime.getRuntime().availableProcessors());
        StressConfig c = StressConfig.of(StressTest.INCREMENT, mode).withThreads(threads).withReps(3)
                .withDelay(1, loops).withTimeout(Duration.ofSeconds(60));
        List<String> log = new ArrayList<>();
        StressResult r = run(c, log);
        System.out.println("abort storm: " + loops + " loops (" + DelayCalibration.nanosPerLoop() + " ns each), "
                + r.fallbacks());

        assertTrue(r.passed(), () -> explain(r, log));
        assertEquals(threads * 3L, r.actual(), () -> explain(r, log));
        assertTrue(r.aborts() > 0, () -> "no aborts: " + explain(r, log));
        assertTrue(r.fallbacks().aborted() > 0, () -> "no operation gave up after maxAttempts aborts: "
                + r.fallbacks() + "\n" + explain(r, log));
    }

    /**
     * The membarrier check can fail: with the manager's fence left out, a critical section
     * that read the old selector and sits in a delay loop before its commit changes the
     * inactive list after the flip. The same run with the fence must pass.
     */
    @ParameterizedTest
    @EnumSource(IndexMode.class)
    void membarrierCheckCatchesAMissingFence(IndexMode mode) {
        assumeTrue(Rseq.isRseqMode(), "critical sections (and fences) exist only in rseq mode");
        assumeTrue(StressRunner.unsupportedReason(mode) == null, () -> StressRunner.unsupportedReason(mode));
        long loops = DelayCalibration.loopsFor(Duration.ofMillis(1));
        StressConfig c = StressConfig.of(StressTest.MEMBARRIER, mode).withThreads(4).withReps(40)
                .withDelay(2, loops).withTimeout(Duration.ofSeconds(30));

        List<String> log = new ArrayList<>();
        StressResult fenced = run(c, log);
        assertTrue(fenced.passed(), () -> explain(fenced, log));

        // Without the fence a violation needs a section in flight on another CPU at a flip;
        // on a loaded machine (other processes keep preempting the workers, and a preempted
        // section is aborted, not caught) a run may miss it, so try for up to 25 s: 8 runs
        // (2 s) missed it once in CI's clean clone while other builds loaded the machine.
        List<String> lines = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(25).toNanos();
        for (int attempt = 0; attempt < 8 || System.nanoTime() < deadline; attempt++) {
            List<String> l = new ArrayList<>();
            StressResult r = new StressRunner(c, l::add).withoutMembarrierFence().run();
            lines.add(r.line() + " " + r.details());
            if (!r.passed()) {
                assertTrue(r.failures().stream().anyMatch(f -> f.contains("changes of the inactive list after a fence")),
                        () -> explain(r, l));
                assertEquals(r.expected(), r.actual(), "the sum stays exact; only the fence check fails");
                System.out.println("without the fence: " + intended(r) + " " + r.details());
                return;
            }
        }
        throw new AssertionError(lines.size() + " runs without the fence (25 s) all passed the membarrier check:\n"
                + String.join("\n", lines));
    }

    @Test
    void aStuckRunFailsAtTheTimeoutWithAMessage() {
        // 2 workers x 50 operations, sleeping 100 ms before each: 5 s of work, 1 s allowed
        StressConfig c = StressConfig.of(StressTest.INCREMENT, IndexMode.CPU_ID).withThreads(2).withReps(50)
                .withSleepEvery(1, 100).withTimeout(Duration.ofSeconds(1));
        List<String> log = new ArrayList<>();
        long t0 = System.nanoTime();
        StressResult r = run(c, log);
        double seconds = (System.nanoTime() - t0) / 1e9;

        assertFalse(r.passed(), () -> explain(r, log));
        assertTrue(r.line().endsWith(" FAIL"), r.line());
        assertTrue(r.failures().getFirst().startsWith("timeout after 1 s: "), () -> explain(r, log));
        assertTrue(r.failures().getFirst().contains("of 100 operations done"), () -> explain(r, log));
        assertTrue(r.actual() < 100, () -> explain(r, log));
        assertTrue(seconds < 4, "took " + seconds + " s");
    }

    /** After a timeout, nodes that workers still hold are in flight, never "lost". */
    @Test
    void aTimedOutRunDoesNotCallNodesInFlightLost() {
        StressConfig c = StressConfig.of(StressTest.BUFFER, IndexMode.CPU_ID).withThreads(4).withReps(50)
                .withSleepEvery(1, 150).withTimeout(Duration.ofSeconds(1));
        List<String> log = new ArrayList<>();
        StressResult r = run(c, log);
        assertFalse(r.passed(), () -> explain(r, log));
        assertTrue(r.failures().getFirst().startsWith("timeout after 1 s: "), () -> explain(r, log));
        for (String f : r.failures()) {
            assertFalse(f.contains("lost"), () -> "a timed-out run reported a loss: " + explain(r, log));
            assertFalse(f.contains("operations ") && f.contains("!= threads x reps"), () -> explain(r, log));
        }
        assertTrue(r.details().contains("not checked ("), () -> explain(r, log));
        assertTrue(r.details().contains("operations in flight)"), () -> explain(r, log));
    }

    @Test
    void configRejectsBadValuesClearly() {
        StressConfig c = StressConfig.of(StressTest.INCREMENT, IndexMode.CPU_ID);
        assertMessage("threads must be 1 to 4096: 0", () -> c.withThreads(0));
        assertMessage("reps must be 1 to 100000000: 0 (0, no limit, needs a duration)", () -> c.withReps(0));
        assertMessage("reps must be 1 to 100000000: -1", () -> c.withLimits(-1, Duration.ofSeconds(1)));
        assertMessage("duration must be 0 (none) to 86399 s: -1 s", () -> c.withDuration(Duration.ofSeconds(-1)));
        assertMessage("timeout (120 s) must be longer than the duration (120 s)",
                () -> c.withDuration(Duration.ofSeconds(120)));
        assertMessage("timeout (5 s) must be longer than the duration (5.5 s)",
                () -> c.withTimeout(Duration.ofSeconds(5)).withDuration(Duration.ofMillis(5500)));
        assertMessage("timeout (10 s) must be longer than the duration (20 s)",
                () -> c.withTimeout(Duration.ofSeconds(30)).withDuration(Duration.ofSeconds(20))
                        .withTimeout(Duration.ofSeconds(10)));
        assertMessage("delay point must be 1, 2 or 3 (0 for none): 4", () -> c.withDelay(4, 10));
        assertMessage("delay loops need a delay point (1, 2 or 3)", () -> c.withDelay(0, 10));
        assertMessage("delay loops must be 1 to 1000000000: 0", () -> c.withDelay(1, 0));
        assertMessage("sleep must be 1 to 10000 ms: 0", () -> c.withSleepEvery(2, 0));
        assertMessage("every must be >= 1 (0 for never): -1", () -> c.withYieldEvery(-1));
        assertMessage("unregistered-every must be >= 1 (0 for none): -2", () -> c.withUnregisteredEvery(-2));
        assertMessage("timeout must be 1 s to 24 h: 0 s", () -> c.withTimeout(Duration.ZERO));
        assertMessage("signals every 1 to 1000000 us (0 for none): -1", () -> c.withSignalsEvery(-1));
        assertMessage("unknown stress test 'bogus': use one of increment|spinlock|list|buffer|memcpy|membarrier"
                        + "|counter|pool|bufferpool|ringbuffer|histogram|series",
                () -> StressTest.parse("bogus"));
        assertMessage("unknown index mode 'numa': use cpu or mmcid", () -> StressConfig.parseIndex("numa"));
        assertEquals(IndexMode.CONCURRENCY_ID, StressConfig.parseIndex("mm_cid"));
        assertEquals(StressTest.MEMCPY, StressTest.parse("MemCpy"));
        assertEquals(StressTest.BUFFERPOOL, StressTest.parse(" bufferPool "));

        assertEquals("reps=1000 seconds=-", c.limitWords());
        assertFalse(c.timed());
        StressConfig timed = c.withDuration(Duration.ofSeconds(2));
        assertEquals("reps=- seconds=2", timed.limitWords());
        assertTrue(timed.timed() && !timed.repLimited());
        assertEquals(0, timed.reps());
        assertEquals("reps=50 seconds=0.25", c.withLimits(50, Duration.ofMillis(250)).limitWords());
        assertEquals("reps=50 seconds=-", timed.withReps(50).withLimits(50, Duration.ZERO).limitWords());
        assertEquals("86399", StressConfig.secondsWord(StressConfig.MAX_DURATION));

        StressConfig u = c.withThreads(12).withUnregisteredEvery(3);
        assertEquals(4, u.unregisteredWorkers());
        assertTrue(u.unregistered(2) && u.unregistered(11) && !u.unregistered(0) && !u.unregistered(3));
        assertEquals("delay=1x10000 every=2:yield virtual unregistered-every=3",
                u.withDelay(1, 10_000).withYieldEvery(2).withVirtualThreads(true).optionWords());
    }

    private static void assertMessage(String expected, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertEquals(expected, e.getMessage());
    }
}
