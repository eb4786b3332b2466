package io.github.rseq4j.internal.memory;

import io.github.rseq4j.internal.abi.SliceLayout;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.runtime.RseqRuntime;
import io.github.rseq4j.internal.os.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per-CPU memory of one owner: a slice per index, items at the same offset in every
 * slice, and the stop protocol on each slice.
 *
 * <p><b>Implementation notes.</b>
 * <ul>
 * <li>Memory in rseq mode: a region of the process's {@link SliceRegions}, at the stride
 *     generated code is built for ({@link SliceLayout#STRIDE}), sized to what the owner
 *     asked for. Pages nobody touches cost no physical memory, so an mm_cid-indexed
 *     range on a big machine used by few threads costs only the slices those threads' ids
 *     select. Items of one slice are packed (many small items share cache lines within a
 *     CPU) and no cache line is shared between the slices of one owner.</li>
 * <li>Memory in portable mode: one block from a shared {@link Arena}, slices packed at a
 *     stride just big enough for the request (no generated code needs a fixed stride), so
 *     no restricted method is needed and small structures cost little on big machines.</li>
 * <li>Release: {@link #close()} sets the closed flag (every operation checks it before
 *     its call), stops every slice (waiting for holders) and fences, then gives the
 *     memory back: the region's pages are dropped and its range quarantined before reuse
 *     (see {@link SliceRegions}), or the arena is closed. Memory whose owner becomes
 *     unreachable without {@code close()} is given back the same way by a {@link Cleaner}.
 *     Nothing is ever unmapped, so a thread that still holds an address cannot fault.</li>
 * <li>Stop protocol: the first word of a slice is its stopped word. {@link #stop(int)}
 *     takes it from 0 to 1 with a CAS (so stoppers exclude each other), then fences: the
 *     index's CPU for {@link IndexField#CPU_ID}, every CPU for {@link IndexField#MM_CID}
 *     (an mm_cid can run anywhere). A critical section that read the word as 0 before the
 *     CAS is either finished, and its store is visible after the fence, or aborted by the
 *     fence (or by the preemption that took it off its CPU), and every section that starts
 *     later sees 1 and fails with STOPPED. The stopper then owns the slice and uses plain
 *     loads and stores; {@link #start(int)} publishes them with a release store of 0.</li>
 * <li>Portable mode: there are no critical sections, so every operation itself stops its
 *     slice (no fence needed): the stopped word is a per-slice spin lock on atomics.</li>
 * </ul>
 */
public final class SliceMemory {
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    /** Spins before a waiting stopper starts yielding. */
    private static final int SPINS_BEFORE_YIELD = 64;
    /** How long {@link #close()} waits for a slice's holder before releasing without it. */
    private static final long CLOSE_WAIT_NANOS = 1_000_000_000L;
    /** Bytes of portable-mode blocks currently allocated. */
    private static final AtomicLong PORTABLE_BYTES = new AtomicLong();
    private static final Cleaner CLEANER = Cleaner.create();

    /** The largest request: a whole stride per slice, less the header. */
    public static final long MAX_BYTES_PER_SLICE = SliceLayout.STRIDE - SliceLayout.HEADER_BYTES;

    private static final class Regions {
        static final SliceRegions INSTANCE = new SliceRegions(JitConstants.RUNTIME.platform().sliceCount());
    }

    private final IndexField mode;
    private final int slices;
    private final long stride;
    private final long base;
    private final MemorySegment whole;
    private final ItemAllocator allocator;
    private final Cleaner.Cleanable cleanable;
    private volatile boolean closed;
    private volatile boolean released;

    /**
     * Per-CPU memory as big as it can be: {@link #MAX_BYTES_PER_SLICE} for items in each
     * slice (in portable mode all of it is allocated at once: prefer the sized constructor).
     *
     * @param mode which rseq field selects a thread's slice
     * @throws NullPointerException          when {@code mode} is null
     * @throws UnsupportedOperationException for {@link IndexField#MM_CID} in rseq mode on a
     *                                       kernel without mm_cid
     */
    public SliceMemory(IndexField mode) {
        this(mode, MAX_BYTES_PER_SLICE);
    }

    /**
     * Per-CPU memory with room for {@code bytesPerSlice} bytes of items in each slice
     * (rounded up; what alignment padding the items need must be included).
     *
     * @param mode          which rseq field selects a thread's slice
     * @param bytesPerSlice bytes of items each slice must hold, 1 to {@link #MAX_BYTES_PER_SLICE}
     * @throws NullPointerException          when {@code mode} is null
     * @throws IllegalArgumentException      when {@code bytesPerSlice} is out of range
     * @throws UnsupportedOperationException for {@link IndexField#MM_CID} in rseq mode on a
     *                                       kernel without mm_cid
     */
    public SliceMemory(IndexField mode, long bytesPerSlice) {
        if (mode == null) {
            throw new NullPointerException("index mode");
        }
        if (bytesPerSlice <= 0 || bytesPerSlice > MAX_BYTES_PER_SLICE) {
            throw new IllegalArgumentException("bytes per slice must be 1 to " + MAX_BYTES_PER_SLICE + ": " + bytesPerSlice);
        }
        RseqRuntime rt = JitConstants.RUNTIME;
        if (rt.rseqMode() && mode == IndexField.MM_CID && !rt.platform().mmCidUsable()) {
            throw new UnsupportedOperationException("IndexMode.CONCURRENCY_ID needs mm_cid (Linux 6.3+); this kernel's"
                    + " rseq feature size is " + rt.platform().featureSize() + ". Use IndexMode.CPU_ID.");
        }
        this.mode = mode;
        this.slices = rt.platform().sliceCount();
        long need = SliceLayout.HEADER_BYTES + bytesPerSlice;
        if (JitConstants.RSEQ) {
            SliceRegions regions = Regions.INSTANCE;
            SliceRegions.Region region = regions.allocate(need);
            this.stride = SliceLayout.STRIDE;
            this.base = region.base();
            this.whole = regions.whole(region);
            this.allocator = new ItemAllocator(SliceLayout.HEADER_BYTES, region.bytes());
            this.cleanable = CLEANER.register(this, () -> regions.release(region));
        } else {
            long perSlice = need >= 4096 ? (need + 4095) & -4096L : (need + 63) & -64L;
            Arena arena = Arena.ofShared();
            long total = perSlice * slices;
            this.whole = arena.allocate(total, 4096);
            PORTABLE_BYTES.addAndGet(total);
            this.stride = perSlice;
            this.base = whole.address();
            this.allocator = new ItemAllocator(SliceLayout.HEADER_BYTES, perSlice);
            this.cleanable = CLEANER.register(this, () -> {
                arena.close();
                PORTABLE_BYTES.addAndGet(-total);
            });
        }
    }

    /**
     * Address space held for per-CPU memory by this process: the chunks mapped for rseq
     * mode (kept for reuse, never unmapped) plus the portable-mode blocks not yet freed.
     *
     * @return bytes of address space
     */
    public static long reservedBytes() {
        return (JitConstants.RSEQ ? Regions.INSTANCE.mappedBytes() : 0) + PORTABLE_BYTES.get();
    }

    /**
     * Per-CPU memories alive (allocated and not yet given back) in rseq mode.
     *
     * @return live regions, 0 in portable mode
     */
    public static long liveRegions() {
        return JitConstants.RSEQ ? Regions.INSTANCE.liveRegions() : 0;
    }

    /**
     * Which rseq field selects a thread's slice.
     *
     * @return the index field the range was created for
     */
    public IndexField mode() {
        return mode;
    }

    /**
     * Number of slices.
     *
     * @return how many slices the range holds; indexes run from 0 to this - 1
     */
    public int slices() {
        return slices;
    }

    /**
     * Distance in bytes between consecutive slices.
     *
     * @return {@link SliceLayout#STRIDE} in rseq mode; in portable mode the size of a slice
     */
    public long stride() {
        return stride;
    }

    /**
     * Bytes in each slice, header included.
     *
     * @return the slice size: items may lie from the header's end up to this offset
     */
    public long sliceBytes() {
        return allocator.end();
    }

    /**
     * Base address (argument 0 of every generated operation).
     *
     * @return the address of slice 0
     */
    public long base() {
        return base;
    }

    /**
     * The whole range.
     *
     * @return a segment from {@link #base()} over every slice (in rseq mode it also spans
     *         other owners' regions between the slices: use {@link #at} offsets only)
     */
    public MemorySegment whole() {
        return whole;
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return {@code true} once the range may no longer be used
     */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Forbids further use and gives the memory back: {@link #quiesce()}, then
     * {@link #release()}. Idempotent.
     */
    public void close() {
        quiesce();
        release();
    }

    /**
     * Forbids further use and waits until no operation is in flight: sets the closed flag,
     * stops every slice (waiting up to a second for each holder) and fences. The slices stay
     * stopped and readable by the caller (to read what is left) until {@link #release()}.
     * Idempotent.
     */
    public void quiesce() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        VarHandle.fullFence();
        for (int i = 0; i < slices; i++) {
            long addr = at(i, SliceLayout.STOPPED_OFFSET);
            long deadline = System.nanoTime() + CLOSE_WAIT_NANOS;
            for (int spins = 0; !LONG.compareAndSet(whole, addr, 0L, 1L) && System.nanoTime() - deadline < 0; spins++) {
                backOff(spins);
            }
        }
        if (JitConstants.RSEQ) {
            try {
                JitConstants.RUNTIME.fences().fenceAll();
            } catch (RuntimeException e) {
                // cannot fence every CPU from here: the quarantine of the range still keeps
                // a late section's store away from the range's next owner
            }
        }
    }

    /**
     * Gives the memory back (pages dropped and range quarantined, or arena closed); after
     * it the memory must not be read. Quiesces first if that was not done. Idempotent.
     */
    public void release() {
        quiesce();
        released = true;
        cleanable.clean();
    }

    /**
     * Whether {@link #release()} has given the memory back.
     *
     * @return {@code true} once the memory must no longer be read
     */
    public boolean isReleased() {
        return released;
    }

    /**
     * Checks that the range is open.
     *
     * @throws IllegalStateException when it was closed
     */
    public void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this per-CPU memory is closed");
        }
    }

    /**
     * Checks that {@code index} is a slice of this range.
     *
     * @param index the slice index to check
     * @throws IndexOutOfBoundsException when it is negative or not below {@link #slices()}
     */
    public void checkIndex(int index) {
        if (index < 0 || index >= slices) {
            throw new IndexOutOfBoundsException("slice index " + index + " out of range [0, " + slices + ")");
        }
    }

    /**
     * A view of one slice.
     *
     * @param index the slice, from 0 to {@link #slices()} - 1
     * @return a segment over that slice's {@link #sliceBytes()} bytes, header included
     */
    public MemorySegment slice(int index) {
        checkIndex(index);
        return whole.asSlice(at(index, 0), sliceBytes());
    }

    /**
     * Byte offset in {@link #whole()} of {@code offset} in slice {@code index}.
     *
     * @param index  the slice (not checked)
     * @param offset a byte offset inside a slice
     * @return {@code index * stride() + offset}
     */
    public long at(int index, long offset) {
        return index * stride + offset;
    }

    // ------------------------------------------------------------------ items

    /**
     * Allocates an item of {@code bytes} (rounded up to 8) at {@code alignment} (a power of
     * two, 8 to 4096) in every slice; all copies read as zero. Returns its offset, or -1
     * when the slices are full. The offset may be one a freed item had.
     *
     * @param bytes     the item's size in each slice, 1 to the slice size less the header
     * @param alignment the offset's alignment: a power of two from 8 to 4096
     * @return the item's byte offset inside every slice, or -1 when there is no room
     * @throws IllegalArgumentException when a size or alignment is out of range
     * @throws IllegalStateException    when the range is closed
     */
    public long allocate(long bytes, long alignment) {
        return allocate(bytes, alignment, true);
    }

    /**
     * As {@link #allocate(long, long)}, but never at an offset a freed item had: for
     * words generated code dereferences or trusts (list heads, ring headers), so that a
     * stale handle to a freed data item can never write into them.
     *
     * @param bytes     the item's size in each slice, 1 to the slice size less the header
     * @param alignment the offset's alignment: a power of two from 8 to 4096
     * @return the item's byte offset inside every slice, or -1 when there is no room
     * @throws IllegalArgumentException when a size or alignment is out of range
     * @throws IllegalStateException    when the range is closed
     */
    public long allocateFresh(long bytes, long alignment) {
        return allocate(bytes, alignment, false);
    }

    private long allocate(long bytes, long alignment, boolean reuse) {
        checkOpen();
        if (bytes <= 0 || bytes > sliceBytes() - SliceLayout.HEADER_BYTES) {
            throw new IllegalArgumentException("item size must be 1 to " + (sliceBytes() - SliceLayout.HEADER_BYTES)
                    + " bytes: " + bytes);
        }
        if (alignment < 8 || alignment > 4096 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two from 8 to 4096: " + alignment);
        }
        long size = (bytes + 7) & -8L;
        synchronized (allocator) {
            return allocator.allocate(size, alignment, reuse);
        }
    }

    /**
     * Frees an item: its copies are zeroed for the next owner. The caller guarantees no
     * thread still operates on it. After {@link #close()} this does nothing (the memory,
     * and every item in it, is gone).
     *
     * @param offset the offset {@link #allocate} returned for the item
     * @throws IllegalArgumentException when no live item starts at {@code offset}
     */
    public void free(long offset) {
        if (closed) {
            return; // the item went with the memory; its range may already belong to another owner
        }
        long size;
        synchronized (allocator) {
            size = allocator.sizeOf(offset);
            if (size < 0) {
                throw new IllegalArgumentException("no item at offset " + offset);
            }
            for (int i = 0; i < slices; i++) {
                whole.asSlice(at(i, offset), size).fill((byte) 0);
            }
            allocator.free(offset);
        }
        VarHandle.fullFence();
    }

    /**
     * Size of the live item at {@code offset}, or -1.
     *
     * @param offset a byte offset inside a slice
     * @return the size in bytes (rounded up to 8) of the live item that starts there, or -1
     */
    public long itemSize(long offset) {
        synchronized (allocator) {
            return allocator.sizeOf(offset);
        }
    }

    /**
     * Live items.
     *
     * @return how many items are allocated and not freed
     */
    public int items() {
        synchronized (allocator) {
            return allocator.liveItems();
        }
    }

    /**
     * Checks that {@code [offset, offset + bytes)} lies inside one live item and that
     * {@code offset} is 8-byte aligned.
     *
     * @param itemOffset the offset of the live item the range must lie in
     * @param offset     the start of the range, a byte offset inside a slice
     * @param bytes      the length of the range
     * @throws IllegalStateException     when the range is closed
     * @throws IllegalArgumentException  when no item starts at {@code itemOffset}, or
     *                                   {@code offset} is not 8-byte aligned
     * @throws IndexOutOfBoundsException when the range is not inside the item
     */
    public void checkItemRange(long itemOffset, long offset, long bytes) {
        checkOpen();
        long size = itemSize(itemOffset);
        if (size < 0) {
            throw new IllegalArgumentException("no per-CPU item at offset " + itemOffset);
        }
        if (offset < itemOffset || bytes < 0 || offset + bytes > itemOffset + size) {
            throw new IndexOutOfBoundsException("range [" + offset + ", " + (offset + bytes)
                    + ") is outside the item [" + itemOffset + ", " + (itemOffset + size) + ")");
        }
        if ((offset & 7) != 0) {
            throw new IllegalArgumentException("offset must be 8-byte aligned: " + offset);
        }
    }

    // ------------------------------------------------------------------ stop protocol

    /**
     * Tries to stop slice {@code index} without waiting; fences on success.
     *
     * @param index the slice, from 0 to {@link #slices()} - 1
     * @return {@code true} when the caller now holds the slice, {@code false} when another
     *         stopper holds it
     * @throws IllegalStateException when the fence fails (the slice is left running)
     */
    public boolean tryStop(int index) {
        checkIndex(index);
        checkOpen();
        if (!LONG.compareAndSet(whole, at(index, SliceLayout.STOPPED_OFFSET), 0L, 1L)) {
            return false;
        }
        fenceOrRollBack(index);
        return true;
    }

    /**
     * Stops slice {@code index}, waiting while another stopper holds it.
     *
     * @param index the slice, from 0 to {@link #slices()} - 1
     * @throws IllegalStateException when the fence fails (the slice is left running)
     */
    public void stop(int index) {
        checkIndex(index);
        checkOpen();
        long addr = at(index, SliceLayout.STOPPED_OFFSET);
        for (int spins = 0; !LONG.compareAndSet(whole, addr, 0L, 1L); spins++) {
            checkOpen();
            backOff(spins);
        }
        fenceOrRollBack(index);
    }

    private static void backOff(int spins) {
        if (spins < SPINS_BEFORE_YIELD) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }

    /** Fences for a stop just taken; if the fence fails, releases the slice and rethrows. */
    private void fenceOrRollBack(int index) {
        try {
            fence(index);
        } catch (RuntimeException | Error e) {
            LONG.setRelease(whole, at(index, SliceLayout.STOPPED_OFFSET), 0L);
            throw e;
        }
    }

    private void fence(int index) {
        if (JitConstants.RSEQ) {
            if (mode == IndexField.CPU_ID) {
                JitConstants.RUNTIME.fences().fence(index);
            } else {
                JitConstants.RUNTIME.fences().fenceAll();
            }
        }
    }

    /**
     * Restarts a stopped slice: a release store of 0 publishes the stopper's writes. After
     * {@link #close()} has given the memory back, does nothing.
     *
     * @param index the slice, from 0 to {@link #slices()} - 1, held stopped by the caller
     * @throws IllegalStateException when the slice is not stopped
     */
    public void start(int index) {
        checkIndex(index);
        if (released) {
            return; // close() took the slice over and gave the memory back
        }
        long addr = at(index, SliceLayout.STOPPED_OFFSET);
        if ((long) LONG.getVolatile(whole, addr) == 0L) {
            throw new IllegalStateException("slice " + index + " is not stopped");
        }
        LONG.setRelease(whole, addr, 0L);
    }

    /**
     * Whether slice {@code index} is stopped now.
     *
     * @param index the slice, from 0 to {@link #slices()} - 1
     * @return {@code true} when a stopper held the slice at the moment of the read
     * @throws IllegalStateException when the memory is closed
     */
    public boolean isStopped(int index) {
        checkIndex(index);
        checkOpen();
        return (long) LONG.getVolatile(whole, at(index, SliceLayout.STOPPED_OFFSET)) != 0L;
    }

    /** How long a fallback operation waits for a free slice before reporting the holders. */
    private static final long STOP_WAIT_NANOS = 10_000_000_000L;

    /**
     * Stops some slice for one operation on the fallback path: the calling CPU's if it is
     * free, else any free one, trying again with back-off while all are held. Never waits
     * on one particular slice (the caller may be the holder of some slices itself), and
     * skips slices it cannot fence. Returns the index.
     *
     * @return the index of the slice the caller now holds stopped
     * @throws IllegalStateException when no slice could be stopped for 10 seconds
     */
    public int stopForOperation() {
        checkOpen();
        int hint = hint();
        RuntimeException lastFenceFailure = null;
        long deadline = 0;
        for (int spins = 0; ; spins++) {
            for (int i = 0; i < slices; i++) {
                int idx = (hint + i) % slices;
                try {
                    if (tryStop(idx)) {
                        return idx;
                    }
                } catch (IllegalStateException e) {
                    checkOpen();
                    lastFenceFailure = e; // cannot fence that CPU from here: try another slice
                }
            }
            if (deadline == 0) {
                deadline = System.nanoTime() + STOP_WAIT_NANOS;
            } else if (System.nanoTime() - deadline > 0) {
                IllegalStateException e = new IllegalStateException("no slice of this per-CPU memory could be stopped"
                        + " for 10 s: every slice is held (by PerCpuMemory.stop callers, possibly this thread)"
                        + (lastFenceFailure != null ? " or cannot be fenced from this thread" : ""));
                if (lastFenceFailure != null) {
                    e.addSuppressed(lastFenceFailure);
                }
                throw e;
            }
            backOff(spins);
        }
    }

    /**
     * The slice a fallback operation prefers: the CPU the thread is on, or a thread hash.
     *
     * @return a slice index from 0 to {@link #slices()} - 1
     */
    public int hint() {
        int cpu = Libc.AVAILABLE ? Libc.schedGetcpu() : -1;
        if (cpu >= 0 && cpu < slices) {
            return cpu;
        }
        long h = Thread.currentThread().threadId() * 0x9E3779B97F4A7C15L;
        return (int) Long.remainderUnsigned(h >>> 16, slices);
    }
}
