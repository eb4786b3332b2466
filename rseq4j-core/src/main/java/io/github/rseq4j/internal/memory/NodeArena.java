package io.github.rseq4j.internal.memory;

import io.github.rseq4j.internal.os.AddressAccess;
import io.github.rseq4j.internal.os.Libc;

import io.github.rseq4j.internal.runtime.JitConstants;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;


/**
 * Fixed-size list nodes in native memory.
 *
 * <p>A node is {@code stride} bytes: the link word at offset 0 (owned by rseq4j, never
 * handed out) then the payload. Chunks of {@value #CHUNK_BYTES} bytes are added as
 * needed; {@link #isNode} lets callers validate an address before an operation uses it.
 *
 * <p><b>Implementation notes.</b> Where the chunks come from depends on who can hold a node's
 * address:
 * <ul>
 * <li>rseq mode: generated code links nodes by address, and a pop running on another
 *     thread may read a node whatever its owner did meanwhile. So chunks are mapped and
 *     never unmapped (or freed): an address that was valid once stays dereferenceable for
 *     the life of the process. {@link #close()} only forbids further allocation.</li>
 * <li>portable mode: nodes are read only by Java code, through segments that check their
 *     arena. Chunks are allocated from a shared {@link Arena} this node arena owns and
 *     registered with {@link AddressAccess}; {@link #close()} (called when the list's
 *     memory is closed) unregisters them and closes the arena, so the memory is freed
 *     (issue 18, defect 6: a list used to keep 1 MiB for the life of the process). A
 *     payload segment kept past the close then throws {@link IllegalStateException} on
 *     access, and an address of a freed chunk no longer resolves, so nothing can read
 *     freed memory. Unreachable without {@code close()}, the arena is closed by a
 *     {@link Cleaner}.</li>
 * </ul>
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
    /** Portable mode's chunks and their arena (null in rseq mode: chunks are never freed). */
    private final OwnedChunks owned;
    private final Cleaner.Cleanable cleanable;
    private boolean closed;

    private static final Cleaner CLEANER = Cleaner.create();

    /** Portable mode's chunks: allocated from one shared arena, registered for {@link AddressAccess}. */
    private static final class OwnedChunks implements Runnable {
        final Arena arena = Arena.ofShared();
        /** The chunks, oldest first; replaced (never changed) when one is added, emptied on close. */
        volatile MemorySegment[] chunks = new MemorySegment[0];

        /** Called under the node arena's lock. */
        MemorySegment allocate() {
            MemorySegment chunk = arena.allocate(CHUNK_BYTES, 4096);
            AddressAccess.register(chunk);
            MemorySegment[] grown = java.util.Arrays.copyOf(chunks, chunks.length + 1);
            grown[grown.length - 1] = chunk;
            chunks = grown;
            return chunk;
        }

        /** Unregisters the chunks and frees them (once: the node arena's close or its cleaner). */
        @Override
        public void run() {
            MemorySegment[] all = chunks;
            chunks = new MemorySegment[0];
            for (MemorySegment c : all) {
                AddressAccess.unregister(c);
            }
            arena.close();
        }
    }

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
        if (JitConstants.RSEQ && Libc.AVAILABLE) {
            this.owned = null;
            this.cleanable = null;
        } else {
            this.owned = new OwnedChunks();
            this.cleanable = CLEANER.register(this, owned);
        }
    }

    /**
     * A new zeroed node's address.
     *
     * @return the address of a node no one has had before (its link word at
     *         {@link #NEXT_OFFSET}, its payload at {@link #PAYLOAD_OFFSET})
     */
    public synchronized long allocate() {
        if (closed) {
            throw new IllegalStateException("this list's memory is closed");
        }
        if (cursor + stride > limit) {
            long base = owned != null ? owned.allocate().address() : mapChunk();
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

    /** A new chunk for rseq mode: mapped, never unmapped. */
    private static long mapChunk() {
        return Libc.mmapAnonymous(CHUNK_BYTES, Libc.PROT_READ | Libc.PROT_WRITE, true);
    }

    /**
     * Forbids further allocation; in portable mode also frees every chunk (see the class
     * notes), after which no address of this arena is a node or resolves. Idempotent.
     */
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            newestStart = 0;
            chunks = new long[0][];
            cursor = 0;
            limit = 0;
        }
        if (cleanable != null) {
            cleanable.clean();
        }
    }

    /**
     * A segment over {@code bytes} at {@code address}, inside a node of this arena.
     *
     * @param address the first byte, inside a node handed out by {@link #allocate()}
     * @param bytes   the length
     * @return a segment over those bytes; in portable mode bound to the chunks' arena, so
     *         it throws {@link IllegalStateException} once {@link #close()} freed them
     * @throws IllegalArgumentException when the range is not in this arena's memory
     * @throws IllegalStateException    in portable mode after {@link #close()}
     */
    public MemorySegment segment(long address, long bytes) {
        if (owned == null) {
            return AddressAccess.segment(address, bytes);
        }
        MemorySegment[] all = owned.chunks;
        for (int k = all.length - 1; k >= 0; k--) {  // the newest chunk first: most nodes are there
            MemorySegment c = all[k];
            long off = address - c.address();
            if (off >= 0 && off <= CHUNK_BYTES - bytes) {
                return c.asSlice(off, bytes);
            }
        }
        if (closed()) {
            throw new IllegalStateException("this list's memory is closed");
        }
        throw new IllegalArgumentException("address 0x" + Long.toHexString(address) + " is not in this list's nodes");
    }

    private synchronized boolean closed() {
        return closed;
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
