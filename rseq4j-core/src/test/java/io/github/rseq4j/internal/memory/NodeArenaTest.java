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

    @Test
    void nodesOfEveryChunkAreNodesAndNothingElseIs() {
        NodeArena empty = new NodeArena(64);
        for (long address : new long[]{0, 80, 160, NodeArena.CHUNK_BYTES / 2, NodeArena.CHUNK_BYTES - 80}) {
            assertFalse(empty.isNode(address), "no chunk mapped yet: " + address);
        }

        NodeArena a = new NodeArena(256 * 1024);    // 3 nodes per 1 MiB chunk
        long stride = a.stride();
        int perChunk = (int) (NodeArena.CHUNK_BYTES / stride);
        assertEquals(3, perChunk);
        long[] nodes = new long[3 * perChunk + 1];  // three full chunks and one node of a fourth
        for (int i = 0; i < nodes.length; i++) {
            nodes[i] = a.allocate();
        }
        for (int i = 0; i < nodes.length; i++) {
            long n = nodes[i];
            assertTrue(a.isNode(n), "node " + i + " (chunk " + i / perChunk + ")");
            assertFalse(a.isNode(n + 16), "inside node " + i);
            assertFalse(a.isNode(n + stride / 2), "inside node " + i);
        }
        long newest = nodes[nodes.length - 1];
        assertFalse(a.isNode(newest + stride), "the newest chunk's next node is not handed out yet");
        assertFalse(a.isNode(newest + 2 * stride), "the newest chunk's last node is not handed out yet");
        for (int c = 0; c < 3; c++) {
            long lastOfChunk = nodes[c * perChunk + perChunk - 1];
            assertFalse(a.isNode(lastOfChunk + stride), "chunk " + c + "'s tail holds no whole node");
        }
    }
}
