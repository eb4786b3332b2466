package io.github.rseq4j.stress;

import io.github.rseq4j.internal.structures.HistogramBuckets;
import io.github.rseq4j.internal.structures.HistogramEngine;

import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * The histogram engine behind {@code PerCpuHistogram}, built with the run's operations (so
 * with delay loops when the run has a delay point): workers record values and a taker calls
 * {@code collect(true)} (what {@code snapshotThenReset()} does) over and over.
 *
 * <p>Values: log-linear buckets with precision 6 and highest value 127 give every value
 * 0..127 a bucket of its own, so an interval's buckets determine its records exactly. Each
 * worker records, in turn, {@code record(v, n)} with n from 2 to 5, a negative value
 * (clamped to 0), a value above 127 (clamped to 127) and plain values, and tallies per
 * bucket what it recorded. Checks: in every interval the count equals the sum of the
 * bucket counts, the sum equals the sum of bucket value x count, and min and max are the
 * lowest and highest non-empty buckets (a record half in an interval shows); over all
 * intervals plus a final one, every bucket's count, the count, the sum and the clamped
 * count equal the workers' tallies exactly (a record lost or counted twice shows); the
 * histogram is then empty.
 */
final class HistogramScenario extends Scenario {
    private static final int HIGHEST = HistogramRecipe.HIGHEST, PRECISION = HistogramRecipe.PRECISION;
    /** The taker's pause between two snapshots. */
    private static final long TAKE_PAUSE_NANOS = 20_000;

    private HistogramEngine engine;
    /** The engine as the recipe's target. */
    private HistogramRecipe.Target target;
    /** Per worker, the count recorded per bucket. */
    private long[][] tally;
    private long[] clampedTally;
    // taker state (taker thread, then verify())
    private final long[] collected = new long[HIGHEST + 1];
    private long collectedCount, collectedSum, collectedClamped, collectedDirect, intervals, nonEmpty;
    private String firstBroken;

    HistogramScenario(Run run) {
        super(run);
    }

    @Override
    void setUp() {
        engine = new HistogramEngine(new HistogramBuckets.LogLinear(HIGHEST, PRECISION), run.ops.context());
        if (engine.buckets().count() != HIGHEST + 1) {
            throw new IllegalStateException("expected one bucket per value 0.." + HIGHEST + ": " + engine.buckets());
        }
        HistogramEngine e = engine;
        target = new HistogramRecipe.Target() {
            @Override
            public void record(long value) {
                e.record(value);
            }

            @Override
            public void record(long value, long n) {
                e.record(value, n);
            }
        };
        tally = new long[run.config.threads()][HIGHEST + 1];
        clampedTally = new long[run.config.threads()];
    }

    @Override
    Set<Fault> faults() {
        return Set.of(Fault.EXTRA_ADD);
    }

    @Override
    long expected() {
        long n = 0;
        for (long[] t : tally) {
            n += sum(t);
        }
        return n;
    }

    @Override
    void operate(Worker w, long rep) {
        w.pauseIfDue(rep);
        clampedTally[w.index] += HistogramRecipe.record(target, rep, w.index, tally[w.index]);
        if (injects(Fault.EXTRA_ADD, w, rep)) {
            engine.record(1); // not tallied: bucket 1 and the count must come out one too high
        }
    }

    @Override
    Runnable background() {
        return whileWorkersRun(() -> {
            take(engine.collect(true));
            LockSupport.parkNanos(TAKE_PAUSE_NANOS);
        });
    }

    /** Checks one interval whole and adds it up. */
    private void take(HistogramEngine.Totals t) {
        String broken = HistogramRecipe.addWhole(t, collected);
        if (broken != null && firstBroken == null) {
            firstBroken = "interval " + intervals + ": " + broken;
        }
        collectedCount += t.count();
        collectedSum += t.sum();
        collectedClamped += t.clamped();
        collectedDirect += t.direct();
        intervals++;
        nonEmpty += t.count() != 0 ? 1 : 0;
    }

    @Override
    Verdict verify() {
        long takenWhileRunning = intervals;
        take(engine.collect(true));
        long[] expectedBuckets = new long[HIGHEST + 1];
        long expectedSum = 0;
        for (long[] t : tally) {
            for (int v = 0; v <= HIGHEST; v++) {
                expectedBuckets[v] += t[v];
                expectedSum += t[v] * v;
            }
        }
        int wrongBucket = -1;
        for (int v = 0; v <= HIGHEST && wrongBucket < 0; v++) {
            if (collected[v] != expectedBuckets[v]) {
                wrongBucket = v;
            }
        }
        long after = engine.collect(false).count();
        long expectedClamped = sum(clampedTally);
        return Verdict.builder()
                .detail("intervals", intervals).detail("non-empty", nonEmpty).detail("records", collectedCount)
                .detail("clamped", collectedClamped).detail("direct", collectedDirect)
                .check(firstBroken == null, "an interval is not whole: " + firstBroken)
                .check(collectedCount == expected(), "intervals hold " + collectedCount + " records, recorded "
                        + expected() + " (" + (collectedCount > expected() ? "counted twice or one too many" : "lost") + ")")
                .check(wrongBucket < 0, wrongBucket < 0 ? "" : "bucket " + wrongBucket + ": " + collected[wrongBucket]
                        + " over all intervals, recorded " + expectedBuckets[wrongBucket])
                .check(collectedSum == expectedSum, "sum over all intervals " + collectedSum + ", recorded " + expectedSum)
                .check(collectedClamped == expectedClamped, "clamped " + collectedClamped + ", recorded " + expectedClamped)
                .check(after == 0, after + " records left after the final snapshot, with no recorder running")
                .check(takenWhileRunning > 0, "the taker completed no snapshot while the workers ran")
                .build(collectedCount);
    }

    @Override
    void tearDown() {
        engine.close();
    }
}
