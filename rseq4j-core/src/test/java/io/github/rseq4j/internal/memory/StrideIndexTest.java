package io.github.rseq4j.internal.memory;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link StrideIndex} against {@code /} and {@code %}: small strides exhaustively, large ones sampled. */
class StrideIndexTest {

    private static long expected(long off, long stride) {
        return off >= 0 && off % stride == 0 ? off / stride : -1;
    }

    private static void check(StrideIndex s, long off) {
        assertEquals(expected(off, s.stride()), s.indexOf(off), "stride " + s.stride() + ", offset " + off);
    }

    @Test
    void agreesWithDivision() {
        Random rnd = new Random(0x57_121DEL);
        long[] edges = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 1, 1L << 62, -(1L << 40)};
        for (long stride = 1; stride < 1L << 42; stride = stride < 1100 ? stride + 1 : stride + 1 + rnd.nextLong(stride)) {
            for (long st : new long[]{stride, stride * 16, stride * 64, stride * 4096}) {
                StrideIndex s = new StrideIndex(st);
                for (long off = -3; off < Math.min(3 * st + 20, 5000); off++) {
                    check(s, off);
                }
                for (long e : edges) {
                    check(s, e);
                }
                for (int i = 0; i < 40; i++) {
                    long k = rnd.nextLong(1L << 20);
                    long m = k * st;
                    for (long off : new long[]{m, m + 1, m - 1, m + 16, m + st / 2, -m, rnd.nextLong(), rnd.nextLong() & Long.MAX_VALUE}) {
                        check(s, off);
                    }
                }
            }
        }
    }

    @Test
    void theStrideMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new StrideIndex(0));
        assertThrows(IllegalArgumentException.class, () -> new StrideIndex(-16));
    }
}
