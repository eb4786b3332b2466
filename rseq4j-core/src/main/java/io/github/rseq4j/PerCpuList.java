package io.github.rseq4j;

import io.github.rseq4j.internal.memory.SliceList;
import io.github.rseq4j.internal.memory.SliceMemory;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A per-CPU LIFO list (a stack per slice) of nodes with a fixed payload size.
 *
 * <p>{@link #push} and {@link #pop} are rseq critical sections on the caller's slice:
 * push is "load head, speculative store (node.next = head), commit head = node" with
 * release ordering; pop is the ABA-free "load head, fail on empty, load its next, commit
 * head = next". Neither uses an atomic instruction; both always complete (falling back
 * to the stop-and-fence path when needed).
 *
 * <p>Remote operations work on a slice the caller holds with a {@link StoppedSlice}
 * ({@link #popStopped}, {@link #pushStopped}) or stop slices themselves
 * ({@link #migrate}, {@link #drain}).
 *
 * <p>Safety: nodes come from {@link #newNode()}; the link word is outside the payload
 * segment handed out, so nothing a caller does with payloads can make a pop dereference
 * a bad address. A node passed to {@link #push} is checked to be this list's node.
 * Pushing a node that is already in a list is a logic error the list cannot detect
 * cheaply (it stays memory-safe).
 *
 * <p><b>Implementation notes.</b> Node memory is never returned to the operating system, which is what makes
 * a racing pop safe.
 */
public final class PerCpuList {
    private final SliceMemory m;
    private final SliceList list;

    PerCpuList(PerCpuMemory memory, long payloadBytes) {
        if (payloadBytes <= 0 || payloadBytes > 64 * 1024) {
            throw new IllegalArgumentException("node payload must be 1 to 65536 bytes: " + payloadBytes);
        }
        this.m = memory.slices;
        m.checkOpen();
        this.list = new SliceList(m, payloadBytes, memory.ops.context());   // the memory's context
        memory.own(list);
    }

    /**
     * Payload bytes per node.
     *
     * @return the size of each node's payload segment, as given to
     *         {@link PerCpuMemory#newList(long)}
     */
    public long payloadBytes() {
        return list.payloadBytes();
    }

    /**
     * A new node's zeroed payload, not in any list.
     *
     * @return the payload segment of a newly made node, {@link #payloadBytes()} long; pass
     *         it to {@link #push} to put the node in a list
     * @throws IllegalStateException when the memory is closed
     */
    public MemorySegment newNode() {
        m.checkOpen();
        return list.payload(list.newNode());
    }

    /**
     * Pushes a node on the calling CPU's list; returns the slice index.
     *
     * @param node the payload of a node of this list, from {@link #newNode()} or a pop, and
     *             in no list now
     * @return the index of the slice whose list the node went on
     * @throws IllegalArgumentException when {@code node} is not a node payload of this list
     * @throws IllegalStateException    when the memory is closed
     */
    public int push(MemorySegment node) {
        m.checkOpen(); // first: a closed list's nodes are no longer its nodes
        long n = list.nodeOf(node);
        return list.push(n);
    }

    /**
     * Pops a node from the calling CPU's list, or returns null when that list is empty.
     *
     * @return the payload of the node taken off the list, now the caller's, or {@code null}
     *         when the calling CPU's list is empty
     * @throws IllegalStateException when the memory is closed
     */
    public MemorySegment pop() {
        m.checkOpen();
        long r = list.pop();
        // the payload is read through r: an address dependency on POP's head load (see POP)
        return r >= 0 ? list.payload(r) : null;
    }

    /**
     * Pops from the slice {@code slice} holds stopped; null when its list is empty.
     *
     * @param slice the caller's hold on the slice to pop from, from this list's memory
     * @return the payload of the node taken off that slice's list, or {@code null} when the
     *         list is empty
     * @throws IllegalStateException when {@code slice} is closed
     */
    public MemorySegment popStopped(StoppedSlice slice) {
        long r = list.popStopped(slice.requireHeld(m));
        return r >= 0 ? list.payload(r) : null;
    }

    /**
     * Pushes on the slice {@code slice} holds stopped.
     *
     * @param slice the caller's hold on the slice to push on, from this list's memory
     * @param node  the payload of a node of this list, in no list now
     * @throws IllegalArgumentException when {@code node} is not a node payload of this list
     * @throws IllegalStateException when {@code slice} is closed
     */
    public void pushStopped(StoppedSlice slice, MemorySegment node) {
        long n = list.nodeOf(node);
        list.pushStopped(slice.requireHeld(m), n);
    }

    /**
     * Moves up to {@code max} nodes from slice {@code from} to slice {@code to}, exactly:
     * both are stopped for the move (lower index first, so two movers cannot deadlock).
     * Returns how many moved.
     *
     * @param from the index of the slice to take nodes from (from the top of its list)
     * @param to   the index of the slice to push them on; the same as {@code from} moves
     *             nothing
     * @param max  the most nodes to move, at least 0
     * @return how many nodes moved, fewer than {@code max} when {@code from}'s list ran out
     * @throws IndexOutOfBoundsException when an index is not a slice
     * @throws IllegalArgumentException  when {@code max} is negative
     */
    public int migrate(int from, int to, int max) {
        m.checkOpen();
        return list.migrate(from, to, max);
    }

    /**
     * Removes every node of slice {@code index} (stopping it meanwhile) and hands each to
     * {@code sink}. Returns how many.
     *
     * @param index the slice whose list to empty
     * @param sink  receives each removed node's payload, in pop order, while the slice is
     *              still stopped; the nodes become the caller's
     * @return how many nodes were removed
     * @throws IndexOutOfBoundsException when {@code index} is not a slice
     */
    public int drain(int index, Consumer<MemorySegment> sink) {
        Objects.requireNonNull(sink, "sink");
        m.checkOpen();
        m.checkIndex(index);
        return list.drain(index, n -> sink.accept(list.payload(n)));
    }

    /**
     * Whether slice {@code index}'s list is empty now: an acquire load of its head, no
     * stop. A hint while other threads push and pop; exact when they do not.
     *
     * @param index the slice whose list to look at
     * @return {@code true} when that slice's list had no node at the moment of the load
     */
    public boolean isEmpty(int index) {
        return list.isEmpty(index);
    }

    /**
     * Nodes created so far by {@link #newNode()}.
     *
     * @return how many nodes this list has made, in lists or not (nodes are never freed)
     */
    public long nodesCreated() {
        return list.nodesCreated();
    }

    /** For example {@code PerCpuList[payload=64 bytes, nodes created=3, 2 slices]} ({@code closed} once its memory is). */
    @Override
    public String toString() {
        return "PerCpuList[payload=" + payloadBytes() + " bytes, nodes created=" + nodesCreated() + ", "
                + m.slices() + " slices" + (m.isClosed() ? ", closed" : "") + "]";
    }
}
