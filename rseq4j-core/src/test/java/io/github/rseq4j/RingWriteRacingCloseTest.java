package io.github.rseq4j;

import org.junit.jupiter.api.Test;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18, defect 5: a {@code DROP} write that races {@link PerCpuRingBuffer#close()} must
 * either write its record or throw {@link IllegalStateException}, never report a drop (the
 * rings cannot fill here: each writer writes at most {@link #CAP} 8-byte records, and all of
 * them fit in one ring). Writers write until the close stops them while a consumer drains
 * all the time, so that the close often finds nothing pending and gives the memory back at
 * once, under writers that passed the closed check. Exact: no write returns false, nothing
 * is counted as dropped, every writer that did not reach its cap ended with
 * IllegalStateException, and the records drained (meanwhile and after the close) are
 * exactly the writes that returned true.
 */
class RingWriteRacingCloseTest {
    private static final int ROUNDS = 300;
    private static final int WRITERS = 2;
    /** Writes per writer at most: WRITERS * CAP records of 16 bytes fit in one 512 KiB ring. */
    private static final int CAP = 8_000;

    @Test
    void aWriteRacingCloseWritesOrThrowsEveryTime() throws InterruptedException {
        long falses = 0, dropped = 0, written = 0, drained = 0, threw = 0, capped = 0;
        for (int round = 0; round < ROUNDS; round++) {
            PerCpuRingBuffer buf = new PerCpuRingBuffer(512 * 1024, PerCpuRingBuffer.OverflowPolicy.DROP);
            AtomicLong ok = new AtomicLong(), refused = new AtomicLong(), ise = new AtomicLong(), got = new AtomicLong(),
                    reachedCap = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            Thread[] writers = new Thread[WRITERS];
            byte[] record = new byte[8];
            for (int w = 0; w < WRITERS; w++) {
                writers[w] = Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < CAP; i++) {
                        try {
                            if (buf.write(record)) {
                                ok.incrementAndGet();
                            } else {
                                refused.incrementAndGet();
                            }
                        } catch (IllegalStateException e) {
                            ise.incrementAndGet();
                            return;
                        }
                    }
                    reachedCap.incrementAndGet();
                });
            }
            Thread consumer = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    got.addAndGet(buf.drain((cpu, bytes, length) -> { }));
                }
            });
            long closeAfter = ThreadLocalRandom.current().nextLong(1, CAP / 8);   // writes, at a random early moment
            while (ok.get() < closeAfter && reachedCap.get() == 0) {
                Thread.onSpinWait();
            }
            buf.close();
            for (Thread w : writers) {
                w.join();
            }
            stop.set(true);
            consumer.join();
            got.addAndGet(buf.drain((cpu, bytes, length) -> { }));
            falses += refused.get();
            dropped += buf.dropped();
            written += ok.get();
            drained += got.get();
            threw += ise.get();
            capped += reachedCap.get();
        }
        assertEquals(0, falses, "writes that returned false on a ring that never filled");
        assertEquals(0, dropped, "drops counted");
        assertEquals(WRITERS * (long) ROUNDS, threw + capped, "every writer that did not reach its cap ended with"
                + " IllegalStateException (" + capped + " reached it)");
        // Not a correctness check (that is the one above): it keeps the test from passing with no race at
        // all. On a loaded 2-CPU machine the closing thread is often descheduled until the writers are done
        // (81 of 600 raced in one such run), so the floor is a tenth of the rounds.
        assertTrue(threw >= ROUNDS / 10, "writers that raced the close (not all do: one may finish before the"
                + " other starts): " + threw + " of " + WRITERS * ROUNDS);
        assertEquals(written, drained, "records drained = writes that returned true");
    }
}
