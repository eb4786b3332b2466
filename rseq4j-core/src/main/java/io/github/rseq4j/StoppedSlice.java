package io.github.rseq4j;

import io.github.rseq4j.internal.memory.SliceMemory;

/**
 * Proof that the caller holds one slice of a {@link PerCpuMemory} stopped: while it is
 * open, no critical section commits to that slice and the holder may read and write the
 * slice's copies with plain accesses (the {@code *Stopped} methods of {@link PerCpuItem}
 * and {@link PerCpuList} take it). Closing it restarts the slice, publishing the holder's
 * writes with release ordering.
 *
 * <pre>{@code
 * try (StoppedSlice s = memory.stop(cpu)) {
 *     MemorySegment node = list.popStopped(s);
 *     ...
 * }
 * }</pre>
 *
 * <p>Obtained from {@link PerCpuMemory#stop(int)} or {@link PerCpuMemory#tryStop(int)}.
 * Not thread-safe: use it from one thread at a time (handing it to another thread with a
 * happens-before edge is fine).
 */
public final class StoppedSlice implements AutoCloseable {
    private final PerCpuMemory memory;
    private final int index;
    private volatile boolean open = true;

    StoppedSlice(PerCpuMemory memory, int index) {
        this.memory = memory;
        this.index = index;
    }

    /**
     * The slice index (a CPU number or a concurrency id).
     *
     * @return the index of the slice this handle holds stopped
     */
    public int index() {
        return index;
    }

    /**
     * The memory the slice belongs to.
     *
     * @return the {@link PerCpuMemory} that was stopped
     */
    public PerCpuMemory memory() {
        return memory;
    }

    /**
     * Whether the slice is still held through this handle.
     *
     * @return {@code true} until {@link #close()} restarts the slice
     */
    public boolean isOpen() {
        return open;
    }

    /**
     * Checks that this handle holds a slice of {@code m} now.
     *
     * @throws IllegalArgumentException when it belongs to other memory
     * @throws IllegalStateException    when it was closed
     */
    int requireHeld(SliceMemory m) {
        if (memory.slices != m) {
            throw new IllegalArgumentException("this StoppedSlice holds slice " + index + " of another PerCpuMemory");
        }
        if (!open) {
            throw new IllegalStateException("this StoppedSlice of slice " + index + " is closed: stop the slice again");
        }
        return index;
    }

    /**
     * Restarts the slice.
     *
     * @throws IllegalStateException when this handle was already closed
     */
    @Override
    public void close() {
        if (!open) {
            throw new IllegalStateException("this StoppedSlice of slice " + index + " is already closed");
        }
        open = false;
        memory.slices.start(index);
    }

    @Override
    public String toString() {
        return "StoppedSlice[" + index + (open ? "" : ", closed") + "]";
    }
}
