package io.github.rseq4j.internal.structures;

import io.github.rseq4j.internal.abi.BoundedStackLayout;
import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.codegen.PerCpuOperation;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.runtime.RuntimeContext;

import java.util.function.IntConsumer;

/**
 * The engine of {@code PerCpuObjectCache}: slot numbers kept in two bounded stacks per
 * CPU, one of slots whose cell holds a cached object ("full") and one of slots whose cell
 * is empty ("free"). What a slot's cell is (an element of a Java array) is the caller's
 * business; this class only says who owns which slot.
 *
 * <p><b>Implementation notes.</b>
 * <ul>
 * <li>Why slots at all: a per-CPU stack in native memory cannot hold Java references,
 *     and a thread can only write a reference into a cell it owns, which it must own
 *     <em>before</em> the critical section that publishes it (a section cannot run Java).
 *     So a release first takes a free slot (one {@link PerCpuOperation#BOUNDED_POP} on its
 *     CPU's free stack), writes its object into that slot's cell, then publishes the slot
 *     (one {@link PerCpuOperation#BOUNDED_PUSH} on its CPU's full stack, committed with a
 *     release store). An acquire pops a full slot (one section), takes the object out of
 *     the cell, clears it, and pushes the slot on its CPU's free stack (one section). A
 *     slot is owned by exactly one of: a full stack, a free stack, or the one thread
 *     between its two sections; so a cell has one writer at a time, with no atomic
 *     instruction and no lock on any path.</li>
 * <li>Bounds: there are {@code slices x perCpuCapacity} slots, so at most that many
 *     objects are cached in all; a full stack holds at most {@code perCpuCapacity} slots
 *     (its push fails with FULL above that, decided inside the section), so one CPU never
 *     caches more than that. A free stack has room for every slot, so pushing a free slot
 *     never fails: a thread that moves to another CPU between its two sections carries its
 *     slot there, so free slots can drift between CPUs; a CPU left with none drops what is
 *     released on it until an acquire there frees one.</li>
 * <li>Initial state: CPU {@code i}'s free stack holds slots {@code i * stride} to
 *     {@code i * stride + perCpuCapacity - 1}, written with the push's Java twin before
 *     the engine is visible to any other thread (no section can run on memory nobody else
 *     has). Slot numbers are spaced {@link #stride()} apart per CPU, with
 *     {@value #GAP} unused numbers between CPUs, so that when slot numbers index an
 *     array of references, two CPUs' cells do not share a cache line at first.</li>
 * <li>Counts: the number of cached objects is the sum of the full stacks' count words,
 *     each maintained inside the sections; exact whenever no acquire or release is between
 *     its two sections.</li>
 * <li>Modes: every operation goes through {@link SliceOps#run}, so it is a critical
 *     section in rseq mode and the same operation's Java twin on a stopped slice in the
 *     portable mode (or on a fallback); {@link #clear} stops one slice at a time.</li>
 * </ul>
 */
public final class CacheSlots {
    /** The largest per-CPU capacity. */
    public static final int MAX_PER_CPU = 1 << 12;
    /** The most slots in all (a free stack has room for all of them: 8 bytes each per CPU). */
    public static final int MAX_SLOTS = 1 << 16;
    /** Unused slot numbers between two CPUs' first slots (16 references: one line or more). */
    static final int GAP = 16;

    /** The number of slices per-CPU memory has (to size the stacks before the memory exists). */
    private static int sliceCount() {
        return JitConstants.RUNTIME.platform().sliceCount();
    }

    /** The operations every path runs, from the context the structure was built with. */
    private final SliceOps ops;
    private final String owner;
    private final int perCpuCapacity;
    private final int slots;
    private final int stride;
    private final SliceMemory memory;
    /** Offset of the per-CPU stack of full slots ({@code perCpuCapacity} entries). */
    private final long full;
    /** Offset of the per-CPU stack of free slots (room for every slot). */
    private final long free;

    /**
     * @param owner          names the structure in exception messages
     * @param perCpuCapacity the most cached objects per CPU, 1 to {@link #MAX_PER_CPU},
     *                       and at most {@link #MAX_SLOTS} / CPUs
     * @param context        the operations, fences and statistics to run with
     * @throws IllegalArgumentException when {@code perCpuCapacity} is out of range
     */
    public CacheSlots(String owner, int perCpuCapacity, RuntimeContext context) {
        int slices = sliceCount();
        int most = Math.min(MAX_PER_CPU, MAX_SLOTS / slices);
        if (perCpuCapacity < 1 || perCpuCapacity > most) {
            throw new IllegalArgumentException("per-CPU capacity must be 1 to " + most + " (with " + slices
                    + " CPUs): " + perCpuCapacity);
        }
        this.owner = owner;
        this.ops = SliceOps.of(context);
        this.perCpuCapacity = perCpuCapacity;
        this.slots = slices * perCpuCapacity;
        this.stride = perCpuCapacity + GAP;
        long fullBytes = BoundedStackLayout.bytes(perCpuCapacity);
        long freeBytes = BoundedStackLayout.bytes(slots);
        this.memory = new SliceMemory(IndexField.CPU_ID, ((fullBytes + 63) & -64L) + freeBytes + 64, context.fences());
        this.full = allocate(fullBytes);
        this.free = allocate(freeBytes);
        // Not yet visible to any other thread, so no section can run on this memory: the
        // twin's plain writes fill each CPU's free stack, and the final fields publish them.
        for (int i = 0; i < memory.slices(); i++) {
            for (int k = 0; k < perCpuCapacity; k++) {
                SliceOps.onHeldSlice(PerCpuOperation.BOUNDED_PUSH, memory, i, free, (long) i * stride + k, slots, 0, 0, null);
            }
        }
    }

    private long allocate(long bytes) {
        long off = memory.allocateFresh(bytes, 64);
        if (off < 0) {
            throw new IllegalStateException("no room for a per-CPU stack of " + bytes + " bytes");
        }
        return off;
    }

    /** The per-CPU capacity. */
    public int perCpuCapacity() {
        return perCpuCapacity;
    }

    /** Slots in all: CPUs x per-CPU capacity, the most objects ever cached at once. */
    public int slots() {
        return slots;
    }

    /** Slot numbers are below this: an array of this length has a cell for every slot. */
    public int slotSpan() {
        return memory.slices() * stride;
    }

    /** Distance between two CPUs' first slot numbers. */
    public int stride() {
        return stride;
    }

    /** The number of slices (CPUs). */
    public int slices() {
        return memory.slices();
    }

    /**
     * One critical section: takes a full slot from the caller's CPU; the slot, or -1 when
     * that CPU caches nothing. The caller owns the slot until {@link #putFree}.
     */
    public int takeFull() {
        long r = ops.run(PerCpuOperation.BOUNDED_POP, memory, full, 0, 0, 0, 0, null);
        return r >= 0 ? (int) r : -1;
    }

    /** One critical section: gives an emptied slot to the caller's CPU's free stack (never full). */
    public void putFree(int slot) {
        long r = ops.run(PerCpuOperation.BOUNDED_PUSH, memory, free, slot, slots, 0, 0, null);
        if (r < 0) {
            throw new IllegalStateException(owner + ": a free stack overflowed (" + r + "): more slots than "
                    + slots + " in circulation, which cannot happen unless a slot was given back twice");
        }
    }

    /**
     * One critical section: takes a free slot from the caller's CPU; the slot, or -1 when
     * that CPU has none. The caller owns the slot until {@link #putFull} or {@link #putFree}.
     */
    public int takeFree() {
        long r = ops.run(PerCpuOperation.BOUNDED_POP, memory, free, 0, 0, 0, 0, null);
        return r >= 0 ? (int) r : -1;
    }

    /**
     * One critical section (release ordering): publishes a slot whose cell the caller has
     * filled on the caller's CPU's full stack; false when that CPU already caches
     * {@link #perCpuCapacity()} objects (the caller still owns the slot).
     */
    public boolean putFull(int slot) {
        return ops.run(PerCpuOperation.BOUNDED_PUSH, memory, full, slot, perCpuCapacity, 0, 0, null) >= 0;
    }

    /** Objects cached now on slice {@code index}: its full stack's count. */
    public long cached(int index) {
        memory.checkIndex(index);
        return SliceOps.getAcquire(memory, index, full + BoundedStackLayout.COUNT);
    }

    /** Objects cached now on all slices. */
    public long cached() {
        long n = 0;
        for (int i = 0; i < memory.slices(); i++) {
            n += cached(i);
        }
        return n;
    }

    /**
     * Empties every full stack, one slice at a time (each stopped meanwhile): each full
     * slot goes to {@code removed} (which must empty its cell) and then onto the same
     * slice's free stack. Returns how many.
     */
    public int clear(IntConsumer removed) {
        int n = 0;
        for (int i = 0; i < memory.slices(); i++) {
            memory.stop(i);
            try {
                for (long r; (r = SliceOps.onHeldSlice(PerCpuOperation.BOUNDED_POP, memory, i, full, 0, 0, 0, 0, null)) >= 0; ) {
                    removed.accept((int) r);
                    SliceOps.onHeldSlice(PerCpuOperation.BOUNDED_PUSH, memory, i, free, r, slots, 0, 0, null);
                    n++;
                }
            } finally {
                memory.start(i);
            }
        }
        return n;
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return memory.isClosed();
    }

    /** Gives the per-CPU memory back; later operations throw {@link IllegalStateException}. */
    public void close() {
        memory.close();
    }

    @Override
    public String toString() {
        return owner + "[perCpu=" + perCpuCapacity + ", slots=" + slots + "]";
    }
}
