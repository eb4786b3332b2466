package io.github.rseq4j.internal.structures;

import io.github.rseq4j.testsupport.TimeScale;
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
 * (the fold lock held, through the {@link SwitchPauses} seam) while a record arrives, which must
 * then go onto the overflow without waiting; every later fold and snapshot must take it from
 * there, and a close must count it as dropped.
 */
class SeriesGroupEngineTest {
    private static final HistogramBuckets EXACT64 = new HistogramBuckets.LogLinear(127, 6);

    /** Runs {@code whileHeld} while a snapshot of {@code e} is paused with the fold lock held. */
    private static void whileASnapshotHoldsTheLock(SeriesGroupEngine[] e, AtomicBoolean armed, CountDownLatch inDrain,
                                                   CountDownLatch resume, Runnable whileHeld) throws Exception {
        AtomicReference<Throwable> failed = new AtomicReference<>();
        armed.set(true);
        Thread taker = Thread.ofPlatform().uncaughtExceptionHandler((t, x) -> failed.set(x))
                .start(() -> e[0].collect(false));
        assertTrue(inDrain.await(TimeScale.millis(30_000), TimeUnit.MILLISECONDS), "the snapshot reached its drain");
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
