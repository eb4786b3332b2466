package io.github.rseq4j;

import io.github.rseq4j.internal.abi.RingFormat;
import io.github.rseq4j.internal.abi.SliceLayout;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Per-CPU byte rings for records of up to {@value #MAX_RECORD} bytes: many writers (each
 * writes the ring of the CPU it runs on) and one reader at a time.
 *
 * <p>A write is one rseq critical section: check the room left, copy the record into free
 * space (safe to redo after an abort, since nothing reads free space), then commit the new
 * write position with a release store. No atomic instruction on the write path.
 * Records of one CPU's ring are read in the order they were committed there.
 */
public final class PerCpuRing {
    /** Largest record. */
    public static final int MAX_RECORD = 4096;

    private final SliceMemory m;
    /** The operations of the context the memory was built with (for the process's, {@link SliceOps#DEFAULT}). */
    private final SliceOps ops;
    private final long ring;
    private final long capacity;
    /** The reader's copy buffer (guarded by this). */
    private byte[] drainBuffer;

    PerCpuRing(PerCpuMemory memory, long capacity) {
        this.m = memory.slices;
        this.ops = memory.ops;
        this.capacity = capacity;
        this.ring = memory.allocateOffset(bytesPerSlice(capacity), 64);
        for (int i = 0; i < m.slices(); i++) {
            RingFormat.init(m.whole(), m.at(i, ring), capacity);
        }
    }

    /**
     * Per-CPU bytes a ring of {@code capacity} takes (its header and records).
     *
     * @throws IllegalArgumentException when {@code capacity} is not a power of two from 256
     *                                  to half a slice
     */
    static long bytesPerSlice(long capacity) {
        if (capacity < 256 || capacity > SliceLayout.STRIDE / 2 || Long.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("ring capacity must be a power of two from 256 to "
                    + SliceLayout.STRIDE / 2 + ": " + capacity);
        }
        return SliceLayout.RING_DATA + capacity;
    }

    /**
     * Bytes per CPU.
     *
     * @return the size of each slice's ring in bytes, as given to
     *         {@link PerCpuMemory#newRing(long)}
     */
    public long capacity() {
        return capacity;
    }

    /**
     * Ring bytes a record of {@code len} payload bytes takes.
     *
     * @param len the record's payload size in bytes
     * @return the ring space the record uses: an 8-byte length header plus the payload,
     *         rounded up to a multiple of 8
     */
    public static long recordBytes(long len) {
        return RingFormat.recordBytes(len);
    }

    /**
     * Appends {@code record} (heap or native, at most {@value #MAX_RECORD} bytes) to the
     * calling CPU's ring. Returns the slice index, or {@link RseqResult#FULL} when that
     * ring has no room.
     *
     * <p>When waiting for room, back off ({@code Thread.yield()}, a park) rather than
     * retrying in a tight loop: a loop made only of critical downcalls may keep the JVM
     * from reaching a safepoint for a long time (measured here: seconds), stalling every
     * other thread at the next garbage collection. {@link PerCpuRingBuffer}'s
     * {@code WAIT} policy backs off this way.
     *
     * @param record the bytes to append, all of the segment (it is copied; the caller may
     *               reuse it on return)
     * @return the index of the slice whose ring took the record, or {@link RseqResult#FULL}
     * @throws IllegalArgumentException when the record is longer than {@value #MAX_RECORD}
     *                                  bytes or does not fit in an empty ring
     * @throws IllegalStateException    when the memory is closed
     */
    public long write(MemorySegment record) {
        Objects.requireNonNull(record, "record");
        long len = record.byteSize();
        if (len > MAX_RECORD || recordBytes(len) > capacity) {
            throw new IllegalArgumentException("record of " + len + " bytes is larger than the limit ("
                    + Math.min(MAX_RECORD, capacity - 8) + ")");
        }
        m.checkOpen();
        return ops.ringWrite(m, ring, readable(record), len);
    }

    /**
     * A source generated code may read: heap and native segments as they are; a
     * memory-mapped segment copied through Java first, because a load from a file page
     * that has gone (a truncated file) faults, which Java turns into an exception but
     * generated code cannot.
     */
    static MemorySegment readable(MemorySegment record) {
        return record.isMapped() ? MemorySegment.ofArray(record.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)) : record;
    }

    /**
     * Reads every record committed so far, ring by ring (in commit order within a ring),
     * and frees their space. One reader at a time (callers are serialised). A record is
     * delivered once: when {@code handler} throws, the records already handed to it
     * (including the one it threw on) are gone from the ring, the rest stay for the next
     * drain. Returns how many records were delivered.
     *
     * @param <X>     what the handler may throw (checked exceptions such as {@code IOException} included)
     * @param handler receives each record with the index of the slice whose ring held it;
     *                called on this thread, one record at a time
     * @return how many records were delivered to {@code handler}
     * @throws X whatever {@code handler} threw; the drain stops there
     */
    public synchronized <X extends Exception> long drain(RecordHandler<X> handler) throws X {
        Objects.requireNonNull(handler, "handler");
        if (drainBuffer == null) {
            drainBuffer = new byte[MAX_RECORD];
        }
        if (m.isReleased()) {
            throw new IllegalStateException("the per-CPU memory of this ring is closed: its records are gone with it");
        }
        byte[] buf = drainBuffer;
        long n = 0;
        for (int i = 0; i < m.slices(); i++) {
            int index = i;
            n += RingFormat.drain(m.whole(), m.at(i, ring), buf, (b, len) -> handler.onRecord(index, b, len));
        }
        return n;
    }

    /**
     * Committed, unread bytes in slice {@code index}'s ring.
     *
     * @param index the slice whose ring to look at
     * @return the ring bytes its unread records take, headers and padding included
     */
    public long used(int index) {
        m.checkIndex(index);
        return RingFormat.used(m.whole(), m.at(index, ring));
    }

    /**
     * The ring's size, without reading any slice.
     *
     * @return {@code PerCpuRing[capacity=.. bytes, N slices]}, with {@code closed} once its memory is
     */
    @Override
    public String toString() {
        return "PerCpuRing[capacity=" + capacity + " bytes, " + m.slices() + " slices"
                + (m.isClosed() ? ", closed" : "") + "]";
    }
}
