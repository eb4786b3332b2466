package io.github.rseq4j.internal.structures;

import io.github.rseq4j.internal.runtime.JitConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The group engine's overflow, reached deterministically: a snapshot is held inside its drain
 * (every fold lock held, through the {@link SwitchPauses} seam) while a record arrives, which must
 * then go onto the overflow without waiting; every later fold and snapshot must take it from
 * there, and a close must count it as dropped. And folds by lock stripe: a fold that finds a
 * stripe's lock held folds the rest of the log and copies that stripe's entries out, and
 * every entry is still counted exactly once.
 */
class SeriesGroupEngineTest {
    private static final HistogramBuckets EXACT64 = new HistogramBuckets.LogLinear(127, 6);

    @Test
    @Timeout(60)
    void aFoldThatFindsAStripeLockedCopiesItsEntriesOutAndEachIsCountedOnce() {
        SeriesGroupEngine e = new SeriesGroupEngine(JitConstants.CONTEXT);
        try {
            int k = e.stripes();
            // one series per stripe and one more in stripe 0 (slots 0..k): slot s is in stripe s mod k
            SeriesGroupEngine.Series[] series = new SeriesGroupEngine.Series[k + 1];
            for (int s = 0; s < series.length; s++) {
                String name = "s" + s;
                series[s] = e.newSeries(EXACT64, x -> name);
                assertEquals(s, series[s].tag() & (SeriesGroupEngine.MAX_SERIES - 1), "series " + s + "'s slot");
            }
            int locked = 1;         // series[1]'s stripe
            int rounds = 20 * SeriesGroupEngine.LOGS * SeriesGroupEngine.LOG_ENTRIES / series.length;
            e.lock(locked);
            try {
                for (int r = 0; r < rounds; r++) {
                    for (SeriesGroupEngine.Series s : series) {
                        e.record(s, r & 63);
                    }
                }
            } finally {
                e.unlock(locked);
            }
            long logged = (long) rounds * series.length - SeriesGroupEngine.LOGS * SeriesGroupEngine.LOG_ENTRIES;
            assertTrue(e.copiedOut() >= logged / series.length, "with one stripe locked, folds copied its"
                    + " entries out of the logs they freed: " + e.copiedOut());
            assertEquals(0, e.overflowed(), "the logs were freed, so no record went to the overflow");
            SeriesGroupEngine.Collected c = e.collect(true);
            assertEquals(series.length, c.n());
            long sum = 0;
            for (int r = 0; r < rounds; r++) {
                sum += r & 63;
            }
            for (int x = 0; x < c.n(); x++) {
                assertEquals(rounds, c.totals()[x].count(), "series " + c.series()[x].owner() + ": every record once");
                assertEquals(sum, c.totals()[x].sum(), "series " + c.series()[x].owner());
            }
            assertEquals(0, e.droppedRecords());
            assertEquals(0, e.collect(false).totals()[0].count());
        } finally {
            e.close();
        }
    }

    /** Runs {@code whileHeld} while a snapshot of {@code e} is paused with the fold lock held. */
    private static void whileASnapshotHoldsTheLock(SeriesGroupEngine[] e, AtomicBoolean armed, CountDownLatch inDrain,
                                                   CountDownLatch resume, Runnable whileHeld) throws Exception {
        AtomicReference<Throwable> failed = new AtomicReference<>();
        armed.set(true);
        Thread taker = Thread.ofPlatform().uncaughtExceptionHandler((t, x) -> failed.set(x))
                .start(() -> e[0].collect(false));
        assertTrue(inDrain.await(30, TimeUnit.SECONDS), "the snapshot reached its drain");
        try {
            whileHeld.run();
        } finally {
            resume.countDown();
            taker.join();
        }
        if (failed.get() != null) {
            throw new AssertionError("the snapshot failed", failed.get());
        }
    }

    @Test
    @Timeout(60)
    void recordsThatFindTheFoldLockHeldGoToTheOverflowAndTheNextSnapshotHasThem() throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        CountDownLatch inDrain = new CountDownLatch(1), resume = new CountDownLatch(1);
        SwitchPauses pauses = point -> {
            if (point == SwitchPauses.Point.DRAIN_STOPPED && armed.getAndSet(false)) {
                inDrain.countDown();
                try {
                    resume.await();
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        SeriesGroupEngine[] e = {new SeriesGroupEngine(JitConstants.CONTEXT, pauses)};
        try {
            SeriesGroupEngine.Series a = e[0].newSeries(EXACT64, s -> "a");
            SeriesGroupEngine.Series b = e[0].newSeries(EXACT64, s -> "b");
            whileASnapshotHoldsTheLock(e, armed, inDrain, resume, () -> {
                e[0].record(a, 7, 3);       // a count: directly under the lock, which is held
                e[0].record(a, 500);        // clamped to 127: the same
                e[0].record(b, 9, 2);       // b is closed below with it still on the overflow
            });
            assertEquals(3, e[0].overflowed(), "the three records went to the overflow, none waited");
            e[0].close(b);
            HistogramEngine.Totals t = e[0].collect(a, true);
            assertEquals(4, t.count(), "the snapshot took the overflow: " + t);
            assertEquals(3 * 7 + 127, t.sum());
            assertEquals(3, t.bucketCounts()[7]);
            assertEquals(1, t.bucketCounts()[127]);
            assertEquals(1, t.clamped());
            assertEquals(7, t.min());
            assertEquals(127, t.max());
            assertEquals(2, e[0].droppedRecords(), "b's records on the overflow were dropped and counted");
            assertEquals(0, e[0].collect(a, false).count());
        } finally {
            e[0].close();
        }
    }
}
