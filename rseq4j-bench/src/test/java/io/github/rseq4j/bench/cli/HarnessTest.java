package io.github.rseq4j.bench.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HarnessTest {

    private static final Harness.Settings FAST = new Harness.Settings(TimeUnit.MILLISECONDS.toNanos(20),
            TimeUnit.MILLISECONDS.toNanos(5), 3);

    @Test
    void countsEveryOperationAndReportsSaneTimes() {
        AtomicLong ops = new AtomicLong();
        Workload w = index -> n -> {
            for (long i = 0; i < n; i++) {
                ops.getAndIncrement();
            }
            return n;
        };
        for (boolean virtual : new boolean[] {false, true}) {
            ops.set(0);
            Harness.Measurement m = Harness.measure(w, 3, virtual, FAST);
            assertEquals(ops.get(), m.totalOps(), "totalOps must be what the loops ran");
            assertTrue(m.nsPerOp() > 0 && Double.isFinite(m.nsPerOp()));
            assertTrue(m.minNsPerOp() <= m.nsPerOp() && m.nsPerOp() <= m.maxNsPerOp());
            // odd number of runs: the median run is the same run in both views
            assertEquals(m.nsPerOp() / 3, m.aggregateNsPerOp(), 1e-9 * m.nsPerOp());
            assertEquals(3, m.runs());
            assertTrue(m.opsPerThread() >= 10_000);
        }
    }

    /**
     * A workload of the given weight whose every operation spins for {@code nanosPerOp}
     * (wall time, so the machine's load cannot make it shorter); each loop call's count
     * goes to {@code calls}.
     */
    private static Workload spinning(long nanosPerOp, int weight, List<Long> calls) {
        return new Workload() {
            @Override
            public Loop newLoop(int index) {
                return n -> {
                    calls.add(n);
                    for (long i = 0; i < n; i++) {
                        long end = System.nanoTime() + nanosPerOp;
                        while (System.nanoTime() < end) {
                            Thread.onSpinWait();
                        }
                    }
                    return n;
                };
            }

            @Override
            public int opWeight() {
                return weight;
            }
        };
    }

    @Test
    void aWeightedOperationWarmsUpInShorterCallsAndIsHeldToFewerOperationsPerRun() {
        List<Long> calls = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        // a 1 ms run asks for about 50 operations of 20 µs: the floor, 10,000 / 100, wins
        Harness.Measurement m = Harness.measure(spinning(20_000, 100, calls), 1, false,
                new Harness.Settings(TimeUnit.MILLISECONDS.toNanos(20), TimeUnit.MILLISECONDS.toNanos(1), 1));
        assertEquals(Harness.MIN_TIMED_OPS / 100, m.opsPerThread());
        assertEquals(Harness.CHUNK / 100, calls.get(0), "warm-up calls of CHUNK / weight operations");

        assertThrows(IllegalArgumentException.class,
                () -> Harness.measure(spinning(0, 0, new java.util.ArrayList<>()), 1, false, FAST));
    }

    @Test
    void anOperationLongerThanTheSamplingIntervalIsEstimatedWhole() {
        // one operation of 100 ms per warm-up call (weight 5,000: calls of 2,000 / 5,000 -> 1
        // operation, floor 2): a sample that sees a call end must charge it the 100 ms since the
        // last sample that saw progress, not the 20 ms since the last sample; a 500 ms run is then
        // about 5 operations (charged 20 ms, the estimate asked for about 25)
        Harness.Measurement m = Harness.measure(
                spinning(TimeUnit.MILLISECONDS.toNanos(100), 5_000, new java.util.ArrayList<>()), 1, false,
                new Harness.Settings(TimeUnit.MILLISECONDS.toNanos(250), TimeUnit.MILLISECONDS.toNanos(500), 1));
        assertTrue(m.opsPerThread() <= 10, "operations per run: " + m.opsPerThread());
    }

    @Test
    void workerFailureIsReported() {
        Workload w = index -> n -> {
            throw new IllegalStateException("boom");
        };
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Harness.measure(w, 2, false, FAST));
        assertEquals("boom", e.getMessage());
    }

    @Test
    void groupRunsAreInterleavedAndAFailureStaysInItsRow() {
        StringBuilder order = new StringBuilder();
        Workload ok = index -> n -> n;
        Workload bad = index -> n -> {
            throw new IllegalStateException("bad row");
        };
        Harness.Listener listener = new Harness.Listener() {
            @Override
            public void before(int index) {
                order.append(index);
            }

            @Override
            public void after(int index) {
            }
        };
        List<Harness.Outcome> out = Harness.measureGroup(List.of(ok, bad, ok), 1, false, FAST, listener);
        assertEquals(3, out.size());
        assertNull(out.get(0).failure());
        assertEquals("bad row", out.get(1).failure().getMessage());
        assertNull(out.get(2).failure());
        // warm-ups 0, 1, 2; then runs alternate between the two live rows
        assertEquals("012" + "02".repeat(FAST.runs()), order.toString());
    }

    @Test
    void medianOfOddAndEven() {
        assertEquals(2.0, Harness.median(new double[] {3, 1, 2}));
        assertEquals(2.5, Harness.median(new double[] {4, 1, 2, 3}));
    }
}
