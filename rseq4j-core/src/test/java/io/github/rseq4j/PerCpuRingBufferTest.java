package io.github.rseq4j;

import io.github.rseq4j.testsupport.TimeScale;
import io.github.rseq4j.PerCpuRingBuffer.OverflowPolicy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.BitSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static io.github.rseq4j.PerCpuCounterTest.runThreads;
import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PerCpuRingBufferTest {

    /** Record: writer id, sequence number, then {@code extra} bytes of (writer + seq). */
    static byte[] record(int writer, int seq) {
        int extra = (writer * 31 + seq * 7) % 120;
        byte[] r = new byte[8 + extra];
        ByteBuffer.wrap(r).putInt(writer).putInt(seq);
        for (int i = 8; i < r.length; i++) {
            r[i] = (byte) (writer + seq);
        }
        return r;
    }

    /** Consumer-side checks: each record once, well formed, in order per writer within each ring. */
    static final class Checker implements RecordHandler<RuntimeException> {
        final BitSet[] seen;
        final int[][] last;           // [ring][writer]: last sequence number seen
        long records;
        String error;

        Checker(int rings, int writers, int perWriter) {
            seen = new BitSet[writers];
            for (int w = 0; w < writers; w++) {
                seen[w] = new BitSet(perWriter);
            }
            last = new int[rings][writers];
            for (int[] l : last) {
                java.util.Arrays.fill(l, -1);
            }
        }

        @Override
        public void onRecord(int ring, byte[] bytes, int length) {
            records++;
            ByteBuffer b = ByteBuffer.wrap(bytes, 0, length);
            int writer = b.getInt(), seq = b.getInt();
            byte[] expect = record(writer, seq);
            if (length != expect.length || !java.util.Arrays.equals(bytes, 0, length, expect, 0, length)) {
                fail("corrupt record from writer " + writer + " seq " + seq + " (" + length + " bytes)");
            }
            if (seen[writer].get(seq)) {
                fail("record " + writer + "/" + seq + " seen twice");
            }
            seen[writer].set(seq);
            if (seq <= last[ring][writer]) {
                fail("ring " + ring + ": writer " + writer + " seq " + seq + " after " + last[ring][writer]);
            }
            last[ring][writer] = seq;
        }

        private void fail(String message) {
            if (error == null) {
                error = message;
            }
        }
    }

    /** Drains until {@code done}, then once more after it. */
    static Thread consumer(PerCpuRingBuffer rb, Checker checker, AtomicBoolean done, long pauseNanos) {
        return Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                if (rb.drain(checker) == 0 || pauseNanos > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(Math.max(pauseNanos, 20_000));
                }
            }
        });
    }

    @ParameterizedTest(name = "virtual={0}")
    @ValueSource(booleans = {false, true})
    void waitPolicyLosesNothingAndKeepsOrderPerRing(boolean virtual) throws Exception {
        int writers = virtual ? 40 : 4;
        int perWriter = virtual ? 2_000 : 20_000;
        PerCpuRingBuffer rb = new PerCpuRingBuffer(4096, OverflowPolicy.WAIT, TimeScale.seconds(30));
        Checker checker = new Checker(rb.rings(), writers, perWriter);
        AtomicBoolean done = new AtomicBoolean();
        Thread consumer = consumer(rb, checker, done, 0);
        runThreads(writers, virtual, w -> {
            for (int seq = 0; seq < perWriter; seq++) {
                assertTrue(rb.write(record(w, seq)));
            }
        });
        done.set(true);
        consumer.join();
        rb.drain(checker);
        assertNull(checker.error, checker.error);
        assertEquals((long) writers * perWriter, checker.records);
        for (int w = 0; w < writers; w++) {
            assertEquals(perWriter, checker.seen[w].cardinality(), "writer " + w);
        }
        assertEquals(0, rb.dropped());
        assertEquals(0, rb.pending());
        System.out.println("ring WAIT: " + checker.records + " records from " + writers + (virtual ? " virtual" : " platform")
                + " writers; " + Rseq.status().fallbacks());
        rb.close();
    }

    @ParameterizedTest(name = "virtual={0}")
    @ValueSource(booleans = {false, true})
    void dropPolicyCountsDropsExactly(boolean virtual) throws Exception {
        int writers = virtual ? 40 : 4;
        int perWriter = virtual ? 2_000 : 20_000;
        PerCpuRingBuffer rb = new PerCpuRingBuffer(4096, OverflowPolicy.DROP);
        Checker checker = new Checker(rb.rings(), writers, perWriter);
        BitSet[] written = new BitSet[writers];
        AtomicBoolean done = new AtomicBoolean();
        Thread consumer = consumer(rb, checker, done, 50_000);      // a slow consumer: drops happen
        runThreads(writers, virtual, w -> {
            BitSet ok = new BitSet(perWriter);
            for (int seq = 0; seq < perWriter; seq++) {
                if (rb.write(record(w, seq))) {
                    ok.set(seq);
                }
            }
            written[w] = ok;
        });
        done.set(true);
        consumer.join();
        rb.drain(checker);
        assertNull(checker.error, checker.error);
        long writtenTotal = 0;
        for (int w = 0; w < writers; w++) {
            assertEquals(written[w], checker.seen[w], "writer " + w + ": records read != writes that returned true");
            writtenTotal += written[w].cardinality();
        }
        long attempted = (long) writers * perWriter;
        assertEquals(writtenTotal, checker.records);
        assertTrue(rb.dropped() > 0, "the test should make the rings overflow");
        assertEquals(attempted, checker.records + rb.dropped(), "written + dropped == attempted");
        System.out.println("ring DROP: " + checker.records + " written, " + rb.dropped() + " dropped of " + attempted);
    }

    @Test
    void singleThreadDropAndDrain() {
        PerCpuRingBuffer rb = new PerCpuRingBuffer(256, OverflowPolicy.DROP);
        assertEquals(248, rb.maxRecordSize());
        byte[] rec = new byte[64];                          // 72 ring bytes: 3 fit in a 256-byte ring
        int ok = 0;
        for (int i = 0; i < 100; i++) {
            if (rb.write(rec)) {
                ok++;
            }
        }
        assertTrue(ok >= 3 && ok <= 3 * rb.rings(), "written: " + ok);
        assertEquals(100, ok + rb.dropped());
        long[] n = new long[1];
        assertEquals(ok, rb.drain((ring, bytes, len) -> {
            assertEquals(64, len);
            n[0]++;
        }));
        assertEquals(ok, n[0]);
        assertTrue(rb.write(rec), "room again after the drain");
    }

    @Test
    void badInput() throws Exception {
        assertThrows(NullPointerException.class, () -> new PerCpuRingBuffer(4096, null));
        assertThrows(NullPointerException.class, () -> new PerCpuRingBuffer(4096, OverflowPolicy.WAIT, null));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuRingBuffer(4096, OverflowPolicy.WAIT, Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuRingBuffer(100, OverflowPolicy.DROP));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuRingBuffer(3000, OverflowPolicy.DROP));
        assertThrows(IllegalArgumentException.class, () -> new PerCpuRingBuffer(1 << 20, OverflowPolicy.DROP));

        PerCpuRingBuffer rb = new PerCpuRingBuffer(1 << 14, OverflowPolicy.DROP);
        assertEquals(PerCpuRing.MAX_RECORD, rb.maxRecordSize());
        assertThrows(NullPointerException.class, () -> rb.write((MemorySegment) null));
        assertThrows(NullPointerException.class, () -> rb.write((byte[]) null));
        assertThrows(NullPointerException.class, () -> rb.write(null, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> rb.write(new byte[rb.maxRecordSize() + 1]));
        assertThrows(IndexOutOfBoundsException.class, () -> rb.write(new byte[10], 5, 6));
        assertThrows(NullPointerException.class, () -> rb.drain(null));
        assertTrue(rb.write(new byte[rb.maxRecordSize()]), "the largest record fits");
        assertTrue(rb.write(new byte[0]), "an empty record is a record");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(100);
            s.fill((byte) 9);
            assertTrue(rb.write(s), "native segments too");
        }
        assertTrue(rb.write(new byte[]{1, 2, 3, 4, 5}, 1, 3));
        long[] sizes = new long[4];
        int[] i = {0};
        assertEquals(4, rb.drain((ring, bytes, len) -> {
            sizes[i[0]++] = len;
            if (len == 3) {
                assertArrayEquals(new byte[]{2, 3, 4}, java.util.Arrays.copyOf(bytes, 3));
            }
            if (len == 100) {
                assertEquals(9, bytes[99]);
            }
        }));
        java.util.Arrays.sort(sizes);
        assertArrayEquals(new long[]{0, 3, 100, rb.maxRecordSize()}, sizes);
        rb.close();
        assertTrue(rb.isClosed());
        assertThrows(IllegalStateException.class, () -> rb.write(new byte[1]));
        assertEquals(0, rb.drain((ring, bytes, len) -> {}));

        PerCpuRingBuffer small = new PerCpuRingBuffer(256, OverflowPolicy.DROP);
        assertEquals(248, small.maxRecordSize());
        assertThrows(IllegalArgumentException.class, () -> small.write(new byte[249]));
    }

    @Test
    void waitGivesUpAfterMaxWaitWithoutAConsumer() {
        PerCpuRingBuffer rb = new PerCpuRingBuffer(256, OverflowPolicy.WAIT, Duration.ofMillis(100));
        byte[] rec = new byte[64];
        int written = 0;
        IllegalStateException e = null;
        long t0 = System.nanoTime();
        for (int i = 0; i < 1_000 && e == null; i++) {
            try {
                rb.write(rec);
                written++;
            } catch (IllegalStateException x) {
                e = x;
            }
        }
        assertNotNull(e, "a WAIT write with no consumer must give up");
        assertTrue(e.getMessage().contains("no room"), e.getMessage());
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(90));
        assertTrue(written >= 3 && written <= 3 * rb.rings(), "written: " + written);
        assertEquals(written, rb.drain((ring, bytes, len) -> {}));
        assertEquals(0, rb.dropped());
    }

    @Test
    void closeReleasesAWaitingWriter() throws Exception {
        PerCpuRingBuffer rb = new PerCpuRingBuffer(256, OverflowPolicy.WAIT, TimeScale.seconds(30));
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                for (int i = 0; i < 1_000; i++) {
                    rb.write(new byte[64]);
                }
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        Thread.sleep(100);
        rb.close();
        writer.join(TimeScale.millis(10_000));
        assertFalse(writer.isAlive());
        assertInstanceOf(IllegalStateException.class, outcome.get());
        assertTrue(outcome.get().getMessage().contains("closed"), outcome.get().getMessage());
    }
}
