package io.github.rseq4j;

import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A spin lock per slice, built on the compare-and-store critical section: {@link #lock()}
 * takes the calling CPU's lock (0 to 1) and returns its index; {@link #unlock(int)}
 * releases it with a release store. Holders on different CPUs do not contend. The lock
 * is not reentrant; hold it briefly.
 */
public final class PerCpuSpinLock {
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final int SPINS_BEFORE_YIELD = 100;

    private final SliceMemory m;
    /** The operations of the context the memory was built with (for the process's, {@link SliceOps#DEFAULT}). */
    private final SliceOps ops;
    private final long word;

    PerCpuSpinLock(PerCpuMemory memory) {
        this.m = memory.slices;
        this.ops = memory.ops;
        this.word = memory.allocateOffset(8, 8);
    }

    /**
     * Takes the lock of the slice the caller runs on (waiting if held); returns that index.
     *
     * @return the index of the slice whose lock the caller now holds; pass it to
     *         {@link #unlock(int)}, whatever CPU the thread runs on by then
     * @throws IllegalStateException when the memory is closed
     */
    public int lock() {
        m.checkOpen();
        for (int spins = 0; ; spins++) {
            long r = ops.compareAndStore(m, word, 0, 1, false);
            if (r >= 0) {
                // the compare-and-store commit is relaxed; this fence (dmb ishld on aarch64) makes it an acquire
                VarHandle.acquireFence();
                return (int) r;
            }
            if (spins < SPINS_BEFORE_YIELD) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /**
     * Releases the lock of slice {@code index}.
     *
     * @param index the slice index {@link #lock()} returned
     * @throws IllegalStateException when it is not held (after the memory was closed, this
     *                               does nothing: the lock is gone with it)
     */
    public void unlock(int index) {
        m.checkIndex(index);
        if (m.isReleased()) {
            return;
        }
        long at = m.at(index, word);
        if ((long) LONG.getVolatile(m.whole(), at) != 1L) {
            throw new IllegalStateException("the lock of slice " + index + " is not held");
        }
        LONG.setRelease(m.whole(), at, 0L);
    }

    /**
     * Whether the lock of slice {@code index} is held.
     *
     * @param index the slice whose lock to look at
     * @return {@code true} when somebody held that lock at the moment of the read
     * @throws IllegalStateException when the memory is closed
     */
    public boolean isLocked(int index) {
        m.checkIndex(index);
        m.checkOpen();
        return (long) LONG.getVolatile(m.whole(), m.at(index, word)) != 0L;
    }

    /**
     * The lock's place, without reading any slice's lock word.
     *
     * @return {@code PerCpuSpinLock[N slices]}, with {@code closed} once its memory is
     */
    @Override
    public String toString() {
        return "PerCpuSpinLock[" + m.slices() + " slices" + (m.isClosed() ? ", closed" : "") + "]";
    }
}
