package io.github.rseq4j.stress;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.Rseq;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.github.rseq4j.stress.StressRunnerTest.explain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The series scenario (many histogram series on one per-CPU path, closed and replaced while
 * recorded), short: plain, with a delay point inside the section, with signals, on virtual
 * threads; and a self-test showing that an untallied record fails the checks.
 */
class SeriesScenarioTest {
    private static final int THREADS = 8;
    /** Enough records per CPU to fill, switch and fold the 1,024-entry logs many times. */
    private static final int REPS = 20_000;

    private static StressConfig config(String variant) {
        StressConfig c = StressConfig.of(StressTest.SERIES, IndexMode.CPU_ID).withThreads(THREADS).withReps(REPS)
                .withTimeout(Duration.ofSeconds(60));
        return switch (variant) {
            case "plain" -> c;
            case "delay2" -> c.withDelay(2, 2000);
            case "signals" -> c.withSignalsEvery(20);
            case "virtual" -> c.withVirtualThreads(true);
            default -> throw new AssertionError(variant);
        };
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"plain", "delay2", "signals", "virtual"})
    void everyIntervalIsWholeAndEveryRecordCountedOnce(String variant) {
        StressConfig c = config(variant);
        List<String> log = new ArrayList<>();
        StressResult r = StressRunnerTest.run(c, log);
        assertTrue(r.passed(), () -> explain(r, log));
        assertEquals(List.of(), r.failures(), () -> explain(r, log));
        assertEquals((long) THREADS * REPS, r.operations(), () -> explain(r, log));
        assertEquals(r.expected(), r.actual(), () -> explain(r, log));
        assertTrue(r.details().matches(".*replaced=[1-9]\\d*.*"), "series were closed and replaced: " + r.details());
        if (c.delayPoint() != 0 && Rseq.isRseqMode()) {
            assertTrue(r.options().contains("delay"), "the engine ran the delayed operations: " + r.line());
            assertTrue(r.aborts() > 0, "delay loops inside the sections make them abort: " + r.line());
        }
    }

    /** One record the worker does not tally: the totals come out one too high, and the run fails. */
    @Test
    void theChecksCatchAnUntalliedRecord() {
        StressConfig c = StressConfig.of(StressTest.SERIES, IndexMode.CPU_ID).withThreads(4).withReps(500);
        List<String> log = new ArrayList<>();
        StressResult r = new StressRunner(c, log::add).withFault(Fault.EXTRA_ADD).run();
        assertFalse(r.passed(), () -> explain(r, log));
        assertEquals(r.expected() + 1, r.actual(), () -> explain(r, log));
        assertTrue(r.failures().stream().anyMatch(f -> f.contains("(counted twice or one too many)")),
                () -> explain(r, log));
    }
}
