package io.github.rseq4j.internal.memory;

import io.github.rseq4j.internal.os.AddressAccess;
import io.github.rseq4j.internal.os.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;


/**
 * Fixed-size list nodes in native memory that is never unmapped (or freed), so a node address that
 * was valid once stays dereferenceable for the life of the process: a pop running on
 * another thread can never fault on a node, whatever its owner did meanwhile.
 *
 * <p>A node is {@code stride} bytes: the link word at offset 0 (owned by rseq4j, never
 * handed out) then the payload. Chunks of {@value #CHUNK_BYTES} bytes are mapped as
 * needed; {@link #isNode} lets callers validate an address before generated code uses it.
 */
public final class NodeArena {
    static final long CHUNK_BYTES = 1L << 20;
    /** Offset of the link word in a node. */
    public static final long NEXT_OFFSET = 0;
    /** Offset of the payload in a node. */
    public static final long PAYLOAD_OFFSET = 8;

    private final long stride;
    /** Offsets to node indexes: the node check runs on every push. */
    private final StrideIndex strideIndex;
    /** Mapped chunks as {start, end} pairs, oldest first; replaced (never changed) when one is added. */
    private volatile long[][] chunks = new long[0][];
    /**
     * Where the newest chunk starts (it is also in {@link #chunks}; every chunk is
     * {@value #CHUNK_BYTES} bytes, so one word says where it ends too and cannot be read
     * torn): {@link #isNode} checks it first, with no dependent load (the loop over
     * {@code chunks} is a chain of four dependent loads, on every push).
     * Written under the lock before {@code chunks} and {@code cursor}; 0 while no chunk is
     * mapped.
     */
    private volatile long newestStart;
    /** Next free node (written under the lock, read without it). */
    private volatile long cursor;
    private long limit;
    private long count;

    /**
     * An arena of nodes with {@code payloadBytes} of payload each; no memory is mapped
     * until the first {@link #allocate()}.
     *
     * @param payloadBytes the payload size of every node, 1 to half a chunk
     * @throws IllegalArgumentException when {@code payloadBytes} is out of range
     */
    public NodeArena(long payloadBytes) {
        if (payloadBytes <= 0 || payloadBytes > CHUNK_BYTES / 2) {
            throw new IllegalArgumentException("node payload must be 1 to " + CHUNK_BYTES / 2 + " bytes: " + payloadBytes);
        }
        this.stride = (PAYLOAD_OFFSET + payloadBytes + 15) & -16L;
        this.strideIndex = new StrideIndex(stride);
    }

    /**
     * A new zeroed node's address.
     *
     * @return the address of a node no one has had before (its link word at
     *         {@link #NEXT_OFFSET}, its payload at {@link #PAYLOAD_OFFSET})
     */
    public synchronized long allocate() {
        if (cursor + stride > limit) {
            long base = mapChunk();
            long[][] grown = java.util.Arrays.copyOf(chunks, chunks.length + 1);
            grown[grown.length - 1] = new long[]{base, base + CHUNK_BYTES};
            newestStart = base;
            chunks = grown;
            cursor = base;
            limit = base + CHUNK_BYTES / stride * stride;
        }
        long n = cursor;
        cursor += stride;
        count++;
        return n;
    }

    /**
     * A new chunk, never freed: mapped where rseq4j has native access, else from the global
     * arena (portable mode without native access), registered for {@link AddressAccess}.
     */
    private static long mapChunk() {
        if (Libc.AVAILABLE) {
            return Libc.mmapAnonymous(CHUNK_BYTES, Libc.PROT_READ | Libc.PROT_WRITE, true);
        }
        MemorySegment chunk = Arena.global().allocate(CHUNK_BYTES, 4096);
        AddressAccess.register(chunk);
        return chunk.address();
    }

    /**
     * Whether {@code address} is the start of a node this arena has handed out.
     *
     * @param address any address, typically one derived from a caller's payload segment
     * @return {@code true} only for the address of a node returned by {@link #allocate()}
     */
    public boolean isNode(long address) {
        long start = newestStart;                    // read before the cursor, as the chunks below
        if (start != 0 && address - start >= 0 && address - start < CHUNK_BYTES) {
            return isNodeIn(address, start, start + CHUNK_BYTES, cursor);
        }
        long[][] all = chunks;
        long handedOut = cursor;
        for (int k = all.length - 1; k >= 0; k--) {  // the newest chunk first: most nodes are there
            long[] c = all[k];
            if (address >= c[0] && address < c[1]) {
                return isNodeIn(address, c[0], c[1], handedOut);
            }
        }
        return false;
    }

    /**
     * Whether {@code address}, inside the chunk [{@code start}, {@code end}), is a node
     * start that was handed out: on the stride, wholly inside the chunk, and below the
     * cursor when the cursor is in this chunk (a cursor read after the chunk's bounds).
     */
    private boolean isNodeIn(long address, long start, long end, long handedOut) {
        boolean inCursorChunk = handedOut > start && handedOut <= end;
        return strideIndex.indexOf(address - start) >= 0 && address + stride <= end
                && (!inCursorChunk || address < handedOut);
    }

    /**
     * Bytes between consecutive nodes.
     *
     * @return the node size: link word plus payload, rounded up to 16
     */
    public long stride() {
        return stride;
    }

    /**
     * Nodes handed out so far.
     *
     * @return how many times {@link #allocate()} has returned a node
     */
    public synchronized long count() {
        return count;
    }
}
