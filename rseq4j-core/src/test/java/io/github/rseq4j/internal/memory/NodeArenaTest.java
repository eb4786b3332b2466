package io.github.rseq4j.internal.memory;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link NodeArena}'s node check: the division-free stride test against {@code %}, and
 * which addresses count as nodes.
 */
class NodeArenaTest {

    @Test
    void theStrideTestAgreesWithTheRemainder() {
        Random rnd = new Random(0x57_121DEL);
        for (long payload = 1; payload <= NodeArena.CHUNK_BYTES / 2; payload = payload < 600 ? payload + 1
                : payload + 1 + rnd.nextInt(20_000)) {
            NodeArena a = new NodeArena(payload);
            long stride = a.stride();
            for (long x = 0; x < Math.min(4 * stride + 40, 20_000); x++) {
                assertEquals(x % stride == 0, a.isStrideMultiple(x), "payload " + payload + ", x " + x);
            }
            for (int i = 0; i < 300; i++) {
                long x = rnd.nextLong(NodeArena.CHUNK_BYTES);
                long m = x / stride * stride;
                for (long y : new long[]{x, m, m + 1, m + 8, m + 16, m - 16, m + stride - 1}) {
                    if (y >= 0) {
                        assertEquals(y % stride == 0, a.isStrideMultiple(y), "payload " + payload + ", x " + y);
                    }
                }
            }
        }
    }

    @Test
    void onlyHandedOutNodeStartsAreNodes() {
        NodeArena a = new NodeArena(64);      // stride 80: not a power of two
        assertEquals(80, a.stride());
        long first = a.allocate(), second = a.allocate(), third = a.allocate();
        assertEquals(first + 80, second);
        assertEquals(second + 80, third);
        for (long n : new long[]{first, second, third}) {
            assertTrue(a.isNode(n));
            assertFalse(a.isNode(n + 8));
            assertFalse(a.isNode(n + 16));
            assertFalse(a.isNode(n - 16));
        }
        assertFalse(a.isNode(third + 80), "not handed out yet");
        assertFalse(a.isNode(0));
        assertFalse(a.isNode(-first));
    }
}
