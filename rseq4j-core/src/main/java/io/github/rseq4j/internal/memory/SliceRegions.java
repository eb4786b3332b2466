package io.github.rseq4j.internal.memory;

import io.github.rseq4j.internal.abi.SliceLayout;
import io.github.rseq4j.internal.os.Libc;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The process's per-CPU address space in rseq mode: chunks of {@code slices} slices at the
 * stride generated code is built for ({@link SliceLayout#STRIDE}), each chunk carved into
 * regions, one region per {@link SliceMemory}. A region is the same page-aligned range of
 * every slice of its chunk, sized to what its owner asked for (see {@link #regionBytes}),
 * so small structures share a chunk instead of reserving a stride per CPU each.
 *
 * <p><b>Implementation notes.</b>
 * <ul>
 * <li>Chunks are {@code mmap(MAP_NORESERVE)} and never unmapped: generated code and
 *     racing Java readers may still hold addresses in a region whose owner has been
 *     closed, and an access to mapped memory cannot fault.</li>
 * <li>{@link #release} gives a region's pages back at once ({@code MADV_DONTNEED}: they
 *     read as zero and cost nothing until touched again) and quarantines its address range
 *     for {@link #GRACE_NANOS}. The owner has, before that, stopped and fenced every slice
 *     (so no critical section on the region is in flight) and made its closed flag visible
 *     (checked before every call), so only a thread that read the flag before the close and
 *     then stalled for the whole grace period could still write into the range; its write
 *     lands in the quarantined range, which is dropped again ({@code MADV_DONTNEED}) when
 *     the grace period ends, before the range is handed to a new owner. Ranges are reused
 *     by exact size (a program that keeps creating and closing structures of a few kinds
 *     reuses ranges of the same few sizes). The address space this takes is bounded by
 *     the regions alive plus those released within the last grace period.</li>
 * <li>Owner tokens: every region gets a token, 1 to {@link SliceLayout#MAX_TOKEN}, one
 *     more (wrapping, never 0) than the last owner of the same range had; ranges are
 *     reused only at the same offset and size, so the owner word a stale caller of the
 *     last owner compares is the one the next owner's token is in. {@link #allocate}
 *     writes the token into the owner word of every slice before it returns the region
 *     (one page touched per slice), so no owner word of a live region reads 0: a stale
 *     caller, whose token is another, can neither commit there nor take a slice with the
 *     stop protocol. That is the guarantee; the quarantine adds that the tokens of one
 *     range wrap around only after {@link SliceLayout#MAX_TOKEN} reuses, at least 4.5
 *     hours of grace periods.</li>
 * </ul>
 */
final class SliceRegions {
    /** How long a released range stays unused before it may be handed out again. */
    static final long GRACE_NANOS = 250_000_000L;
    private static final long PAGE = 4096;

    /** A region: the address of its range in slice 0, its size in every slice and its owner token. */
    record Region(Chunk chunk, long offset, long bytes, int token) {
        long base() {
            return chunk.base + offset;
        }
    }

    /** One mapping of {@code slices * STRIDE} bytes and the allocator of its per-slice space. */
    static final class Chunk {
        final long base;
        final ItemAllocator space = new ItemAllocator(0, SliceLayout.STRIDE);
        /** The token of the last region handed out at each offset. */
        final Map<Long, Integer> lastToken = new HashMap<>();

        Chunk(long base) {
            this.base = base;
        }
    }

    private record Quarantined(Region region, long until) {}

    private final int slices;
    private final List<Chunk> chunks = new ArrayList<>();
    private final ArrayDeque<Quarantined> quarantine = new ArrayDeque<>();
    private long mappedBytes;
    private long liveRegions;

    SliceRegions(int slices) {
        this.slices = slices;
    }

    /**
     * The size a region for {@code bytesPerSlice} bytes gets: rounded up to an eighth of
     * the power of two below it (at least a page), so at most 12.5% is wasted and the few
     * sizes a program uses repeat exactly (ranges are reused by exact size).
     *
     * @param bytesPerSlice bytes the owner needs in each slice, header included
     * @return a multiple of a page from a page to the stride
     */
    static long regionBytes(long bytesPerSlice) {
        long b = Math.max(PAGE, bytesPerSlice);
        if (b >= SliceLayout.STRIDE) {
            return SliceLayout.STRIDE;
        }
        long unit = Math.max(PAGE, Long.highestOneBit(b) / 8);
        return Math.min(SliceLayout.STRIDE, (b + unit - 1) / unit * unit);
    }

    /**
     * A region of at least {@code bytesPerSlice} bytes in every slice, zeroed except for the
     * owner word of each slice, which holds the region's token.
     *
     * @param bytesPerSlice bytes needed in each slice, 1 to the stride
     * @return the region
     * @throws OutOfMemoryError when a new chunk cannot be mapped
     */
    synchronized Region allocate(long bytesPerSlice) {
        long bytes = regionBytes(bytesPerSlice);
        recycleExpired(System.nanoTime());
        for (Chunk c : chunks) {
            long off = c.space.allocate(bytes, PAGE, true);
            if (off >= 0) {
                return handOut(c, off, bytes);
            }
        }
        long size = (long) slices * SliceLayout.STRIDE;
        Chunk c = new Chunk(Libc.mmapAnonymous(size, Libc.PROT_READ | Libc.PROT_WRITE, true));
        mappedBytes += size;
        chunks.add(c);
        return handOut(c, c.space.allocate(bytes, PAGE, true), bytes);
    }

    /** The next token of the range at {@code off}, written into every slice's owner word. */
    private Region handOut(Chunk c, long off, long bytes) {
        int token = c.lastToken.merge(off, 1, (last, one) -> last % SliceLayout.MAX_TOKEN + 1);
        Region r = new Region(c, off, bytes, token);
        MemorySegment w = whole(r);
        for (int i = 0; i < slices; i++) {
            w.set(ValueLayout.JAVA_LONG, SliceLayout.STRIDE * i + SliceLayout.OWNER_WORD_OFFSET, token);
        }
        VarHandle.fullFence();
        liveRegions++;
        return r;
    }

    /**
     * Gives a region's pages back and quarantines its range (see the class notes). The
     * caller guarantees that no critical section on it is in flight and none can start
     * without first seeing its owner closed.
     *
     * @param r a region {@link #allocate} returned and not released since
     */
    synchronized void release(Region r) {
        dropPages(r);
        liveRegions--;
        quarantine.addLast(new Quarantined(r, System.nanoTime() + GRACE_NANOS));
    }

    private void recycleExpired(long now) {
        for (Quarantined q; (q = quarantine.peekFirst()) != null && now - q.until >= 0; ) {
            quarantine.removeFirst();
            dropPages(q.region);   // whatever a stalled thread wrote meanwhile: gone, zero again
            q.region.chunk.space.free(q.region.offset);
        }
    }

    private void dropPages(Region r) {
        for (int i = 0; i < slices; i++) {
            Libc.madvise(r.base() + SliceLayout.STRIDE * i, r.bytes, Libc.MADV_DONTNEED);
        }
    }

    /**
     * Address space mapped for regions so far.
     *
     * @return bytes of chunks mapped (never unmapped, so it only grows)
     */
    synchronized long mappedBytes() {
        return mappedBytes;
    }

    /**
     * Regions handed out and not released.
     *
     * @return the number of live regions
     */
    synchronized long liveRegions() {
        return liveRegions;
    }

    /**
     * Released ranges still in their grace period.
     *
     * @return the number of quarantined regions
     */
    synchronized int quarantined() {
        return quarantine.size();
    }

    /** A segment over {@code r} in every slice (and whatever lies between). */
    MemorySegment whole(Region r) {
        return MemorySegment.ofAddress(r.base()).reinterpret((long) (slices - 1) * SliceLayout.STRIDE + r.bytes);
    }
}
