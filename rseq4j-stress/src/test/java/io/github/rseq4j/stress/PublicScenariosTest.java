package io.github.rseq4j.stress;

import io.github.rseq4j.IndexMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.github.rseq4j.stress.StressRunnerTest.explain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The public-structure scenarios (counter, pool, bufferpool, ringbuffer) with each
 * disturbance; timed runs ({@code --seconds}) of those and of two kernel scenarios; both
 * limits at once; and self-tests showing that each public scenario's checks catch a
 * deliberate error. They use only the public API, so they run in every mode (rseq, own
 * registration, portable) and need no mm_cid.
 */
class PublicScenariosTest {
    private static final int THREADS = 8;
    private static final int REPS = 200;

    static Stream<Arguments> runs() {
        List<Arguments> a = new ArrayList<>();
        for (StressTest test : StressTest.values()) {
            if (test.usesPublicApi() && !test.takesDelayPoints()) {    // histogram: HistogramScenarioTest
                for (StressRunnerTest.Variant v : StressRunnerTest.Variant.values()) {
                    a.add(Arguments.of(test, v));
                }
            }
        }
        return a.stream();
    }

    private static StressResult run(StressConfig c, List<String> log) {
        return StressRunnerTest.run(c, log);
    }

    private static StressResult run(StressConfig c, Fault fault, List<String> log) {
        StressResult r = new StressRunner(c, log::add).withFault(fault).run();
        System.out.println(fault + ": " + StressRunnerTest.intended(r) + " " + r.details());
        return r;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("runs")
    void totalsAreExact(StressTest test, StressRunnerTest.Variant v) {
        StressConfig c = StressRunnerTest.config(test, IndexMode.CPU_ID, v);
        List<String> log = new ArrayList<>();
        StressResult r = run(c, log);

        assertTrue(r.passed(), () -> explain(r, log));
        assertEquals(List.of(), r.failures(), () -> explain(r, log));
        assertEquals(r.expected(), r.actual(), () -> explain(r, log));
        assertEquals((long) THREADS * REPS, r.operations(), () -> explain(r, log));
        switch (test) {
            case COUNTER -> assertTrue(r.details().contains("intervals="), r.details());
            case POOL, BUFFERPOOL -> {
                assertEquals(PooledScenario.capacity(THREADS), r.expected(), () -> explain(r, log));
                assertTrue(r.details().contains("violations=0"), r.details());
            }
            case RINGBUFFER -> assertEquals((long) THREADS * REPS, r.expected(), () -> explain(r, log));
            default -> throw new AssertionError(test);
        }
        assertTrue(r.line().endsWith(" PASS"), r.line());
        switch (v) {
            case DELAY_POINT_1 -> {
                assertFalse(r.options().contains("delay"), r.line());
                assertTrue(r.notes().stream().anyMatch(n -> n.startsWith("delay points do not apply")),
                        () -> String.valueOf(r.notes()));
            }
            case UNREGISTERED_EVERY_3 -> {
                assertFalse(r.options().contains("unregistered"), r.line());
                assertTrue(r.notes().stream().anyMatch(n -> n.startsWith("unregistered workers do not apply")),
                        () -> String.valueOf(r.notes()));
                assertTrue(log.stream().anyMatch(l -> l.contains(": note: unregistered workers do not apply")),
                        () -> String.join("\n", log));
            }
            default -> assertEquals(List.of(), r.notes());
        }
    }

    /** Index mode mmcid does not apply: the run goes ahead by CPU, says so, and needs no mm_cid. */
    @Test
    void indexModeMmcidRunsByCpuWithANote() {
        StressConfig c = StressConfig.of(StressTest.COUNTER, IndexMode.CONCURRENCY_ID).withThreads(4).withReps(50);
        List<String> log = new ArrayList<>();
        StressResult r = run(c, log);
        assertTrue(r.passed(), () -> explain(r, log));
        assertEquals(IndexMode.CPU_ID, r.indexMode());
        assertTrue(r.line().startsWith("stress counter index=cpu threads=4 reps=50 seconds=- ops=200 check=sum-of-adds "),
                r.line());
        assertEquals(List.of("index mode mmcid does not apply: counter uses rseq4j's public API, whose structures"
                + " index by CPU: running with index=cpu"), r.notes());
    }

    /** A timed run: every worker keeps going for the duration; the checks use the operations done. */
    @ParameterizedTest
    @EnumSource(value = StressTest.class, names = {"COUNTER", "POOL", "BUFFERPOOL", "RINGBUFFER", "MEMCPY", "LIST"})
    void aTimedRunChecksTheOperationsDone(StressTest test) {
        StressConfig c = StressConfig.of(test, IndexMode.CPU_ID).withThreads(4).withTimeout(Duration.ofSeconds(60))
                .withDuration(Duration.ofSeconds(1));
        List<String> log = new ArrayList<>();
        StressResult r = run(c, log);

        assertTrue(r.passed(), () -> explain(r, log));
        assertEquals(0, r.reps());
        assertEquals(Duration.ofSeconds(1), r.duration());
        assertTrue(r.line().matches("stress " + test.word() + " index=cpu threads=4 reps=- seconds=1 ops=\\d+ check="
                + test.checkWord() + " expected=\\d+ actual=\\d+ aborts=\\d+ fallbacks=\\d+ elapsed=\\d+\\.\\d\\ds PASS"), r.line());
        // 4 workers for a second: far more than the default 1000 reps each, on any machine
        assertTrue(r.operations() > 4 * 1000, () -> explain(r, log));
        assertTrue(r.elapsed().compareTo(Duration.ofSeconds(1)) >= 0, () -> explain(r, log));
        assertTrue(r.elapsed().compareTo(Duration.ofSeconds(20)) < 0, () -> explain(r, log));
        if (test == StressTest.MEMCPY || test == StressTest.RINGBUFFER) {
            assertEquals(r.operations(), r.expected(), () -> explain(r, log));
        }
        assertTrue(log.getFirst().contains("4 platform workers x 1 s"), log.getFirst());
    }

    /** Reps and a duration: the reps come first here, so every worker does exactly its reps. */
    @Test
    void withBothLimitsTheRepsCanComeFirst() {
        StressConfig c = StressConfig.of(StressTest.INCREMENT, IndexMode.CPU_ID).withThreads(4)
                .withLimits(50, Duration.ofSeconds(30));
        List<String> log = new ArrayList<>();
        StressResult r = run(c, log);
        assertTrue(r.passed(), () -> explain(r, log));
        assertEquals(200, r.operations());
        assertEquals(200, r.actual());
        assertTrue(r.elapsed().compareTo(Duration.ofSeconds(10)) < 0, () -> explain(r, log));
        assertTrue(r.line().startsWith("stress increment index=cpu threads=4 reps=50 seconds=30 ops=200"
                        + " check=counter-sum expected=200 "),
                r.line());
    }

    /** Reps and a duration: 10 ms sleeps before every operation make the duration come first. */
    @Test
    void withBothLimitsTheDurationCanComeFirst() {
        StressConfig c = StressConfig.of(StressTest.POOL, IndexMode.CPU_ID).withThreads(2)
                .withLimits(1000, Duration.ofMillis(300)).withSleepEvery(1, 10);
        List<String> log = new ArrayList<>();
        StressResult r = run(c, log);
        assertTrue(r.passed(), () -> explain(r, log));
        assertTrue(r.operations() > 0 && r.operations() < 2 * 1000, () -> explain(r, log));
        assertTrue(r.elapsed().compareTo(Duration.ofSeconds(5)) < 0, () -> explain(r, log));
        assertTrue(r.line().contains(" reps=1000 seconds=0.3 ops=" + r.operations()
                        + " every=1:sleep10ms check=objects-back "),
                r.line());
    }

    // ------------------------------------------------------------------ the checks can fail

    /** One add the worker does not count: the intervals plus the final sum come out one too high. */
    @Test
    void counterCheckCatchesAnExtraAdd() {
        StressConfig c = StressConfig.of(StressTest.COUNTER, IndexMode.CPU_ID).withThreads(4).withReps(200);
        List<String> log = new ArrayList<>();
        StressResult r = run(c, Fault.EXTRA_ADD, log);
        assertFalse(r.passed(), () -> explain(r, log));
        assertEquals(r.expected() + 1, r.actual(), () -> explain(r, log));
        assertTrue(r.failures().stream().anyMatch(f -> f.contains("!= added " + r.expected() + " (counted twice or an"
                + " add too many)")), () -> explain(r, log));
        assertTrue(r.line().endsWith(" FAIL"), r.line());
    }

    /** An item given back while still held is handed to another worker: held twice. */
    @ParameterizedTest
    @EnumSource(value = StressTest.class, names = {"POOL", "BUFFERPOOL"})
    void poolCheckCatchesAnItemHeldTwice(StressTest test) {
        // Holders yield while they hold: threads sharing a CPU then overlap, so someone
        // soon needs the early-released item (from its cache, by stealing, or handed over)
        // even when the other workers all run on one CPU, one after another.
        StressConfig c = StressConfig.of(test, IndexMode.CPU_ID).withThreads(4).withReps(200).withYieldEvery(1)
                .withTimeout(Duration.ofSeconds(60));
        List<String> log = new ArrayList<>();
        StressResult r = run(c, Fault.EARLY_RELEASE, log);
        String noun = test == StressTest.POOL ? "object" : "buffer";
        assertFalse(r.passed(), () -> explain(r, log));
        assertTrue(r.failures().stream().anyMatch(f -> f.matches("\\d+ " + noun + "s held twice at once \\(first:"
                        + " worker \\d+: acquired " + noun + " .* while worker 0 \\(operation 0\\) held it\\)")),
                () -> explain(r, log));
        // the pool itself stays whole: only the holding check fails
        assertEquals(r.expected(), r.actual(), () -> explain(r, log));
        assertEquals(1, r.failures().size(), () -> explain(r, log));
    }

    /** An item never given back: conservation fails. */
    @ParameterizedTest
    @EnumSource(value = StressTest.class, names = {"POOL", "BUFFERPOOL"})
    void poolCheckCatchesALeak(StressTest test) {
        StressConfig c = StressConfig.of(test, IndexMode.CPU_ID).withThreads(4).withReps(200)
                .withTimeout(Duration.ofSeconds(60));
        List<String> log = new ArrayList<>();
        StressResult r = run(c, Fault.LEAK, log);
        String noun = test == StressTest.POOL ? "object" : "buffer";
        assertFalse(r.passed(), () -> explain(r, log));
        assertEquals(r.expected() - 1, r.actual(), () -> explain(r, log));
        assertTrue(r.failures().stream().anyMatch(f -> f.endsWith("(1 " + noun + "s never given back)")),
                () -> explain(r, log));
        assertTrue(r.failures().stream().anyMatch(f -> f.startsWith("1 of " + r.expected() + " " + noun
                + "s not back in the pool at the end")), () -> explain(r, log));
    }

    /** A record written twice is received twice. */
    @Test
    void ringBufferCheckCatchesADuplicateRecord() {
        StressConfig c = StressConfig.of(StressTest.RINGBUFFER, IndexMode.CPU_ID).withThreads(4).withReps(200);
        List<String> log = new ArrayList<>();
        StressResult r = run(c, Fault.DUPLICATE_RECORD, log);
        assertFalse(r.passed(), () -> explain(r, log));
        assertEquals(r.expected(), r.actual(), () -> explain(r, log));
        assertTrue(r.failures().stream().anyMatch(f -> f.startsWith("1 records read twice (first: record 0/0 read"
                + " twice)")), () -> explain(r, log));
    }

    @Test
    void aFaultMustBelongToTheScenario() {
        StressConfig c = StressConfig.of(StressTest.INCREMENT, IndexMode.CPU_ID).withThreads(1).withReps(1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new StressRunner(c, s -> { }).withFault(Fault.EXTRA_ADD).run());
        assertEquals("increment cannot inject EXTRA_ADD: only []", e.getMessage());
    }

    // ------------------------------------------------------------------ the record check

    /**
     * The record check keeps a sliding window of sequence numbers: records arriving out of
     * order across rings (never within one) over many windows pass; a duplicate behind the
     * window, a record never written and a missing record are caught.
     */
    @Test
    void recordCheckSlidesItsWindowAndStillCatchesErrors() {
        int n = 100_000;
        RecordCheck ok = new RecordCheck(2, 2);
        byte[] buf = new byte[RecordCheck.MAX_LEN];
        MemorySegment seg = MemorySegment.ofArray(buf);
        // producer 0: even records to ring 0, odd to ring 1, ring 1 lagging 500 records behind
        for (int i = 0; i < n + 1000; i += 2) {
            if (i < n) {
                ok.accept(0, buf, RecordCheck.fill(seg, 0, i));
            }
            if (i >= 1000 && i - 999 < n) {
                ok.accept(1, buf, RecordCheck.fill(seg, 0, i - 999));
            }
        }
        for (int i = 0; i < 10; i++) {
            ok.accept(i % 2, buf, RecordCheck.fill(seg, 1, i));
        }
        Scenario.Verdict.Builder v = Scenario.Verdict.builder();
        ok.report(v, new long[] {n, 10});
        Scenario.Verdict verdict = v.build(ok.received());
        assertEquals(List.of(), verdict.problems(), verdict.details());
        assertEquals(n + 10, verdict.actual());

        ok.accept(0, buf, RecordCheck.fill(seg, 0, 5)); // long behind the window now
        ok.accept(1, buf, RecordCheck.fill(seg, 1, 10)); // producer 1 wrote only 0 to 9
        v = Scenario.Verdict.builder();
        ok.report(v, new long[] {n, 10});
        verdict = v.build(ok.received());
        assertEquals(List.of("1 records more than the 100010 written",
                "1 records read twice (first: record 0/5 read twice)",
                "1 records out of order within a ring (first: record 0/5 read twice)"), verdict.problems());

        RecordCheck missing = new RecordCheck(1, 1);
        missing.accept(0, buf, RecordCheck.fill(seg, 0, 0));
        missing.accept(0, buf, RecordCheck.fill(seg, 0, 2));
        v = Scenario.Verdict.builder();
        missing.report(v, new long[] {2});
        assertEquals(List.of("the records of 1 producers differ from what they wrote (first: producer 0 wrote 2, 2"
                + " received, highest seq 2)"), v.build(missing.received()).problems());
    }
}
