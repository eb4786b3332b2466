package io.github.rseq4j;

import io.github.rseq4j.internal.abi.SliceLayout;
import io.github.rseq4j.internal.memory.SliceList;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.runtime.RuntimeContext;

import java.util.Optional;

/**
 * Per-CPU memory: one slice per index (CPU or concurrency id), and items that exist at the
 * same offset in every slice, in the spirit of librseq's mempool. This is the low-level
 * API that rseq4j's own structures are built on.
 *
 * <pre>{@code
 * try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
 *     PerCpuItem hits = mem.newItem(8);
 *     hits.add(0, 1);                    // a critical section on the caller's CPU
 *     long total = hits.sum(0);          // reads every CPU's copy
 * }
 * }</pre>
 *
 * <p><b>Layout.</b> Slices are {@link #sliceBytes()} apart in one virtual reservation; a
 * slice's first 64 bytes are rseq4j's header (the owner word); items of one slice are
 * packed, so the per-CPU copies of many small items share cache lines within a CPU and
 * never across CPUs. Pages nobody touches cost no physical memory, which is what makes
 * {@link IndexMode#CONCURRENCY_ID} cheap on big machines.
 *
 * <p><b>Stopping a slice.</b> {@link #stop(int)} gives the caller a slice to itself: it
 * marks the slice stopped and fences its CPU (membarrier RSEQ), after which no critical
 * section commits to it until the returned {@link StoppedSlice} is closed. Drains,
 * migrations and exact snapshots use it; so does every operation that cannot complete as
 * a critical section.
 *
 * <p><b>Size.</b> {@link #PerCpuMemory(IndexMode, long)} sizes each slice to what the items
 * need; {@link #PerCpuMemory(IndexMode)} gives every slice the maximum, {@value #MAX_ITEM_BYTES}
 * bytes (in rseq mode that is address space, and only the pages touched cost memory; in
 * portable mode it is allocated, so size small instances).
 *
 * <p><b>Lifetime.</b> {@link #close()} forbids further use and gives the memory back:
 * it stops every slice (waiting for holders), fences, drops the pages, and lets a later
 * instance reuse the address range after a grace period (so a thread that raced the
 * close cannot write into its successor). Memory of an instance that becomes unreachable
 * without {@code close()} is given back the same way. The address range is never
 * unmapped, so a stale access cannot crash the JVM. The nodes of its {@link PerCpuList}s
 * are freed by {@code close()} in portable mode (a payload kept past it then throws
 * {@link IllegalStateException}); in rseq mode, where generated code may still read a
 * node, their memory stays mapped and only further use is refused.
 *
 * <p><b>Implementation notes.</b> The memory is built with a runtime context (the
 * process's, from the public constructors) and hands it down: its slices get the context's fences,
 * and every item, list, ring and lock made from it gets {@link #ops}, the context's
 * operations, in a final field of its own. For the process's context that is
 * {@link SliceOps#DEFAULT} itself, whose {@code run} the JIT folds to the constant's
 * downcall, so a structure's hot path costs what it cost when it named the constant.
 */
public final class PerCpuMemory implements AutoCloseable {
    final SliceMemory slices;
    /** The operations of the context this memory was built with, for the structures made from it. */
    final SliceOps ops;
    /** The node memory of this memory's lists, freed with it by {@link #close()}. */
    private final java.util.Queue<SliceList> lists = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /** The most bytes of items one slice can hold. */
    public static final long MAX_ITEM_BYTES = SliceMemory.MAX_BYTES_PER_SLICE;

    /**
     * Per-CPU memory built with {@code context} instead of the process's: for tests in this
     * package that run the structures with other operations (delay loops, forced fallbacks).
     *
     * @param mode              what selects a thread's slice
     * @param itemBytesPerSlice bytes of items each slice must hold, 1 to {@link #MAX_ITEM_BYTES}
     * @param context           the operations, fences, statistics and registrations to use
     */
    PerCpuMemory(IndexMode mode, long itemBytesPerSlice, RuntimeContext context) {
        java.util.Objects.requireNonNull(context, "context");
        this.ops = SliceOps.of(context);
        this.slices = new SliceMemory(java.util.Objects.requireNonNull(mode, "index mode").field(), itemBytesPerSlice,
                context.fences());
    }

    /**
     * Per-CPU memory indexed by {@code mode} with room for {@code itemBytesPerSlice} bytes
     * of items in each slice (the sizes of the items you will make with {@link #newItem},
     * each rounded up to 8, plus any alignment padding; the room may be rounded up).
     * {@link #close()} gives it back.
     *
     * @param mode              what selects a thread's slice
     * @param itemBytesPerSlice bytes of items each slice must hold, 1 to {@link #MAX_ITEM_BYTES}
     * @throws IllegalArgumentException      when {@code itemBytesPerSlice} is out of range
     * @throws UnsupportedOperationException for {@link IndexMode#CONCURRENCY_ID} in rseq
     *                                       mode on a kernel without mm_cid
     */
    public PerCpuMemory(IndexMode mode, long itemBytesPerSlice) {
        this(mode, itemBytesPerSlice, JitConstants.CONTEXT);
    }

    /**
     * Per-CPU memory indexed by {@code mode}, each slice as big as it can be
     * ({@link #MAX_ITEM_BYTES} bytes for items). {@link #close()} gives it back.
     *
     * @param mode what selects a thread's slice: the CPU it runs on, or its concurrency id
     * @throws UnsupportedOperationException for {@link IndexMode#CONCURRENCY_ID} in rseq
     *                                       mode on a kernel without mm_cid
     */
    public PerCpuMemory(IndexMode mode) {
        this(mode, MAX_ITEM_BYTES, JitConstants.CONTEXT);
    }

    /**
     * How slices are chosen.
     *
     * @return the index mode this memory was created with
     */
    public IndexMode indexMode() {
        return IndexMode.of(slices.mode());
    }

    /**
     * Number of slices: highest possible CPU + 1.
     *
     * @return how many slices the memory has; slice indexes run from 0 to this - 1
     */
    public int slices() {
        return slices.slices();
    }

    /**
     * Bytes per slice.
     *
     * @return the size of one slice in bytes, header included
     */
    public long sliceBytes() {
        return slices.sliceBytes();
    }

    /**
     * Bytes available for items in each slice.
     *
     * @return the slice size less rseq4j's header: the most one item (or all items together)
     *         can take in a slice
     */
    public long itemCapacity() {
        return slices.sliceBytes() - SliceLayout.HEADER_BYTES;
    }

    /**
     * A new item of {@code bytes} (rounded up to 8, 8-byte aligned) in every slice, all
     * copies zero.
     *
     * @param bytes the size of the item's copy in each slice, 1 to {@link #itemCapacity()}
     * @return the new item
     * @throws IllegalArgumentException when {@code bytes} is not in [1, {@link #itemCapacity()}]
     * @throws IllegalStateException    when the slices are full or the memory is closed
     */
    public PerCpuItem newItem(long bytes) {
        return new PerCpuItem(this, checkRoom(slices.allocate(bytes, 8), bytes));
    }

    /** Room for a structure's own words (list heads, rings, locks): never a freed item's offset. */
    long allocateOffset(long bytes, long alignment) {
        return checkRoom(slices.allocateFresh(bytes, alignment), bytes);
    }

    private static long checkRoom(long off, long bytes) {
        if (off < 0) {
            throw new IllegalStateException("per-CPU memory full: no room for " + bytes + " more bytes per slice");
        }
        return off;
    }

    /**
     * A per-CPU LIFO list whose nodes carry {@code payloadBytes} bytes each.
     *
     * @param payloadBytes the size of each node's payload, 1 to 65536 bytes
     * @return a new list, empty on every slice; it uses 8 bytes of each slice for its heads
     * @throws IllegalArgumentException when {@code payloadBytes} is out of range
     * @throws IllegalStateException    when the memory is closed or its slices are full
     * @see PerCpuList
     */
    public PerCpuList newList(long payloadBytes) {
        return new PerCpuList(this, payloadBytes);
    }

    /**
     * A per-CPU byte ring of {@code capacity} bytes per slice (a power of two, 256 to
     * half a slice).
     *
     * @param capacity the ring size in bytes in every slice: a power of two from 256 to half
     *                 of {@link #sliceBytes()}
     * @return a new ring, empty on every slice
     * @see PerCpuRing
     */
    public PerCpuRing newRing(long capacity) {
        return new PerCpuRing(this, capacity);
    }

    /**
     * A per-CPU spin lock.
     *
     * @return a new lock, free on every slice
     */
    public PerCpuSpinLock newSpinLock() {
        return new PerCpuSpinLock(this);
    }

    /**
     * Stops slice {@code index}, waiting while another stopper holds it; on return no
     * critical section can commit to it, and earlier commits are visible. Close the
     * returned handle to restart the slice.
     *
     * @param index the slice to stop, from 0 to {@link #slices()} - 1
     * @return the caller's hold on the slice; closing it restarts the slice
     * @throws IndexOutOfBoundsException for a bad index
     * @throws IllegalStateException     when the memory is closed, or the slice's CPU
     *                                   cannot be fenced from this thread
     */
    public StoppedSlice stop(int index) {
        slices.checkOpen();
        slices.stop(index);
        return new StoppedSlice(this, index);
    }

    /**
     * Stops slice {@code index} if nobody else holds it.
     *
     * @param index the slice to stop, from 0 to {@link #slices()} - 1
     * @return the handle when the caller now holds the slice, empty when another stopper does
     */
    public Optional<StoppedSlice> tryStop(int index) {
        slices.checkOpen();
        return slices.tryStop(index) ? Optional.of(new StoppedSlice(this, index)) : Optional.empty();
    }

    /**
     * Whether slice {@code index} is stopped.
     *
     * @param index the slice to look at
     * @return {@code true} when someone holds that slice stopped at the moment of the read
     * @throws IllegalStateException when the memory is closed
     */
    public boolean isStopped(int index) {
        return slices.isStopped(index);
    }

    /** Forbids further use and gives the memory back (see the class notes). Idempotent. */
    @Override
    public void close() {
        slices.close();
        for (SliceList l; (l = lists.poll()) != null; ) {
            slices.whenReleased(l::closeNodes);   // not before: a drain handed its slice by close() still pops nodes
        }
    }

    /** Makes {@code list}'s nodes this memory's, to be freed when {@link #close()} gives the memory back. */
    void own(SliceList list) {
        lists.add(list);
        if (slices.isClosed() && lists.remove(list)) {   // close() ran meanwhile and may have missed it
            slices.whenReleased(list::closeNodes);
        }
    }

    @Override
    public String toString() {
        return "PerCpuMemory[" + indexMode() + ", " + slices() + " slices, " + slices.items() + " items]";
    }
}
