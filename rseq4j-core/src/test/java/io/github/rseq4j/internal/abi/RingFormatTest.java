package io.github.rseq4j.internal.abi;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RingFormat} on a heap segment (no native memory, no rseq): the header it keeps,
 * the space records take, writes until full, drains in order, records that wrap across the
 * end of the data, and a drain whose sink throws.
 */
class RingFormatTest {

    /** Where the ring starts in the segment: not 0, so offsets relative to {@code at} are exercised. */
    private static final long AT = 128;
    private static final long CAPACITY = 64;

    private static MemorySegment segment() {
        MemorySegment w = MemorySegment.ofArray(new long[(int) ((AT + SliceLayout.RING_DATA + CAPACITY + 64) / 8)]);
        w.fill((byte) 0x5A);
        RingFormat.init(w, AT, CAPACITY);
        return w;
    }

    private static byte[] payload(int len, int seed) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (seed * 31 + i);
        }
        return b;
    }

    private static boolean write(MemorySegment w, byte[] p) {
        return RingFormat.writeStopped(w, AT, MemorySegment.ofArray(p), p.length);
    }

    private static long word(MemorySegment w, long off) {
        return w.get(JAVA_LONG, AT + off);
    }

    private static List<byte[]> drainAll(MemorySegment w) {
        List<byte[]> out = new ArrayList<>();
        long n = RingFormat.drain(w, AT, new byte[(int) CAPACITY], (buf, len) -> out.add(Arrays.copyOf(buf, len)));
        assertEquals(out.size(), n, "drain counts what it delivered");
        return out;
    }

    @Test
    void initSetsTheHeaderAndNothingElse() {
        MemorySegment w = segment();
        assertEquals(0, word(w, SliceLayout.RING_WRITE));
        assertEquals(0, word(w, SliceLayout.RING_READ));
        assertEquals(CAPACITY - 1, word(w, SliceLayout.RING_MASK));
        assertEquals(0x5A5A5A5A5A5A5A5AL, w.get(JAVA_LONG, AT - 8), "before the ring");
        assertEquals(0x5A5A5A5A5A5A5A5AL, word(w, 24), "header padding");
        assertEquals(0x5A5A5A5A5A5A5A5AL, word(w, SliceLayout.RING_DATA), "data");
        assertEquals(0, RingFormat.used(w, AT));
    }

    @Test
    void aRecordTakesAnEightByteHeaderAndItsPayloadPaddedToEight() {
        assertEquals(8, RingFormat.recordBytes(0));
        assertEquals(16, RingFormat.recordBytes(1));
        assertEquals(16, RingFormat.recordBytes(8));
        assertEquals(24, RingFormat.recordBytes(9));
        assertEquals(64, RingFormat.recordBytes(56));
        assertEquals(72, RingFormat.recordBytes(57));
    }

    @Test
    void writesSucceedUntilTheRingIsFullThenChangeNothing() {
        MemorySegment w = segment();
        assertTrue(write(w, payload(40, 1)));              // 48 bytes
        assertEquals(48, RingFormat.used(w, AT));
        assertFalse(write(w, payload(9, 2)), "24 bytes needed, 16 free");
        assertEquals(48, word(w, SliceLayout.RING_WRITE), "a refused write leaves the write position");
        assertTrue(write(w, payload(8, 3)), "16 bytes: fills the ring exactly");
        assertEquals(64, RingFormat.used(w, AT));
        byte[] before = w.toArray(JAVA_BYTE);
        assertFalse(write(w, payload(0, 4)), "even an empty record needs its header");
        assertArrayEquals(before, w.toArray(JAVA_BYTE), "a full ring is left exactly as it was");
        assertFalse(write(w, payload(100, 5)), "larger than the whole ring");
        assertEquals(40, word(w, SliceLayout.RING_DATA), "first record's length");
        assertEquals(8, word(w, SliceLayout.RING_DATA + 48), "second record's length");
        List<byte[]> got = drainAll(w);
        assertEquals(2, got.size());
        assertArrayEquals(payload(40, 1), got.get(0));
        assertArrayEquals(payload(8, 3), got.get(1));
        assertEquals(64, word(w, SliceLayout.RING_READ));
        assertEquals(0, RingFormat.used(w, AT));
        assertTrue(write(w, payload(56, 6)), "all space is free again");
    }

    @Test
    void drainDeliversEveryRecordInWriteOrderOnce() {
        MemorySegment w = segment();
        int[] lens = {0, 1, 7, 8, 3};                       // 8 + 16 + 16 + 16 + 16 = 72 > 64: the last one does not fit
        boolean[] fits = {true, true, true, true, false};
        for (int i = 0; i < lens.length; i++) {
            assertEquals(fits[i], write(w, payload(lens[i], i)), "record " + i);
        }
        List<byte[]> got = drainAll(w);
        assertEquals(4, got.size());
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(payload(lens[i], i), got.get(i), "record " + i);
        }
        assertEquals(List.of(), drainAll(w), "nothing is delivered twice");
        assertEquals(0, RingFormat.drain(w, AT, new byte[64], (b, l) -> { throw new AssertionError("no record"); }));
    }

    @Test
    void aRecordWrapsAcrossTheEndOfTheData() {
        MemorySegment w = segment();
        for (int i = 0; i < 3; i++) {
            assertTrue(write(w, payload(8, i)));            // 3 x 16 bytes
        }
        assertEquals(3, drainAll(w).size());
        byte[] p = payload(24, 9);                          // 32 bytes from position 48: header 48..56, payload 56..64 then 0..16
        assertTrue(write(w, p));
        long data = AT + SliceLayout.RING_DATA;
        assertEquals(24, w.get(JAVA_LONG, data + 48), "header at the old end");
        for (int i = 0; i < 8; i++) {
            assertEquals(p[i], w.get(JAVA_BYTE, data + 56 + i), "payload byte " + i + " before the end");
        }
        for (int i = 8; i < 24; i++) {
            assertEquals(p[i], w.get(JAVA_BYTE, data + i - 8), "payload byte " + i + " after the wrap");
        }
        assertEquals(80, word(w, SliceLayout.RING_WRITE), "positions keep growing past the capacity");
        assertTrue(write(w, payload(16, 10)), "header at 16 (position 80), payload 24..40");
        assertEquals(16, w.get(JAVA_LONG, data + 16));
        List<byte[]> got = drainAll(w);
        assertEquals(2, got.size());
        assertArrayEquals(p, got.get(0));
        assertArrayEquals(payload(16, 10), got.get(1));
        assertEquals(104, word(w, SliceLayout.RING_READ));
        assertEquals(104, word(w, SliceLayout.RING_WRITE));
    }

    @Test
    void manyWrapsAgreeWithAQueue() {
        MemorySegment w = segment();
        Random rnd = new Random(42);
        ArrayDeque<byte[]> model = new ArrayDeque<>();
        long modelUsed = 0;
        for (int round = 0; round < 5000; round++) {
            if (rnd.nextInt(3) > 0) {
                byte[] p = payload(rnd.nextInt(60), round);
                long need = RingFormat.recordBytes(p.length);
                boolean fits = need <= CAPACITY - modelUsed;
                assertEquals(fits, write(w, p), "round " + round);
                if (fits) {
                    model.add(p);
                    modelUsed += need;
                }
            } else {
                for (byte[] got : drainAll(w)) {
                    assertArrayEquals(model.poll(), got, "round " + round);
                }
                assertTrue(model.isEmpty());
                modelUsed = 0;
            }
            assertEquals(modelUsed, RingFormat.used(w, AT), "round " + round);
        }
        assertTrue(word(w, SliceLayout.RING_WRITE) > 100 * CAPACITY, "the positions went round many times");
    }

    @Test
    void aDrainWhoseSinkThrowsHasConsumedTheRecordsItHandedOutAndKeepsTheRest() {
        MemorySegment w = segment();
        for (int i = 0; i < 3; i++) {
            assertTrue(write(w, payload(8, i)));
        }
        List<byte[]> delivered = new ArrayList<>();
        IllegalStateException boom = new IllegalStateException("sink failed");
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> RingFormat.drain(w, AT, new byte[64], (buf, len) -> {
                    delivered.add(Arrays.copyOf(buf, len));
                    if (delivered.size() == 2) {
                        throw boom;
                    }
                }));
        assertSame(boom, thrown);
        assertEquals(2, delivered.size());
        assertArrayEquals(payload(8, 0), delivered.get(0));
        assertArrayEquals(payload(8, 1), delivered.get(1));
        assertEquals(32, word(w, SliceLayout.RING_READ), "the record whose sink threw counts as read");
        assertEquals(16, RingFormat.used(w, AT), "one record left");
        List<byte[]> rest = drainAll(w);
        assertEquals(1, rest.size(), "the second record is not delivered again");
        assertArrayEquals(payload(8, 2), rest.getFirst());
    }
}
