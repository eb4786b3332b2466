package io.github.rseq4j.internal.memory;

import io.github.rseq4j.internal.os.AddressAccess;
import io.github.rseq4j.internal.runtime.RuntimeContext;

import io.github.rseq4j.internal.abi.OpResult;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * A per-CPU LIFO list (a stack per slice) of {@link NodeArena} nodes: the engine behind
 * {@code PerCpuList} and the pools' per-CPU caches. Nodes are addresses; the head of each
 * slice's list is a word of the {@link SliceMemory} allocated fresh (never a freed item's
 * offset), so nothing a user does with a stale data item can write into it.
 *
 * <p>Local operations ({@link #push}, {@link #pop}) are the generated PUSH and POP on the
 * caller's slice; remote ones ({@code *Stopped}, {@link #migrate}, {@link #drain}) run on
 * slices held with the stop protocol. Callers validate nodes ({@link #nodeOf}).
 */
public final class SliceList {
    private final SliceMemory m;
    private final long head;
    private final long payloadBytes;
    private final NodeArena nodes;
    private final SliceOps ops;

    /**
     * A list on every slice of {@code m}, empty, with a fresh head word.
     *
     * @param m            the per-CPU memory that holds the heads
     * @param payloadBytes the payload size of every node
     * @param context      the runtime's collaborators: the operations every push and pop runs
     * @throws IllegalStateException when {@code m} has no room left for the head word
     */
    public SliceList(SliceMemory m, long payloadBytes, RuntimeContext context) {
        this.m = m;
        this.ops = SliceOps.of(context);
        this.nodes = new NodeArena(payloadBytes);
        this.payloadBytes = payloadBytes;
        long h = m.allocateFresh(8, 8);
        if (h < 0) {
            throw new IllegalStateException("per-CPU memory full: no room for a list head");
        }
        this.head = h;
    }

    /**
     * The memory that holds the heads.
     *
     * @return the per-CPU memory given to the constructor
     */
    public SliceMemory memory() {
        return m;
    }

    /**
     * Payload bytes per node.
     *
     * @return the payload size given to the constructor
     */
    public long payloadBytes() {
        return payloadBytes;
    }

    /**
     * A new zeroed node, in no list.
     *
     * @return the new node's address
     */
    public long newNode() {
        return nodes.allocate();
    }

    /**
     * The payload of {@code node}.
     *
     * @param node the address of a node of this list
     * @return a segment over the node's payload, {@link #payloadBytes()} long
     */
    public MemorySegment payload(long node) {
        return nodes.segment(node + NodeArena.PAYLOAD_OFFSET, payloadBytes);
    }

    /**
     * Frees the nodes' memory where that is safe (portable mode; see {@link NodeArena}),
     * after the heads' memory was closed. Idempotent.
     */
    public void closeNodes() {
        nodes.close();
    }

    /**
     * The first payload word of {@code node}.
     *
     * @param node the address of a node with at least 8 payload bytes
     * @return the 64-bit value at the start of its payload
     */
    public static long payloadWord(long node) {
        return AddressAccess.getLong(node + NodeArena.PAYLOAD_OFFSET);
    }

    /**
     * Sets the first payload word of {@code node}.
     *
     * @param node  the address of a node with at least 8 payload bytes
     * @param value the 64-bit value to store at the start of its payload
     */
    public static void setPayloadWord(long node, long value) {
        AddressAccess.setLong(node + NodeArena.PAYLOAD_OFFSET, value);
    }

    /**
     * The node whose payload {@code payload} is.
     *
     * @param payload a segment a caller claims is a node payload of this list
     * @return the node's address
     * @throws NullPointerException     when {@code payload} is null
     * @throws IllegalArgumentException when it is not a payload this list handed out
     */
    public long nodeOf(MemorySegment payload) {
        Objects.requireNonNull(payload, "node");
        long n = payload.address() - NodeArena.PAYLOAD_OFFSET;
        if (payload.isMapped() || !payload.isNative() || payload.byteSize() != payloadBytes || !nodes.isNode(n)) {
            throw new IllegalArgumentException("not a node of this list (use newNode() or a popped node): " + payload);
        }
        return n;
    }

    /**
     * Pushes {@code node} on the caller's slice; returns the slice index.
     *
     * @param node the address of a node of this list, in no list
     * @return the index of the slice whose list the node went on
     */
    public int push(long node) {
        return (int) ops.push(m, head, node, NodeArena.NEXT_OFFSET);
    }

    /**
     * Pops from the caller's slice: a node, or {@link OpResult#EMPTY}.
     *
     * @return the popped node's address, or {@link OpResult#EMPTY}
     */
    public long pop() {
        return ops.pop(m, head, NodeArena.NEXT_OFFSET);
    }

    /**
     * Pops from slice {@code index}, which the caller holds stopped: a node, or EMPTY.
     *
     * @param index the slice the caller holds stopped
     * @return the popped node's address, or {@link OpResult#EMPTY}
     */
    public long popStopped(int index) {
        return SliceOps.popStopped(m, index, head, NodeArena.NEXT_OFFSET);
    }

    /**
     * Pushes on slice {@code index}, which the caller holds stopped.
     *
     * @param index the slice the caller holds stopped
     * @param node  the address of a node of this list, in no list
     */
    public void pushStopped(int index, long node) {
        SliceOps.pushStopped(m, index, head, node, NodeArena.NEXT_OFFSET);
    }

    /**
     * Whether slice {@code index}'s list is empty now (acquire load of its head; a hint under concurrency).
     *
     * @param index the slice whose list to look at
     * @return {@code true} when its head was 0 at the moment of the load
     * @throws IndexOutOfBoundsException when {@code index} is not a slice
     */
    public boolean isEmpty(int index) {
        m.checkIndex(index);
        return SliceOps.getAcquire(m, index, head) == 0;
    }

    /**
     * Moves up to {@code max} nodes from slice {@code from} to slice {@code to}: both are
     * stopped for the move (lower index first, so two movers cannot deadlock). Returns
     * how many moved.
     *
     * @param from the slice to take nodes from
     * @param to   the slice to push them on; the same as {@code from} moves nothing
     * @param max  the most nodes to move, at least 0
     * @return how many nodes moved
     * @throws IndexOutOfBoundsException when an index is not a slice
     * @throws IllegalArgumentException  when {@code max} is negative
     */
    public int migrate(int from, int to, int max) {
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
                for (long n; moved < max && (n = popStopped(from)) >= 0; moved++) {
                    pushStopped(to, n);
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
     * Removes every node of slice {@code index} (stopping it meanwhile), handing each to {@code sink}.
     *
     * @param index the slice whose list to empty
     * @param sink  receives each removed node's address while the slice is still stopped
     * @return how many nodes were removed
     */
    public int drain(int index, LongConsumer sink) {
        m.stop(index);
        int n = 0;
        try {
            for (long r; (r = popStopped(index)) >= 0; n++) {
                sink.accept(r);
            }
        } finally {
            m.start(index);
        }
        return n;
    }

    /**
     * Nodes created so far.
     *
     * @return how many nodes this list's arena has handed out
     */
    public long nodesCreated() {
        return nodes.count();
    }
}
