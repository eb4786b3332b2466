package io.github.rseq4j.internal.memory;

import io.github.rseq4j.internal.abi.SliceLayout;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.runtime.RseqRuntime;
import io.github.rseq4j.internal.runtime.Settings;
import io.github.rseq4j.internal.os.Fences;
import io.github.rseq4j.internal.os.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <li>Owner token: the first word of every slice is the owner word
 *     ({@link SliceLayout#OWNER_WORD_OFFSET}); it holds this memory's token while the slice
 *     runs. The region comes with its token already written into every slice (see
 *     {@link SliceRegions}); generated operations get the token in the top bits of
 *     {@link #operationBase()} and commit only while the word equals it. A caller that
 *     still runs an operation for this memory after it was given back finds 0 or the next
 *     owner's token there, fails with STOPPED, and its fallback throws
 *     {@link IllegalStateException} (this memory is closed): it cannot write into the
 *     next owner's memory, whether it stalled before its section or inside it.</li>
 * <li>Stop protocol: {@link #stop(int)} takes the owner word from the token to
 *     {@link SliceLayout#stoppedWord} with a CAS (so stoppers exclude each other, and a
 *     stale stopper of an earlier owner, whose token is another, takes nothing), then
 *     fences: the index's CPU for {@link IndexField#CPU_ID}, every CPU for
 *     {@link IndexField#MM_CID} (an mm_cid can run anywhere). A critical section that
 *     read the token before the CAS is either finished, and its store is visible after the
 *     fence, or aborted by the fence (or by the preemption that took it off its CPU), and
 *     every section that starts later reads another value and fails with STOPPED. The
 *     fences are the creator's ({@link Fences} of the context it was built with, handed to
 *     the constructor; in portable mode they do nothing). The
 *     stopper then owns the slice and uses plain loads and stores; {@link #start(int)}
 *     publishes them by setting the token back with a CAS (a volatile write).</li>
 * <li>Release: {@link #close()} sets the closed flag (every operation checks it before
 *     its call), stops every slice and fences, then gives the memory back: the region's
 *     pages are dropped (every owner word reads 0) and its range quarantined before reuse
 *     (see {@link SliceRegions}), or the arena is closed. It never gives back a slice it
 *     did not stop itself: when a holder keeps a slice longer than a second, close hands
 *     that slice to its holder (the word goes from stopped to handed over), and the
 *     memory is given back when the last such holder calls {@link #start(int)}, which
 *     leaves the slice stopped (a reference count: one for close, one per handed slice).
 *     A holder that never restarts its slice keeps the memory forever: a leak, never a
 *     write into another owner's memory. Memory whose owner becomes unreachable without
 *     {@code close()} is given back by a {@link Cleaner} (nothing can hold a slice of
 *     it). Nothing is ever unmapped, so a thread that still holds an address cannot
 *     fault.</li>
 * <li>Portable mode: there are no critical sections, so every operation itself stops its
 *     slice (no fence needed): the owner word is a per-slice spin lock on atomics, with
 *     token 1 (memory from an arena is never reused, and a closed arena throws on access).</li>
 * </ul>
 */
public final class SliceMemory {
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    /** Spins before a waiting stopper starts yielding. */
    private static final int SPINS_BEFORE_YIELD = 64;
    /** How long {@link #close()} waits for a slice's holder before handing the slice to it. */
    private static final long CLOSE_WAIT_NANOS = 1_000_000_000L;
    /** The bit {@link #quiesce()} adds to a held slice's stopped word when it hands the slice to its holder. */
    private static final long HANDED_BIT = 1L << 33;
    /** Token of portable-mode memory: no generated code compares it, and arena memory is never reused. */
    private static final int PORTABLE_TOKEN = 1;
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
    private final long token;
    private final long operationBase;
    private final MemorySegment whole;
    private final ItemAllocator allocator;
    private final Cleaner.Cleanable cleanable;
    /** The creator's cross-CPU fences (the stop protocol's and close's). */
    private final Fences fences;
    /** Who must let go before the memory is given back: close itself, and the holder of each slice it handed over. */
    private final AtomicInteger releaseHolds = new AtomicInteger(1);
    private final AtomicBoolean releaseRequested = new AtomicBoolean();
    private volatile boolean closed;
    private volatile boolean released;
    /** What must be freed together with the memory, not before (see {@link #whenReleased}). */
    private final Queue<Runnable> releaseActions = new ConcurrentLinkedQueue<>();

    /**
     * Per-CPU memory as big as it can be: {@link #MAX_BYTES_PER_SLICE} for items in each
     * slice (in portable mode all of it is allocated at once: prefer the sized constructor).
     *
     * @param mode   which rseq field selects a thread's slice
     * @param fences the fences of the context the creator was built with
     * @throws NullPointerException          when {@code mode} or {@code fences} is null
     * @throws UnsupportedOperationException for {@link IndexField#MM_CID} in rseq mode on a
     *                                       kernel without mm_cid
     */
    public SliceMemory(IndexField mode, Fences fences) {
        this(mode, MAX_BYTES_PER_SLICE, fences);
    }

    /**
     * Per-CPU memory with room for {@code bytesPerSlice} bytes of items in each slice
     * (rounded up; what alignment padding the items need must be included).
     *
     * @param mode          which rseq field selects a thread's slice
     * @param bytesPerSlice bytes of items each slice must hold, 1 to {@link #MAX_BYTES_PER_SLICE}
     * @param fences        the fences of the context the creator was built with: what
     *                      {@link #stop(int)} and {@link #close()} fence with
     * @throws NullPointerException          when {@code mode} or {@code fences} is null
     * @throws IllegalArgumentException      when {@code bytesPerSlice} is out of range
     * @throws UnsupportedOperationException for {@link IndexField#MM_CID} in rseq mode on a
     *                                       kernel without mm_cid
     */
    public SliceMemory(IndexField mode, long bytesPerSlice, Fences fences) {
        if (mode == null) {
            throw new NullPointerException("index mode");
        }
        if (fences == null) {
            throw new NullPointerException("fences");
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
        this.fences = fences;
        this.slices = rt.platform().sliceCount();
        long need = SliceLayout.HEADER_BYTES + bytesPerSlice;
        if (JitConstants.RSEQ) {
            SliceRegions regions = Regions.INSTANCE;
            SliceRegions.Region region = regions.allocate(need);
            this.stride = SliceLayout.STRIDE;
            this.base = region.base();
            this.token = region.token();
            this.operationBase = SliceLayout.taggedBase(base, region.token());
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
            this.token = PORTABLE_TOKEN;
            this.operationBase = 0;
            for (int i = 0; i < slices; i++) {
                whole.set(ValueLayout.JAVA_LONG, at(i, SliceLayout.OWNER_WORD_OFFSET), token);
            }
            VarHandle.fullFence();
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
     * Base address.
     *
     * @return the address of slice 0
     */
    public long base() {
        return base;
    }

    /**
     * This memory's owner token: the value of a running slice's owner word.
     *
     * @return 1 to {@link SliceLayout#MAX_TOKEN}
     */
    public long token() {
        return token;
    }

    /**
     * Argument 0 of every generated operation: {@link #base()} with {@link #token()} in its
     * top {@link SliceLayout#TOKEN_BITS} bits (checked when the memory was created).
     *
     * @return the tagged base, or 0 in portable mode (no generated code)
     */
    public long operationBase() {
        return operationBase;
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
     * stops every slice and fences. A slice whose holder keeps it for more than a second is
     * handed to that holder: the memory is then given back only after the holder's
     * {@link #start(int)}. The slices stay stopped and readable by the caller (to read what
     * is left) until {@link #release()}. Idempotent.
     */
    public void quiesce() {
        synchronized (this) {   // held throughout: a concurrent close() or release() returns only after the slices are stopped
            if (closed) {
                return;
            }
            closed = true;
            stopAllForClose();
        }
    }

    private void stopAllForClose() {
        VarHandle.fullFence();
        long stopped = SliceLayout.stoppedWord(token);
        for (int i = 0; i < slices; i++) {
            long addr = at(i, SliceLayout.OWNER_WORD_OFFSET);
            long deadline = System.nanoTime() + CLOSE_WAIT_NANOS;
            for (int spins = 0; !LONG.compareAndSet(whole, addr, token, stopped); spins++) {
                long late = System.nanoTime() - deadline;
                if (late >= 0) {
                    releaseHolds.incrementAndGet();
                    if (LONG.compareAndSet(whole, addr, stopped, stopped | HANDED_BIT)) {
                        break; // the holder's start() lets go of the memory
                    }
                    long now = (long) LONG.getVolatile(whole, addr);
                    if (now != token && now != stopped && late > CLOSE_WAIT_NANOS) {
                        break; // neither running nor held: never given back (a leak, not a stale write)
                    }
                    releaseHolds.decrementAndGet(); // restarted or stopped again meanwhile: next round
                }
                backOff(spins);
            }
        }
        try {
            fences.fenceAll();   // nothing in portable mode (no critical sections)
        } catch (RuntimeException e) {
            // cannot fence every CPU from here: a late section's store lands in this
            // memory (or its dropped pages), and the owner token keeps every later one
            // out of the range's next owner
        }
    }

    /**
     * Gives the memory back (pages dropped and range quarantined, or arena closed); after
     * it the memory must not be read. Quiesces first if that was not done. When
     * {@link #quiesce()} handed slices to their holders, the memory is given back at the
     * last of their {@link #start(int)} calls instead. Idempotent.
     */
    public void release() {
        quiesce();
        if (releaseRequested.compareAndSet(false, true)) {
            letGo();
        }
    }

    /** Drops one hold on the memory; the last one gives it back. */
    private void letGo() {
        if (releaseHolds.decrementAndGet() == 0) {
            released = true;
            cleanable.clean();
            runReleaseActions();
        }
    }

    /**
     * Runs {@code action} when the memory is given back: at once when it already was, else
     * on the thread whose {@link #release()} or {@link #start(int)} lets go last. For what
     * a holder of a handed-over slice may still read until then (a list's nodes, which a
     * drain that outlived {@code close()} keeps popping). Each action runs once.
     *
     * @param action what to free with the memory
     */
    public void whenReleased(Runnable action) {
        releaseActions.add(action);
        if (released) {   // added after letGo ran its actions, or while it runs them: poll hands each out once
            runReleaseActions();
        }
    }

    private void runReleaseActions() {
        for (Runnable r; (r = releaseActions.poll()) != null; ) {
            r.run();
        }
    }

    /**
     * Whether the memory has been given back ({@link #release()}, or the last holder's
     * {@link #start(int)} after it).
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
        if (!LONG.compareAndSet(whole, at(index, SliceLayout.OWNER_WORD_OFFSET), token, SliceLayout.stoppedWord(token))) {
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
        long addr = at(index, SliceLayout.OWNER_WORD_OFFSET);
        long stopped = SliceLayout.stoppedWord(token);
        for (int spins = 0; !LONG.compareAndSet(whole, addr, token, stopped); spins++) {
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
            start(index);
            throw e;
        }
    }

    private void fence(int index) {
        // the creator's fences; in portable mode they do nothing (no critical sections)
        // Ordering (what lets the stopper use plain loads after this on aarch64): the CAS that
        // took the owner word is a volatile access (casal, or ldaxr/stlxr), so nothing after it
        // is performed before it. membarrier(PRIVATE_EXPEDITED_RSEQ) runs smp_mb() on entry and
        // exit and, on each target CPU, in its IPI handler before the rseq abort; the caller
        // waits for every handler (an acquire on the call's completion). A section that
        // committed before the IPI has its stlr (or str) ordered before that handler's barrier,
        // so the stopper's later plain loads see it; one that had not committed is aborted. The
        // affinity fence moves the caller onto the CPU through the scheduler, whose context
        // switch is a full barrier (smp_mb__after_spinlock in __schedule) on the same CPU.
        if (mode == IndexField.CPU_ID) {
            fences.fence(index);
        } else {
            fences.fenceAll();
        }
    }

    /**
     * Restarts a stopped slice: setting the token back with a CAS publishes the stopper's
     * writes. When {@link #close()} handed the slice to the caller, leaves it stopped and,
     * as the last holder, gives the memory back. After the memory was given back, does
     * nothing.
     *
     * @param index the slice, from 0 to {@link #slices()} - 1, held stopped by the caller
     * @throws IllegalStateException when the slice is not stopped
     */
    public void start(int index) {
        checkIndex(index);
        if (released) {
            return; // given back: nothing to restart (and an arena's memory can no longer be read)
        }
        long addr = at(index, SliceLayout.OWNER_WORD_OFFSET);
        long stopped = SliceLayout.stoppedWord(token);
        if (LONG.compareAndSet(whole, addr, stopped, token)) {
            return;
        }
        if (released) {
            return;
        }
        if (LONG.compareAndSet(whole, addr, stopped | HANDED_BIT, stopped)) {
            letGo(); // close() handed this slice over: it stays stopped
            return;
        }
        throw new IllegalStateException("slice " + index + " is not stopped");
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
        return (long) LONG.getVolatile(whole, at(index, SliceLayout.OWNER_WORD_OFFSET)) != token;
    }

    /**
     * How long a fallback operation waits for a free slice before reporting the holders:
     * {@code -Drseq4j.stopWaitSeconds} (default 10; read once, with the other settings).
     */
    private static long stopWaitSeconds() {
        return JitConstants.RUNTIME.settings().stopWaitSeconds();
    }

    /**
     * Stops some slice for one operation on the fallback path: the calling CPU's if it is
     * free, else any free one, trying again with back-off while all are held. Never waits
     * on one particular slice (the caller may be the holder of some slices itself), and
     * skips slices it cannot fence. Returns the index.
     *
     * @return the index of the slice the caller now holds stopped
     * @throws IllegalStateException when no slice could be stopped for {@code -Drseq4j.stopWaitSeconds}
     *                               (default 10)
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
                deadline = System.nanoTime() + stopWaitSeconds() * 1_000_000_000L;
            } else if (System.nanoTime() - deadline > 0) {
                IllegalStateException e = new IllegalStateException("no slice of this per-CPU memory could be stopped"
                        + " for " + stopWaitSeconds() + " s (-D" + Settings.STOP_WAIT_SECONDS + "): every slice is held"
                        + " (by PerCpuMemory.stop callers, possibly this thread)"
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
