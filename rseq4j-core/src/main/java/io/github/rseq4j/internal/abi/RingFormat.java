package io.github.rseq4j.internal.abi;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static io.github.rseq4j.internal.abi.SliceLayout.*;

/**
 * The byte-ring format shared by the generated ring write, its fallback and the reader.
 *
 * <p>A ring item is {@code RING_DATA + capacity} bytes: write position, read position,
 * capacity - 1, then the data. Positions only grow; a byte at position p lives at
 * {@code p & (capacity - 1)}. A record is an 8-byte length followed by the payload
 * padded to 8, so no 8-byte word straddles the end. Writers (one slice, one CPU at a
 * time) fill free space and publish with a release store of the write position; the single
 * reader reads up to an acquire load of it and frees space with a release store of the
 * read position.
 */
public final class RingFormat {
    private RingFormat() {}

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    /**
     * Bytes a record of {@code len} payload bytes takes.
     *
     * @param len the record's payload size in bytes
     * @return the 8-byte length header plus the payload, rounded up to a multiple of 8
     */
    public static long recordBytes(long len) {
        return (len + RING_RECORD_HEADER + 7) & -8L;
    }

    /**
     * Initialises the ring at {@code at} in {@code w} (all positions 0).
     *
     * @param w        the whole per-CPU memory the ring lives in
     * @param at       the byte offset of the ring item in {@code w}, for one slice
     * @param capacity the ring's data size in bytes, a power of two
     */
    public static void init(MemorySegment w, long at, long capacity) {
        LONG.setVolatile(w, at + RING_WRITE, 0L);
        LONG.setVolatile(w, at + RING_READ, 0L);
        LONG.setVolatile(w, at + RING_MASK, capacity - 1);
    }

    /**
     * Appends a record to a ring the caller owns exclusively; false when it has no room.
     *
     * @param w   the whole per-CPU memory the ring lives in
     * @param at  the byte offset of the ring item in {@code w}, for the slice the caller holds
     * @param src the record's bytes
     * @param len how many bytes of {@code src}, from its start, make the record
     * @return {@code true} when the record was written and published, {@code false} when the
     *         ring had no room and nothing was written
     */
    public static boolean writeStopped(MemorySegment w, long at, MemorySegment src, long len) {
        long wp = w.get(ValueLayout.JAVA_LONG, at + RING_WRITE);
        // acquire (ldar on aarch64): pairs with the drain's release store of RING_READ, so the
        // drain's reads of the space it freed come before the record written into it here
        long rp = (long) LONG.getAcquire(w, at + RING_READ);
        long mask = w.get(ValueLayout.JAVA_LONG, at + RING_MASK);
        long need = recordBytes(len);
        if (need > mask + 1 - (wp - rp)) {
            return false;
        }
        long data = at + RING_DATA;
        w.set(ValueLayout.JAVA_LONG, data + (wp & mask), len);
        long start = (wp + RING_RECORD_HEADER) & mask;
        long first = Math.min(len, mask + 1 - start);   // the bytes before the end of the ring
        MemorySegment.copy(src, 0, w, data + start, first);
        MemorySegment.copy(src, first, w, data, len - first);
        LONG.setRelease(w, at + RING_WRITE, wp + need);
        return true;
    }

    /**
     * Receives records read from a ring, copied out.
     *
     * @param <X> what {@link #accept} may throw; {@link #drain} rethrows it
     */
    @FunctionalInterface
    public interface RecordSink<X extends Exception> {
        /**
         * One record: its {@code len} bytes are {@code buf[0, len)}, valid only during the call.
         *
         * @param buf the drain's copy buffer, reused for the next record
         * @param len the record's size in bytes
         * @throws X to stop the drain, which rethrows it
         */
        void accept(byte[] buf, int len) throws X;
    }

    /**
     * Reads every committed record of one ring in order: copies each into {@code buf}
     * (at least {@code MAX_RECORD} bytes), frees its space with a release store of the
     * read position, then hands the copy to {@code sink}. So a record is delivered at
     * most once even when {@code sink} throws (the records after it stay in the ring).
     * Single reader per ring. Returns how many records were delivered.
     *
     * @param <X>  what {@code sink} may throw
     * @param w    the whole per-CPU memory the ring lives in
     * @param at   the byte offset of the ring item in {@code w}, for one slice
     * @param buf  the copy buffer handed to {@code sink}, at least {@code MAX_RECORD} bytes
     * @param sink receives each record in commit order
     * @return how many records were delivered to {@code sink}
     * @throws X whatever {@code sink} threw; the records after that one stay in the ring
     */
    public static <X extends Exception> long drain(MemorySegment w, long at, byte[] buf, RecordSink<X> sink) throws X {
        long rp = w.get(ValueLayout.JAVA_LONG, at + RING_READ);
        // acquire (ldar on aarch64): the records up to wp, which RING_WRITE's stlr commit published
        long wp = (long) LONG.getAcquire(w, at + RING_WRITE);
        long mask = w.get(ValueLayout.JAVA_LONG, at + RING_MASK);
        MemorySegment data = w.asSlice(at + RING_DATA, mask + 1);
        long n = 0;
        while (rp < wp) {
            long len = data.get(ValueLayout.JAVA_LONG, rp & mask);
            copyOut(data, rp + RING_RECORD_HEADER, mask, len, buf, 0);
            rp += recordBytes(len);
            // release (stlr on aarch64): the copy out of the record before the space is free
            // again; writers read RING_READ with an acquire (writeStopped) or follow it by a
            // control dependency to their stores (RING_WRITE's section)
            LONG.setRelease(w, at + RING_READ, rp);
            n++;
            sink.accept(buf, (int) len);
        }
        return n;
    }

    /**
     * Copies a record's payload out of ring data into {@code dst}.
     *
     * @param ringData the ring's data area alone ({@code capacity} bytes)
     * @param position the ring position of the payload's first byte (positions only grow;
     *                 it is masked here)
     * @param mask     the ring's capacity - 1
     * @param len      the payload's size in bytes
     * @param dst      the array to copy into
     * @param dstOff   where in {@code dst} the payload's first byte goes
     */
    public static void copyOut(MemorySegment ringData, long position, long mask, long len, byte[] dst, int dstOff) {
        long start = position & mask;
        long first = Math.min(len, mask + 1 - start);
        MemorySegment.copy(ringData, ValueLayout.JAVA_BYTE, start, dst, dstOff, (int) first);
        if (first < len) {
            MemorySegment.copy(ringData, ValueLayout.JAVA_BYTE, 0, dst, dstOff + (int) first, (int) (len - first));
        }
    }

    /**
     * Committed bytes not yet read.
     *
     * @param w  the whole per-CPU memory the ring lives in
     * @param at the byte offset of the ring item in {@code w}, for one slice
     * @return the ring bytes the committed, unread records take
     */
    public static long used(MemorySegment w, long at) {
        return (long) LONG.getAcquire(w, at + RING_WRITE) - (long) LONG.getAcquire(w, at + RING_READ);
    }
}
