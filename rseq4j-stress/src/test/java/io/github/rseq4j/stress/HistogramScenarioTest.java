package io.github.rseq4j.stress;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.Rseq;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.github.rseq4j.stress.StressRunnerTest.explain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The histogram scenario, short: plain, with each delay point (the engine built with the
 * run's delayed operations), with signals (alone and with delay point 2, where a signal
 * lands inside a long section), with yields, on virtual threads; index mode mmcid goes ahead by
 * CPU with a note; and a self-test showing that an untallied record fails the checks.
 */
class HistogramScenarioTest {
    private static final int THREADS = 8;
    /** Enough records per CPU to fill, switch and fold every log many times. */
    private static final int REPS = 3000;

    static Stream<Arguments> runs() {
        List<Arguments> a = new ArrayList<>();
        for (String v : List.of("plain", "delay1", "delay2", "delay3", "signals", "signals-delay2", "yield", "virtual")) {
            a.add(Arguments.of(v));
        }
        return a.stream();
    }

    private static StressConfig config(String variant) {
        StressConfig c = StressConfig.of(StressTest.HISTOGRAM, IndexMode.CPU_ID).withThreads(THREADS).withReps(REPS)
                .withTimeout(Duration.ofSeconds(60));
        return switch (variant) {
            case "plain" -> c;
            case "delay1" -> c.withDelay(1, 2000);
            case "delay2" -> c.withDelay(2, 2000);
            case "delay3" -> c.withDelay(3, 2000);
            case "signals" -> c.withSignalsEvery(20);
            case "signals-delay2" -> c.withSignalsEvery(20).withDelay(2, 2000);
            case "yield" -> c.withYieldEvery(2);
            case "virtual" -> c.withVirtualThreads(true);
            default -> throw new AssertionError(variant);
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("runs")
    void everyIntervalIsWholeAndTheTotalsAreExact(String variant) {
        StressConfig c = config(variant);
        List<String> log = new ArrayList<>();
        StressResult r = StressRunnerTest.run(c, log);
        assertTrue(r.passed(), () -> explain(r, log));
        assertEquals(List.of(), r.failures(), () -> explain(r, log));
        assertEquals((long) THREADS * REPS, r.operations(), () -> explain(r, log));
        assertEquals(r.expected(), r.actual(), () -> explain(r, log));
        assertTrue(r.expected() > (long) THREADS * REPS, "record(v, n) adds n: " + r.line());
        assertTrue(r.details().contains("intervals="), r.details());
        if (c.signalMicros() != 0) {
            assertTrue(r.details().matches(".*signals=[1-9]\\d*.*"), "signals reached the workers: " + r.details());
        }
        if (c.delayPoint() != 0) {
            if (Rseq.isRseqMode()) {
                assertTrue(r.options().contains("delay"), "the engine ran the delayed operations: " + r.line());
                assertEquals(List.of(), r.notes());
                if (c.delayPoint() < 3) {   // point 3 is after the commit, outside the section: nothing to abort
                    assertTrue(r.aborts() > 0, "delay loops inside the sections make them abort: " + r.line());
                }
            } else {
                assertTrue(r.notes().stream().anyMatch(n -> n.contains("delay points need rseq mode")),
                        () -> String.valueOf(r.notes()));
            }
        }
    }

    /** Index mode mmcid does not apply: the engine's memory is indexed by CPU; the run says so. */
    @Test
    void indexModeMmcidRunsByCpuWithANote() {
        StressConfig c = StressConfig.of(StressTest.HISTOGRAM, IndexMode.CONCURRENCY_ID).withThreads(4).withReps(500);
        List<String> log = new ArrayList<>();
        StressResult r = StressRunnerTest.run(c, log);
        assertTrue(r.passed(), () -> explain(r, log));
        assertEquals(IndexMode.CPU_ID, r.indexMode());
        assertTrue(r.notes().stream().anyMatch(n -> n.startsWith("index mode mmcid does not apply")),
                () -> String.valueOf(r.notes()));
    }

    /** One record the worker does not tally: the totals come out one too high, and the run fails. */
    @Test
    void theChecksCatchAnUntalliedRecord() {
        StressConfig c = StressConfig.of(StressTest.HISTOGRAM, IndexMode.CPU_ID).withThreads(4).withReps(500);
        List<String> log = new ArrayList<>();
        StressResult r = new StressRunner(c, log::add).withFault(Fault.EXTRA_ADD).run();
        System.out.println("EXTRA_ADD: " + StressRunnerTest.intended(r) + " " + r.details());
        assertFalse(r.passed(), () -> explain(r, log));
        assertEquals(r.expected() + 1, r.actual(), () -> explain(r, log));
        assertTrue(r.failures().stream().anyMatch(f -> f.contains("(counted twice or one too many)")),
                () -> explain(r, log));
        assertTrue(r.failures().stream().anyMatch(f -> f.startsWith("bucket 1: ")), () -> explain(r, log));
    }
}
