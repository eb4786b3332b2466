package io.github.rseq4j;

import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.structures.SlotPool;

import java.time.Duration;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Supplier;

/**
 * An object pool of at most {@code capacity} objects with a per-CPU cache of free
 * objects: the usual acquire and release run as rseq critical sections on the caller's
 * CPU, with no atomic instruction on the cache and no thread-local state, so the pool
 * stays small and fast with any number of threads, virtual threads included (where a
 * thread-local cache would keep objects in every one of thousands of threads).
 *
 * <pre>{@code
 * PerCpuPool<StringBuilder> builders = new PerCpuPool<>(StringBuilder::new, 1024);
 *
 * try (Lease<StringBuilder> lease = builders.lease(Duration.ofMillis(10))) { // waits while all are out
 *     StringBuilder sb = lease.get();
 *     sb.setLength(0);
 *     sb.append("hello");
 * }                                                                          // back in the pool
 *
 * StringBuilder sb = builders.acquire();   // or: object form; null when all 1024 are out
 * if (sb != null) {
 *     try { sb.setLength(0); } finally { builders.release(sb); }
 * }
 * }</pre>
 *
 * <p>Waiting ({@link #acquire(Duration)}, {@link #lease(Duration)}) is fair: while some
 * thread waits, each release hands its object to the longest waiter.
 *
 * <p><b>Implementation notes.</b> Each object has a slot number. Free slots live in three places:
 * <ul>
 * <li>the per-CPU caches: a bounded stack of slot numbers per CPU; an acquire is one
 *     critical section on the caller's CPU (take the top entry, or report the cache
 *     empty) and a release is one (add an entry, or report the cache full), so no count
 *     is kept outside the sections and no atomic instruction touches the cache;</li>
 * <li>the depot, an array stack under a lock, shared: a release that overfills its CPU's
 *     cache moves half a cache's worth there, and an acquire that finds its CPU's cache
 *     empty takes a batch from it;</li>
 * <li>slots never used: objects are made by the factory on first use, so a pool that is
 *     never busy creates few of them.</li>
 * </ul>
 * An acquire tries its CPU's cache, then the depot, then a new object, then steals a batch
 * from the CPU whose cache seems fullest (stopping that CPU's slice, which fences it) and
 * returns {@code null} when every object is out. {@link #rebalance()} moves cached
 * objects from the fullest CPU to the emptiest (both slices stopped); run it now and then
 * (for example from a scheduled executor) when threads acquire on some CPUs and release
 * on others.
 *
 * Double releases are caught by a state per object, set on acquire and changed back
 * with a CAS on release, so an object released twice (even by two threads at once) gets
 * an {@link IllegalStateException} and is never cached twice. {@link #release(Object)}
 * finds the slot through an identity hash table filled when objects are created (no
 * lock, no allocation); {@link Lease}s carry it.
 *
 * <p><b>Memory ordering.</b> Releasing an object happens-before its next acquisition:
 * a release commits with a release store and the acquire that takes the slot reads it;
 * the depot's lock, the hand-off and the stop protocol order the other paths. So a holder's writes to the
 * object are visible to the next holder.
 *
 * <p><b>Memory.</b> Per pool: a per-CPU cache sized to the per-CPU capacity (8 bytes per
 * slot per CPU, pages touched as used) and an int and an array entry per object.
 * {@link #close()} forbids further use and gives the per-CPU memory back (see
 * {@link PerCpuMemory}); objects are not closed or otherwise disposed of.
 *
 * @param <T> the type of pooled objects
 */
public final class PerCpuPool<T> implements Pool<T> {
    private final Supplier<? extends T> factory;
    private final SlotPool slots;
    private final Object[] objects;
    /** Identity hash table: entry = slot + 1, 0 = empty; open addressing, never removed. */
    private final AtomicIntegerArray index;
    private final int mask;

    /**
     * A pool of at most {@code capacity} objects made by {@code factory} when first needed,
     * with the default per-CPU cache size.
     *
     * @param factory  makes the pooled objects, one call per object, when the pool first
     *                 needs it (on the acquiring thread); must not return null
     * @param capacity the most objects the pool will ever make and hold (1 to 2^26)
     * @throws NullPointerException     when {@code factory} is null
     * @throws IllegalArgumentException when {@code capacity} is not in [1, 2^26]
     */
    public PerCpuPool(Supplier<? extends T> factory, int capacity) {
        this(factory, capacity, 0);
    }

    /**
     * As {@link #PerCpuPool(Supplier, int)}, with {@code perCpuCapacity} objects at most
     * in a CPU's cache before it spills to the shared depot (0 for the default: the
     * capacity divided by the number of CPUs, between 4 and 256).
     *
     * @param factory        makes the pooled objects, one call per object, when the pool
     *                       first needs it (on the acquiring thread); must not return null
     * @param capacity       the most objects the pool will ever make and hold (1 to 2^26)
     * @param perCpuCapacity the most free objects one CPU's cache keeps before the excess
     *                       goes to the shared depot; 0 for the default
     * @throws NullPointerException     when {@code factory} is null
     * @throws IllegalArgumentException when {@code capacity} is not in [1, 2^26] or
     *                                  {@code perCpuCapacity} is negative
     */
    public PerCpuPool(Supplier<? extends T> factory, int capacity, int perCpuCapacity) {
        this.factory = Objects.requireNonNull(factory, "factory");
        this.slots = new SlotPool("PerCpuPool", capacity, perCpuCapacity, JitConstants.CONTEXT);
        this.objects = new Object[capacity];
        int size = Integer.highestOneBit(Math.max(2, capacity) * 2 - 1) << 1;
        this.index = new AtomicIntegerArray(size);
        this.mask = size - 1;
    }

    /**
     * The most objects this pool will hold.
     *
     * @return the capacity given to the constructor
     */
    @Override
    public int capacity() {
        return slots.capacity();
    }

    /**
     * Objects a CPU's cache may hold before it spills to the depot.
     *
     * @return the per-CPU cache limit in use: the constructor's value (or the default, for 0)
     *         clamped to the capacity and to the cache's maximum
     */
    @Override
    public int perCpuCapacity() {
        return slots.perCpuLimit();
    }

    /**
     * Objects created so far.
     *
     * @return how many objects the factory has made for this pool, free or out
     */
    public int created() {
        int n = 0;
        for (int i = 0, u = slots.used(); i < u; i++) {
            if (objects[i] != null) {
                n++;
            }
        }
        return n;
    }

    /**
     * Objects (or slots for objects not yet made) free in the pool: the capacity minus the
     * objects out. Exact when no acquire or release runs; a pass over the per-object state
     * words, so not for hot paths.
     *
     * @return how many more objects could be acquired now without waiting
     */
    @Override
    public long available() {
        return slots.available();
    }

    /**
     * Takes a free object: from the calling CPU's cache (one critical section), else the
     * depot, else a new one from the factory, else another CPU's cache. Returns
     * {@code null} when all {@link #capacity()} objects are out.
     *
     * @return an object now owned by the caller until {@link #release}, or {@code null}
     *         when every object is out
     * @throws IllegalStateException when the pool is closed
     * @throws RuntimeException      what the factory throws (the slot stays free);
     *                               {@link NullPointerException} when it returns null
     */
    @Override
    public T acquire() {
        int s = slots.acquire();
        return s < 0 ? null : object(s);
    }

    /**
     * As {@link #acquire()}, waiting up to {@code timeout} while every object is out.
     * Returns {@code null} on timeout.
     *
     * @param timeout how long to wait at most for an object to become free (zero: do
     *                not wait)
     * @return an object now owned by the caller, or {@code null} when none became free in time
     * @throws IllegalArgumentException when {@code timeout} is negative
     * @throws InterruptedException     when interrupted while waiting
     */
    @Override
    public T acquire(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        int s = slots.acquire(timeout);
        return s < 0 ? null : object(s);
    }

    /**
     * Takes a free object as a {@link Lease}, for try-with-resources.
     *
     * @return a lease on an object; closing it gives the object back
     * @throws NoSuchElementException when all objects are out (use {@link #lease(Duration)} to wait)
     */
    @Override
    public Lease<T> lease() {
        int s = slots.acquire();
        if (s < 0) {
            throw new NoSuchElementException("PerCpuPool exhausted: all " + capacity()
                    + " objects are out; use lease(Duration) to wait for one");
        }
        return new Lease<>(slots, s, object(s));
    }

    /**
     * As {@link #lease()}, waiting up to {@code timeout} while every object is out.
     *
     * @param timeout how long to wait at most for an object to become free (zero: do
     *                not wait)
     * @return a lease on an object; closing it gives the object back
     * @throws NoSuchElementException when no object became free in time
     * @throws IllegalArgumentException when {@code timeout} is negative
     * @throws InterruptedException   when interrupted while waiting
     */
    @Override
    public Lease<T> lease(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        int s = slots.acquire(timeout);
        if (s < 0) {
            throw new NoSuchElementException("PerCpuPool: no object became free within " + timeout
                    + " (all " + capacity() + " are out)");
        }
        return new Lease<>(slots, s, object(s));
    }

    /**
     * Gives back an object taken with {@link #acquire}: onto the calling CPU's cache
     * (one critical section and one CAS on the object's state), or the depot when that
     * cache is full.
     *
     * @param object an object this pool handed out and that is still out (the same instance:
     *               the pool tells its objects apart by identity)
     * @throws NullPointerException     when {@code object} is null
     * @throws IllegalArgumentException when it is not an object of this pool
     * @throws IllegalStateException    when it is not out (released twice), or the pool is closed
     */
    @Override
    public void release(T object) {
        Objects.requireNonNull(object, "object");
        slots.checkOpen();
        int s = slotOf(object);
        if (s < 0) {
            throw notOurs(object);
        }
        slots.releaseOpen(s);
    }

    /**
     * Evens out the CPUs' caches: moves objects from the CPU holding the most to the one
     * holding the fewest (both slices stopped for the move), and spills caches above the
     * per-CPU capacity to the depot. Returns how many objects moved. Safe to run
     * concurrently with everything else.
     *
     * @return the number of objects moved between caches and the depot
     * @throws IllegalStateException when the pool is closed
     */
    @Override
    public int rebalance() {
        return slots.rebalance();
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return {@code true} once the pool is closed
     */
    @Override
    public boolean isClosed() {
        return slots.isClosed();
    }

    /**
     * Closes the pool: later acquires and releases throw {@link IllegalStateException}.
     * Objects are not disposed of.
     */
    @Override
    public void close() {
        slots.close();
    }

    @Override
    public String toString() {
        return slots.toString();
    }

    /** The engine, for tests. */
    SlotPool slotPool() {
        return slots;
    }

    // ------------------------------------------------------------------ objects

    @SuppressWarnings("unchecked")
    private T object(int slot) {
        Object o = objects[slot];
        return (T) (o != null ? o : create(slot));
    }

    /** Makes the object of a slot on its first use; the caller holds the slot. */
    private Object create(int slot) {
        T o;
        try {
            o = Objects.requireNonNull(factory.get(), "the pool's factory returned null");
        } catch (RuntimeException | Error e) {
            slots.release(slot);
            throw e;
        }
        objects[slot] = o;
        if (!insert(o, slot)) {
            objects[slot] = null;
            slots.release(slot);
            throw new IllegalStateException("the pool's factory returned an object that is already in the pool");
        }
        return o;
    }

    private static IllegalArgumentException notOurs(Object object) {
        return new IllegalArgumentException("not an object of this pool: " + object.getClass().getName()
                + "@" + Integer.toHexString(System.identityHashCode(object)));
    }

    private static int hash(Object o) {
        int h = System.identityHashCode(o) * 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    /** Adds object -> slot; false when the object is in the table already (under another slot). */
    private boolean insert(Object o, int slot) {
        for (int i = hash(o) & mask; ; i = (i + 1) & mask) {
            int e = index.get(i);
            if (e == 0) {
                if (index.compareAndSet(i, 0, slot + 1)) {
                    return true;
                }
                e = index.get(i);
            }
            if (objects[e - 1] == o) {
                return false;
            }
        }
    }

    private int slotOf(Object o) {
        for (int i = hash(o) & mask; ; i = (i + 1) & mask) {
            int e = index.get(i);
            if (e == 0) {
                return -1;
            }
            if (objects[e - 1] == o) {
                return e - 1;
            }
        }
    }
}
