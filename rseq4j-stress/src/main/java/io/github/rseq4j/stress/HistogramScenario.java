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
    /** Values 0..HIGHEST have buckets of their own. */
    private static final int HIGHEST = 127, PRECISION = 6;
    /** The taker's pause between two snapshots. */
    private static final long TAKE_PAUSE_NANOS = 20_000;

    private HistogramEngine engine;
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
        long[] t = tally[w.index];
        switch ((int) ((rep + w.index) % 16)) {
            case 0 -> {
                int v = (int) ((rep * 31 + w.index) % (HIGHEST + 1));
                long n = 2 + rep % 4;
                engine.record(v, n);
                t[v] += n;
            }
            case 1 -> {
                engine.record(-1 - rep);
                t[0]++;
                clampedTally[w.index]++;
            }
            case 2 -> {
                engine.record(HIGHEST + 1 + rep);
                t[HIGHEST]++;
                clampedTally[w.index]++;
            }
            default -> {
                int v = (int) ((rep * 7 + w.index) % (HIGHEST + 1));
                engine.record(v);
                t[v]++;
            }
        }
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
        long inBuckets = 0, fromBuckets = 0;
        int lowest = -1, highest = -1;
        long[] c = t.bucketCounts();
        for (int v = 0; v <= HIGHEST; v++) {
            inBuckets += c[v];
            fromBuckets += c[v] * v;
            collected[v] += c[v];
            if (c[v] != 0) {
                highest = v;
                if (lowest < 0) {
                    lowest = v;
                }
            }
        }
        boolean whole = t.count() == inBuckets && t.sum() == fromBuckets
                && (t.count() == 0 ? t.min() == 0 && t.max() == 0 : t.min() == lowest && t.max() == highest);
        if (!whole && firstBroken == null) {
            firstBroken = "interval " + intervals + ": count " + t.count() + " (buckets " + inBuckets + "), sum "
                    + t.sum() + " (buckets " + fromBuckets + "), min " + t.min() + " max " + t.max()
                    + " (buckets " + lowest + ".." + highest + ")";
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
