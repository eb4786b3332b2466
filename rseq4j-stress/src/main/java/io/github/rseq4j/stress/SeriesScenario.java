package io.github.rseq4j.stress;

import io.github.rseq4j.internal.structures.HistogramBuckets;
import io.github.rseq4j.internal.structures.HistogramEngine;
import io.github.rseq4j.internal.structures.SeriesGroupEngine;

import java.util.Set;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The engine behind {@code HistogramGroup}, built with the run's operations (so with delay
 * loops when the run has a delay point): workers record into {@value #SLOTS} series sharing
 * one per-CPU recording path, while a taker calls {@code collect(true)} (what
 * {@code group.snapshotThenReset} does) over and over, and every few intervals closes one
 * series and puts a new one in its place (up to {@value #REPLACEMENTS} times), with records
 * of the closed one still in flight.
 *
 * <p>Values as in the histogram scenario: log-linear buckets with precision 6 and highest
 * value 127, one bucket per value 0..127. Each worker records into the series at slot
 * {@code (rep * 13 + worker) % SLOTS}, in turn {@code record(v, n)} with n from 2 to 5, a
 * negative value (clamped to 0), a value above 127 (clamped to 127) and plain values, and
 * tallies per series and bucket what it recorded (a record refused because the series was
 * closed under it is not tallied). Checks: every interval of every series is whole (count =
 * sum of bucket counts, sum = sum of value x count, min and max the lowest and highest
 * non-empty buckets); for every open series, over all intervals plus a final one, every
 * bucket's count, the count, the sum and the clamped count equal the tallies exactly; for
 * the closed series, the records their intervals returned plus the engine's dropped count
 * equal what was tallied for them (a record of a closed series folded into a later owner of
 * its slot would show twice: in the new series' buckets, against its tallies).
 */
final class SeriesScenario extends Scenario {
    private static final int HIGHEST = HistogramRecipe.HIGHEST, PRECISION = HistogramRecipe.PRECISION;
    /** Series recorded into at any time. */
    static final int SLOTS = 64;
    /** Series closed and replaced during a run, at most. */
    static final int REPLACEMENTS = 200;
    /** Intervals between two replacements. */
    private static final int REPLACE_EVERY = 3;
    /** The taker's pause between two snapshots. */
    private static final long TAKE_PAUSE_NANOS = 20_000;

    private SeriesGroupEngine engine;
    private HistogramBuckets buckets;
    /** Every series ever made, by id (its owner object is the Integer id). */
    private final SeriesGroupEngine.Series[] byId = new SeriesGroupEngine.Series[SLOTS + REPLACEMENTS];
    private final boolean[] closedIds = new boolean[SLOTS + REPLACEMENTS];
    /** The id of the series at each slot. */
    private final AtomicIntegerArray current = new AtomicIntegerArray(SLOTS);
    private int made;
    /** Per worker, per series id, the count recorded per bucket; and the clamped count per id. */
    private long[][][] tally;
    private long[][] clampedTally;
    // taker state (taker thread, then verify())
    private final long[][] collected = new long[SLOTS + REPLACEMENTS][HIGHEST + 1];
    private final long[] collectedClamped = new long[SLOTS + REPLACEMENTS];
    private long collectedCount, intervals, nonEmpty;
    private String firstBroken;

    SeriesScenario(Run run) {
        super(run);
    }

    @Override
    void setUp() {
        engine = new SeriesGroupEngine(run.ops.context());
        buckets = new HistogramBuckets.LogLinear(HIGHEST, PRECISION);
        if (buckets.count() != HIGHEST + 1) {
            throw new IllegalStateException("expected one bucket per value 0.." + HIGHEST + ": " + buckets);
        }
        for (int k = 0; k < SLOTS; k++) {
            current.set(k, newSeries());
        }
        tally = new long[run.config.threads()][SLOTS + REPLACEMENTS][HIGHEST + 1];
        clampedTally = new long[run.config.threads()][SLOTS + REPLACEMENTS];
    }

    private int newSeries() {
        int id = made++;
        byId[id] = engine.newSeries(buckets, s -> id);
        return id;
    }

    @Override
    Set<Fault> faults() {
        return Set.of(Fault.EXTRA_ADD);
    }

    @Override
    long expected() {
        long n = 0;
        for (long[][] w : tally) {
            for (long[] t : w) {
                n += sum(t);
            }
        }
        return n;
    }

    @Override
    void operate(Worker w, long rep) {
        w.pauseIfDue(rep);
        int id = current.get((int) ((rep * 13 + w.index) % SLOTS));
        SeriesGroupEngine.Series s = byId[id];
        HistogramRecipe.Target target = new HistogramRecipe.Target() {
            @Override
            public void record(long value) {
                engine.record(s, value);
            }

            @Override
            public void record(long value, long n) {
                engine.record(s, value, n);
            }
        };
        try {
            clampedTally[w.index][id] += HistogramRecipe.record(target, rep, w.index, tally[w.index][id]);
        } catch (IllegalStateException closed) {
            if (!s.isClosed()) {
                throw closed;
            }
            return;     // closed under the worker: not recorded
        }
        if (injects(Fault.EXTRA_ADD, w, rep)) {
            for (boolean added = false; !added; ) {     // not tallied: bucket 1 and the count must come out one too high
                SeriesGroupEngine.Series open = byId[current.get(0)];
                try {
                    engine.record(open, 1);
                    added = true;
                } catch (IllegalStateException closed) {
                    // replaced meanwhile: the slot's next series
                }
            }
        }
    }

    @Override
    Runnable background() {
        return whileWorkersRun(() -> {
            take(engine.collect(true));
            if (intervals % REPLACE_EVERY == 0 && made < SLOTS + REPLACEMENTS) {
                int slot = (int) (intervals / REPLACE_EVERY % SLOTS);
                int old = current.get(slot);
                current.set(slot, newSeries());
                engine.close(byId[old]);
                closedIds[old] = true;
            }
            LockSupport.parkNanos(TAKE_PAUSE_NANOS);
        });
    }

    /** Checks each series' interval whole and adds it up. */
    private void take(SeriesGroupEngine.Collected c) {
        for (int k = 0; k < c.n(); k++) {
            int id = (Integer) c.series()[k].owner();
            HistogramEngine.Totals t = c.totals()[k];
            String broken = HistogramRecipe.addWhole(t, collected[id]);
            if (broken != null && firstBroken == null) {
                firstBroken = "interval " + intervals + ", series " + id + ": " + broken;
            }
            collectedCount += t.count();
            collectedClamped[id] += t.clamped();
            nonEmpty += t.count() != 0 ? 1 : 0;
        }
        intervals++;
    }

    @Override
    Verdict verify() {
        long takenWhileRunning = intervals;
        take(engine.collect(true));
        String wrong = null;
        long closedTallied = 0, closedCollected = 0, replaced = 0;
        for (int id = 0; id < made && wrong == null; id++) {
            long[] expected = new long[HIGHEST + 1];
            long clamped = 0;
            for (int w = 0; w < tally.length; w++) {
                for (int v = 0; v <= HIGHEST; v++) {
                    expected[v] += tally[w][id][v];
                }
                clamped += clampedTally[w][id];
            }
            if (closedIds[id]) {
                replaced++;
                closedTallied += sum(expected);
                closedCollected += sum(collected[id]);
                continue;
            }
            for (int v = 0; v <= HIGHEST && wrong == null; v++) {
                if (collected[id][v] != expected[v]) {
                    wrong = "series " + id + ", bucket " + v + ": " + collected[id][v] + " over all intervals, recorded "
                            + expected[v];
                }
            }
            if (wrong == null && collectedClamped[id] != clamped) {
                wrong = "series " + id + ": clamped " + collectedClamped[id] + ", recorded " + clamped;
            }
        }
        long dropped = engine.droppedRecords();
        long after = 0;
        SeriesGroupEngine.Collected last = engine.collect(false);
        for (int k = 0; k < last.n(); k++) {
            after += last.totals()[k].count();
        }
        long actual = collectedCount + dropped;
        return Verdict.builder()
                .detail("intervals", intervals).detail("non-empty", nonEmpty).detail("records", collectedCount)
                .detail("replaced", replaced).detail("dropped", dropped).detail("overflowed", engine.overflowed())
                .check(firstBroken == null, "an interval is not whole: " + firstBroken)
                .check(actual == expected(), "intervals hold " + collectedCount + " records and " + dropped
                        + " were dropped, recorded " + expected() + " ("
                        + (actual > expected() ? "counted twice or one too many" : "lost") + ")")
                .check(wrong == null, String.valueOf(wrong))
                .check(closedCollected + dropped == closedTallied, "closed series: " + closedCollected
                        + " records in their intervals + " + dropped + " dropped, recorded " + closedTallied)
                .check(after == 0, after + " records left after the final snapshot, with no recorder running")
                .check(takenWhileRunning > 0, "the taker completed no snapshot while the workers ran")
                .build(actual);
    }

    @Override
    void tearDown() {
        engine.close();
    }
}
