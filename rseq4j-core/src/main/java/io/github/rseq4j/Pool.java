package io.github.rseq4j;

import java.time.Duration;
import java.util.NoSuchElementException;

/**
 * A bounded pool of reusable items with a per-CPU cache: what {@link PerCpuPool} (objects
 * made by a factory) and {@link PerCpuBufferPool} (fixed-size off-heap buffers, as
 * {@code Pool<MemorySegment>}) have in common, for code that works with either.
 *
 * <pre>{@code
 * static <T> void useOne(Pool<T> pool, Consumer<T> work) throws InterruptedException {
 *     try (Lease<T> lease = pool.lease(Duration.ofMillis(10))) {   // waits while all are out
 *         work.accept(lease.get());
 *     }                                                           // back in the pool
 * }
 * }</pre>
 *
 * <p>An item taken with {@link #acquire()} is given back with {@link #release}; one taken
 * with {@link #lease()} by closing the lease. Releasing an item twice, or one the pool did
 * not hand out, throws. A release happens-before the next acquisition of the same item.
 *
 * @param <T> the type of the pooled items
 */
public interface Pool<T> extends AutoCloseable {

    /**
     * Takes a free item: from the calling CPU's cache when it has one.
     *
     * @return an item now owned by the caller until {@link #release}, or {@code null} when
     *         every item is out
     * @throws IllegalStateException when the pool is closed
     */
    T acquire();

    /**
     * As {@link #acquire()}, waiting up to {@code timeout} while every item is out; waiters
     * are served in arrival order.
     *
     * @param timeout how long to wait at most (zero: do not wait; negative: {@link IllegalArgumentException},
     *                as every wait in rseq4j)
     * @return an item now owned by the caller, or {@code null} when none became free in time
     * @throws InterruptedException  when interrupted while waiting
     * @throws IllegalStateException when the pool is closed
     */
    T acquire(Duration timeout) throws InterruptedException;

    /**
     * Takes a free item as a {@link Lease}, for try-with-resources.
     *
     * @return a lease on an item; closing it gives the item back
     * @throws NoSuchElementException when every item is out (use {@link #lease(Duration)} to wait)
     * @throws IllegalStateException  when the pool is closed
     */
    Lease<T> lease();

    /**
     * As {@link #lease()}, waiting up to {@code timeout} while every item is out.
     *
     * @param timeout how long to wait at most (zero: do not wait; negative: {@link IllegalArgumentException},
     *                as every wait in rseq4j)
     * @return a lease on an item; closing it gives the item back
     * @throws NoSuchElementException when no item became free in time
     * @throws InterruptedException   when interrupted while waiting
     * @throws IllegalStateException  when the pool is closed
     */
    Lease<T> lease(Duration timeout) throws InterruptedException;

    /**
     * Gives back an item taken with {@link #acquire}.
     *
     * @param item an item this pool handed out and that is still out
     * @throws NullPointerException     when {@code item} is null
     * @throws IllegalArgumentException when it is not an item of this pool
     * @throws IllegalStateException    when it is not out (released twice), or the pool is closed
     */
    void release(T item);

    /**
     * The most items this pool holds.
     *
     * @return the capacity given when the pool was made
     */
    int capacity();

    /**
     * Items a CPU's cache may hold before the excess goes to the shared depot.
     *
     * @return the per-CPU cache limit in use
     */
    int perCpuCapacity();

    /**
     * Items that could be acquired now without waiting: the capacity minus the items out.
     * Exact when no acquire or release runs; a pass over every item's state, so not for hot
     * paths.
     *
     * @return how many items are free
     */
    long available();

    /**
     * Evens out the CPUs' caches (see the implementations); safe to run concurrently with
     * everything else.
     *
     * @return the number of items moved
     * @throws IllegalStateException when the pool is closed
     */
    int rebalance();

    /**
     * Whether {@link #close()} was called.
     *
     * @return {@code true} once the pool is closed
     */
    boolean isClosed();

    /**
     * Closes the pool: later acquires and releases throw {@link IllegalStateException}.
     * What happens to the items depends on the implementation.
     */
    @Override
    void close();
}
