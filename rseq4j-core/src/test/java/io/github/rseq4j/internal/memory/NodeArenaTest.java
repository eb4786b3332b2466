package io.github.rseq4j.internal.memory;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link NodeArena}'s node check: which addresses count as nodes (the stride test itself is
 * {@link StrideIndexTest}'s).
 */
class NodeArenaTest {

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
