package io.github.rseq4j;

import io.github.rseq4j.internal.memory.NodeArena;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A per-CPU LIFO list (a stack per slice) of nodes with a fixed payload size.
 *
 * <p>{@link #push} and {@link #pop} are rseq critical sections on the caller's slice:
 * push is "compare, speculative store (node.next = head), commit head = node" with
 * release ordering; pop is the ABA-free "load head, fail on empty, load its next, commit
 * head = next". Neither uses an atomic instruction; both always complete (falling back
 * to the stop-and-fence path when needed).
 *
 * <p>Safety: nodes come from {@link #newNode()}; the link word is outside the payload
 * segment handed out, and node memory is never returned to the system, so nothing a
 * caller does with payloads can make a pop dereference a bad address. A node passed to
 * {@link #push} is checked to be this list's node. Pushing a node that is already in a
 * list is a logic error the list cannot detect cheaply (it stays memory-safe).
 */
public final class PerCpuList {
    private final SliceMemory m;
    private final long head;
    private final long payloadBytes;
    private final NodeArena nodes;

    PerCpuList(PerCpuMemory memory, long payloadBytes) {
        if (payloadBytes <= 0 || payloadBytes > 64 * 1024) {
            throw new IllegalArgumentException("node payload must be 1 to 65536 bytes: " + payloadBytes);
        }
        this.m = memory.slices;
        this.head = memory.allocateOffset(8, 8);
        this.payloadBytes = payloadBytes;
        this.nodes = new NodeArena(payloadBytes);
    }

    /** Payload bytes per node. */
    public long payloadBytes() {
        return payloadBytes;
    }

    /** A new node's zeroed payload, not in any list. */
    public MemorySegment newNode() {
        m.checkOpen();
        return payload(nodes.allocate());
    }

    private MemorySegment payload(long node) {
        return MemorySegment.ofAddress(node + NodeArena.PAYLOAD_OFFSET).reinterpret(payloadBytes);
    }

    private long node(MemorySegment payload) {
        Objects.requireNonNull(payload, "node");
        long n = payload.address() - NodeArena.PAYLOAD_OFFSET;
        if (payload.isMapped() || !payload.isNative() || payload.byteSize() != payloadBytes || !nodes.isNode(n)) {
            throw new IllegalArgumentException("not a node of this list (use newNode() or a popped node): " + payload);
        }
        return n;
    }

    /** Pushes a node on the calling CPU's list; returns the slice index. */
    public int push(MemorySegment node) {
        long n = node(node);
        m.checkOpen();
        return (int) SliceOps.DEFAULT.push(m, head, n, NodeArena.NEXT_OFFSET);
    }

    /** Pops a node from the calling CPU's list, or returns null when that list is empty. */
    public MemorySegment pop() {
        m.checkOpen();
        long r = SliceOps.DEFAULT.pop(m, head, NodeArena.NEXT_OFFSET);
        return r >= 0 ? payload(r) : null;
    }

    /** Pops from slice {@code index}, which the caller has stopped; null when empty. */
    public MemorySegment popStopped(int index) {
        requireStopped(index);
        long r = SliceOps.popStopped(m, index, head, NodeArena.NEXT_OFFSET);
        return r >= 0 ? payload(r) : null;
    }

    /** Pushes on slice {@code index}, which the caller has stopped. */
    public void pushStopped(int index, MemorySegment node) {
        long n = node(node);
        requireStopped(index);
        SliceOps.pushStopped(m, index, head, n, NodeArena.NEXT_OFFSET);
    }

    /**
     * Moves up to {@code max} nodes from slice {@code from} to slice {@code to}, exactly:
     * both are stopped for the move (lower index first, so two movers cannot deadlock).
     * Returns how many moved.
     */
    public int migrate(int from, int to, int max) {
        m.checkOpen();
        m.checkIndex(from);
        m.checkIndex(to);
        if (max < 0) {
            throw new IllegalArgumentException("max must be >= 0: " + max);
        }
        if (from == to || max == 0) {
            return 0;
        }
        int first = Math.min(from, to), second = Math.max(from, to);
        m.stop(first);
        try {
            m.stop(second);
            try {
                int moved = 0;
                while (moved < max) {
                    long n = SliceOps.popStopped(m, from, head, NodeArena.NEXT_OFFSET);
                    if (n < 0) {
                        break;
                    }
                    SliceOps.pushStopped(m, to, head, n, NodeArena.NEXT_OFFSET);
                    moved++;
                }
                return moved;
            } finally {
                m.start(second);
            }
        } finally {
            m.start(first);
        }
    }

    /**
     * Removes every node of slice {@code index} (stopping it meanwhile) and hands each to
     * {@code sink}. Returns how many.
     */
    public int drain(int index, java.util.function.Consumer<MemorySegment> sink) {
        Objects.requireNonNull(sink, "sink");
        m.checkOpen();
        m.stop(index);
        int n = 0;
        try {
            for (long r; (r = SliceOps.popStopped(m, index, head, NodeArena.NEXT_OFFSET)) >= 0; n++) {
                sink.accept(payload(r));
            }
        } finally {
            m.start(index);
        }
        return n;
    }

    /**
     * Whether slice {@code index}'s list is empty now: an acquire load of its head, no
     * stop. A hint while other threads push and pop; exact when they do not.
     */
    public boolean isEmpty(int index) {
        m.checkIndex(index);
        return SliceOps.getAcquire(m, index, head) == 0;
    }

    /** Nodes created so far by {@link #newNode()}. */
    public long nodesCreated() {
        return nodes.count();
    }

    private void requireStopped(int index) {
        m.checkIndex(index);
        if (!m.isStopped(index)) {
            throw new IllegalStateException("slice " + index + " must be stopped (PerCpuMemory.stop) for this");
        }
    }
}
