package io.github.rseq4j;

import io.github.rseq4j.internal.memory.StrideIndex;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.structures.SlotPool;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * A pool of {@code buffers} off-heap buffers of {@code bufferSize} bytes each, with a
 * per-CPU cache of free buffers: for I/O and serialisation code that would otherwise keep
 * a buffer per thread, which costs {@code threads x size} with many threads and does not
 * work at all with millions of virtual threads. Here the memory is bounded by the pool and
 * the common acquire and release are rseq critical sections on the caller's CPU.
 *
 * <pre>{@code
 * try (PerCpuBufferPool pool = new PerCpuBufferPool(64 * 1024, 256)) {
 *     try (Lease<MemorySegment> lease = pool.lease(Duration.ofMillis(50))) { // waits while all are out
 *         MemorySegment buf = lease.get();
 *         buf.setString(0, "hello", StandardCharsets.UTF_8);
 *     }                                            // back in the pool
 *     MemorySegment buf = pool.acquire();          // or: object form; null when all 256 are out
 *     if (buf != null) {
 *         try { buf.set(ValueLayout.JAVA_LONG, 0, 42); } finally { pool.release(buf); }
 *     }
 * }                                                // every buffer is invalid from here on
 * }</pre>
 *
 * <p><b>Implementation notes.</b> The buffers are slices of one block allocated from a
 * shared {@link Arena} when the pool is made (page-aligned; each buffer starts on a
 * 64-byte boundary so that two holders never share a cache line). Closing the pool closes
 * the arena, so a buffer used after {@link #close()} throws {@link IllegalStateException}
 * from the FFM API itself. Free buffers are kept as in {@link PerCpuPool}: a per-CPU
 * cache (a bounded per-CPU stack of buffer numbers, pushed and popped by critical sections,
 * with a per-CPU count word to detect a full cache), a shared depot for overflow and
 * underflow, stealing from the fullest CPU when everything else is empty, and
 * {@link #rebalance()}. A buffer's number is computed from its address, and each buffer
 * has a state word changed by a CAS on release, so:
 * <ul>
 * <li>releasing a buffer twice throws {@link IllegalStateException};</li>
 * <li>releasing a segment that is not one of this pool's buffers (another pool's, one made
 *     elsewhere, a slice of a buffer, a heap segment) throws {@link IllegalArgumentException};
 *     the check compares the segment's scope with the pool's arena, its address and its
 *     size;</li>
 * <li>acquiring or releasing after {@link #close()} throws {@link IllegalStateException}.</li>
 * </ul>
 * Buffers are not cleared between uses (they are zero the first time).
 *
 * <p><b>Memory ordering.</b> Releasing a buffer happens-before its next acquisition, so
 * the next holder sees everything the previous holder wrote (and must overwrite what it
 * relies on).
 */
public final class PerCpuBufferPool implements Pool<MemorySegment> {
    private final int bufferSize;
    private final long stride;
    /** Buffer offsets to slots, without a division (a release checks one). */
    private final StrideIndex index;
    private final Arena arena;
    private final MemorySegment block;
    private final long base;
    private final SlotPool slots;
    private final MemorySegment[] views;

    /** The most bytes one pool's buffers may take together (each rounded up to 64): 128 GiB. */
    public static final long MAX_TOTAL_BYTES = 1L << 37;

    /**
     * A pool of {@code buffers} buffers of {@code bufferSize} bytes, with the default
     * per-CPU cache size. The whole {@code buffers x bufferSize} bytes (rounded up to 64
     * per buffer) are allocated now.
     *
     * @param bufferSize the size of each buffer in bytes (at least 1)
     * @param buffers    how many buffers the pool holds, all allocated up front (1 to 2^26)
     * @throws IllegalArgumentException when a size is not positive, {@code buffers} is above
     *                                  2^26, or the buffers together would exceed
     *                                  {@link #MAX_TOTAL_BYTES} or cannot be allocated (checked
     *                                  before anything is allocated)
     */
    public PerCpuBufferPool(int bufferSize, int buffers) {
        this(bufferSize, buffers, 0);
    }

    /**
     * As {@link #PerCpuBufferPool(int, int)}, with {@code perCpuCapacity} buffers at most
     * in a CPU's cache before it spills to the shared depot (0 for the default).
     *
     * @param bufferSize     the size of each buffer in bytes (at least 1)
     * @param buffers        how many buffers the pool holds, all allocated up front (1 to 2^26)
     * @param perCpuCapacity the most free buffers one CPU's cache keeps before the excess goes
     *                       to the shared depot; 0 picks a default from {@code buffers} and
     *                       the number of CPUs
     * @throws IllegalArgumentException when a size is not positive, {@code buffers} is above
     *                                  2^26, {@code perCpuCapacity} is negative, or the buffers
     *                                  together would exceed {@link #MAX_TOTAL_BYTES} or cannot
     *                                  be allocated
     */
    public PerCpuBufferPool(int bufferSize, int buffers, int perCpuCapacity) {
        if (bufferSize <= 0) {
            throw new IllegalArgumentException("buffer size must be positive: " + bufferSize);
        }
        if (buffers <= 0 || buffers > SlotPool.MAX_CAPACITY) {
            throw new IllegalArgumentException("buffers must be 1 to " + SlotPool.MAX_CAPACITY + ": " + buffers);
        }
        if (perCpuCapacity < 0) {
            throw new IllegalArgumentException("per-CPU capacity must be >= 1 (or 0 for the default): " + perCpuCapacity);
        }
        this.bufferSize = bufferSize;
        this.stride = (bufferSize + 63L) & -64L;
        this.index = new StrideIndex(stride);
        long total = stride * buffers; // at most 2^31 x 2^26: no overflow
        if (total > MAX_TOTAL_BYTES) {
            throw new IllegalArgumentException(buffers + " buffers of " + bufferSize + " bytes (" + stride
                    + " with alignment) need " + total + " bytes, more than the " + MAX_TOTAL_BYTES + " a pool may hold");
        }
        // The buffers first: if that allocation fails, nothing else has been reserved.
        Arena a = Arena.ofShared();
        try {
            this.block = a.allocate(total, 4096);
        } catch (OutOfMemoryError e) {
            a.close();
            throw new IllegalArgumentException("cannot allocate " + buffers + " buffers of " + bufferSize
                    + " bytes (" + total + " bytes): " + e.getMessage(), e);
        } catch (RuntimeException e) {
            a.close();
            throw e;
        }
        this.arena = a;
        this.base = block.address();
        this.slots = new SlotPool("PerCpuBufferPool", buffers, perCpuCapacity, JitConstants.CONTEXT);
        this.views = new MemorySegment[buffers];
    }

    /**
     * Bytes per buffer.
     *
     * @return the size of each buffer in bytes, as given to the constructor
     */
    public int bufferSize() {
        return bufferSize;
    }

    /**
     * Number of buffers.
     *
     * @return how many buffers the pool holds in all, free or out
     */
    @Override
    public int capacity() {
        return slots.capacity();
    }

    /**
     * Buffers a CPU's cache may hold before it spills to the depot.
     *
     * @return the per-CPU cache limit in use: the constructor's value (or the default, for 0)
     *         clamped to the number of buffers and to the cache's maximum
     */
    @Override
    public int perCpuCapacity() {
        return slots.perCpuLimit();
    }

    /**
     * Free buffers: the number of buffers minus those out. Exact when no acquire or release
     * runs; a pass over the per-buffer state words, so not for hot paths.
     *
     * @return how many buffers are in the pool now (in a cache, the depot, or never used)
     */
    @Override
    public long available() {
        return slots.available();
    }

    /**
     * Takes a free buffer: from the calling CPU's cache (one critical section), else the
     * depot, else one never used, else another CPU's cache. Returns {@code null} when all
     * buffers are out. The segment is {@link #bufferSize()} bytes, zero on first use and
     * as the previous holder left it afterwards.
     *
     * @return a buffer now owned by the caller until {@link #release(MemorySegment)}, or
     *         {@code null} when every buffer is out
     * @throws IllegalStateException when the pool is closed
     */
    @Override
    public MemorySegment acquire() {
        int s = slots.acquire();
        return s < 0 ? null : view(s);
    }

    /**
     * As {@link #acquire()}, waiting up to {@code timeout} while every buffer is out
     * (spinning, yielding, then parking briefly). Returns {@code null} on timeout.
     *
     * @param timeout how long to wait at most for a buffer to become free (zero: do not
     *                wait)
     * @return a buffer now owned by the caller, or {@code null} when none became free in time
     * @throws IllegalArgumentException when {@code timeout} is negative
     * @throws InterruptedException     when interrupted while waiting
     */
    @Override
    public MemorySegment acquire(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        int s = slots.acquire(timeout);
        return s < 0 ? null : view(s);
    }

    /**
     * Takes a free buffer as a {@link Lease}, for try-with-resources.
     *
     * @return a lease on a buffer; closing it gives the buffer back
     * @throws NoSuchElementException when all buffers are out (use {@link #lease(Duration)} to wait)
     * @throws IllegalStateException  when the pool is closed
     */
    @Override
    public Lease<MemorySegment> lease() {
        int s = slots.acquire();
        if (s < 0) {
            throw new NoSuchElementException("PerCpuBufferPool exhausted: all " + capacity()
                    + " buffers are out; use lease(Duration) to wait for one");
        }
        return new Lease<>(slots, s, view(s));
    }

    /**
     * As {@link #lease()}, waiting up to {@code timeout} while every buffer is out.
     *
     * @param timeout how long to wait at most for a buffer to become free (zero: do not
     *                wait)
     * @return a lease on a buffer; closing it gives the buffer back
     * @throws NoSuchElementException when no buffer became free in time
     * @throws IllegalArgumentException when {@code timeout} is negative
     * @throws InterruptedException   when interrupted while waiting
     */
    @Override
    public Lease<MemorySegment> lease(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        int s = slots.acquire(timeout);
        if (s < 0) {
            throw new NoSuchElementException("PerCpuBufferPool: no buffer became free within " + timeout
                    + " (all " + capacity() + " are out)");
        }
        return new Lease<>(slots, s, view(s));
    }

    /**
     * Gives a buffer back.
     *
     * @param buffer a buffer this pool's {@code acquire} returned and that is still out, the
     *               very segment (not a slice or a copy of it)
     * @throws NullPointerException     when {@code buffer} is null
     * @throws IllegalArgumentException when it is not a buffer of this pool (exactly as
     *                                  {@link #acquire()} returned it)
     * @throws IllegalStateException    when it is not out (released twice), or the pool is closed
     */
    @Override
    public void release(MemorySegment buffer) {
        Objects.requireNonNull(buffer, "buffer");
        slots.checkOpen();
        long s = index.indexOf(buffer.address() - base);
        if (s < 0 || s >= views.length) {
            throw notOurs(buffer);
        }
        // The segment this pool handed out (the usual case) is ours by identity: one load and
        // a compare. Another segment over the same bytes gets the full check.
        if (views[(int) s] != buffer
                && (!buffer.isNative() || !buffer.scope().equals(arena.scope()) || buffer.byteSize() != bufferSize)) {
            throw notOurs(buffer);
        }
        slots.releaseOpen((int) s);
    }

    /**
     * Evens out the CPUs' caches (see {@link PerCpuPool#rebalance()}). Returns how many
     * buffers moved.
     *
     * @return the number of buffers moved between caches and the depot
     */
    @Override
    public int rebalance() {
        return slots.rebalance();
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return {@code true} once {@code close()} has been called, even if it could not free
     *         the memory yet
     */
    @Override
    public boolean isClosed() {
        return slots.isClosed();
    }

    /**
     * Closes the pool and frees the buffers' memory: later acquires and releases throw
     * {@link IllegalStateException}, and so does any access to a buffer, out or not.
     * When a buffer is inside a native call right now, the memory cannot be freed yet: the
     * pool is closed for acquire and release all the same, this call throws, and a later
     * {@code close()} tries again to free the memory (until one succeeds).
     *
     * @throws IllegalStateException when a buffer is in use by a native call right now
     *                               (see {@link Arena#close()}); call {@code close()} again
     *                               after that call returns
     */
    @Override
    public synchronized void close() {
        if (!slots.isClosed()) {
            slots.close();
        }
        if (arena.scope().isAlive()) {
            try {
                arena.close();
            } catch (IllegalStateException e) {
                throw new IllegalStateException("PerCpuBufferPool: its buffers' memory is not freed yet because a buffer"
                        + " is in use by a native call; call close() again after that call returns", e);
            }
        }
    }

    /**
     * Whether the buffers' memory has been freed (a {@link #close()} succeeded).
     *
     * @return {@code true} when the buffers' memory is freed, so that accessing a buffer throws
     */
    public boolean isMemoryFreed() {
        return !arena.scope().isAlive();
    }

    @Override
    public String toString() {
        return slots.toString();
    }

    private IllegalArgumentException notOurs(MemorySegment buffer) {
        return new IllegalArgumentException("not a buffer of this pool (size " + bufferSize + "): " + buffer);
    }

    private MemorySegment view(int slot) {
        MemorySegment v = views[slot];
        if (v == null) {
            v = block.asSlice(slot * stride, bufferSize);
            views[slot] = v;
        }
        return v;
    }
}
