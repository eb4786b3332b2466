package io.github.rseq4j;

import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.structures.CacheSlots;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * A per-CPU cache of reusable objects: <em>reuse if you can, allocate if you must</em>.
 * {@link #acquire()} takes an object cached on the caller's CPU, or makes a new one with
 * the factory when that CPU has none; {@link #release(Object)} caches the object on the
 * caller's CPU, or drops it (leaves it to the garbage collector) when that CPU's cache is
 * full. Neither ever waits or fails, and at most {@code CPUs x perCpuCapacity} objects are
 * kept however many threads (platform or virtual) use the cache: the right shape for
 * buffers that are cheap to make but better reused, such as parser and encoder buffers.
 *
 * <pre>{@code
 * PerCpuObjectCache<StringBuilder> builders = new PerCpuObjectCache<>(StringBuilder::new, 8);
 *
 * StringBuilder sb = builders.acquire();   // a cached one, or a new one: never null, never waits
 * try {
 *     sb.setLength(0);
 *     sb.append("hello");
 * } finally {
 *     builders.release(sb);                // cached on this CPU, or dropped when its cache is full
 * }
 * }</pre>
 *
 * <p>Unlike a {@link Pool}, the cache does not own a fixed set of objects: it never says
 * "none left" and never waits, it does not know which objects it made, and it cannot tell
 * a released object from a foreign one. Releasing an object twice, or one still in use, is
 * a caller error the cache does not detect (the object would be handed out twice).
 *
 * <p><b>Why it never blocks.</b> In rseq mode an acquire and a release are two rseq
 * critical sections each on the caller's CPU (see the implementation notes): no lock, no
 * atomic instruction, and a thread preempted or unmounted in the middle blocks nobody,
 * since the kernel restarts or the fallback path completes every section. In the
 * portable mode each section is the same operation on a slice held by a short spin lock
 * (a few loads and stores inside it).
 *
 * <p><b>Memory ordering.</b> Releasing an object happens-before the acquire that takes it
 * from the cache, so what the releasing thread wrote to the object is visible to the next
 * holder.
 *
 * <p><b>Memory.</b> Per CPU, a stack of {@code perCpuCapacity} slot numbers and a stack
 * with room for every slot (8 bytes per slot); on the heap, an array of
 * {@code CPUs x (perCpuCapacity + 16)} references. {@link #close()} drops the cached
 * objects and gives the per-CPU memory back.
 *
 * <p><b>Implementation notes.</b> A per-CPU stack in native memory cannot hold Java references, so the cache
 * has {@code CPUs x perCpuCapacity} slots, each a cell of a reference array, and every
 * slot is owned by one party at a time: a CPU's stack of full slots, a CPU's stack of
 * free slots, or one thread between two sections. An acquire pops a full slot on its CPU
 * (one section), takes the object out of the cell and pushes the slot on its CPU's free
 * stack (one more); a release pops a free slot (one section), writes the object into it
 * and pushes it on its CPU's full stack (one more, committed with a release store), which
 * fails when that CPU already caches {@code perCpuCapacity} objects. Both are the pools'
 * bounded-stack operations ({@code BOUNDED_POP}, {@code BOUNDED_PUSH}). A thread that
 * changes CPU between its two sections takes its slot along, so free slots can drift
 * between CPUs; a CPU left without free slots drops what is released there until an
 * acquire there frees one. {@link #pooledCount()} sums the full stacks' counts, which the
 * sections maintain; {@link #clear()} stops one CPU's slice at a time.
 *
 * @param <T> the type of cached objects
 */
public final class PerCpuObjectCache<T> implements AutoCloseable {
    /** The per-CPU capacity of {@link #PerCpuObjectCache(Supplier)}. */
    public static final int DEFAULT_PER_CPU_CAPACITY = 16;

    private static final VarHandle CELL = MethodHandles.arrayElementVarHandle(Object[].class);

    private final Supplier<? extends T> factory;
    private final CacheSlots slots;
    /** The slots' cells: a cached object, or null while the slot is free. */
    private final Object[] cells;
    private final LongAdder created = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private volatile boolean closed;

    /**
     * A cache of up to {@value #DEFAULT_PER_CPU_CAPACITY} objects per CPU.
     *
     * @param factory makes an object when the caller's CPU has none cached; must not return null
     * @throws NullPointerException when {@code factory} is null
     */
    public PerCpuObjectCache(Supplier<? extends T> factory) {
        this(factory, DEFAULT_PER_CPU_CAPACITY);
    }

    /**
     * A cache of up to {@code perCpuCapacity} objects per CPU.
     *
     * @param factory        makes an object when the caller's CPU has none cached; must
     *                       not return null
     * @param perCpuCapacity the most objects one CPU keeps, 1 to 4096 (and at most 65536
     *                       divided by the number of CPUs)
     * @throws NullPointerException     when {@code factory} is null
     * @throws IllegalArgumentException when {@code perCpuCapacity} is out of range
     */
    public PerCpuObjectCache(Supplier<? extends T> factory, int perCpuCapacity) {
        this.factory = Objects.requireNonNull(factory, "factory");
        this.slots = new CacheSlots("PerCpuObjectCache", perCpuCapacity, JitConstants.CONTEXT);
        this.cells = new Object[slots.slotSpan()];
    }

    /**
     * Objects one CPU keeps at most.
     *
     * @return the per-CPU capacity given to the constructor
     */
    public int perCpuCapacity() {
        return slots.perCpuCapacity();
    }

    /**
     * Objects the cache keeps at most, in all.
     *
     * @return CPUs x {@link #perCpuCapacity()}
     */
    public int capacity() {
        return slots.slots();
    }

    /**
     * Takes an object cached on the caller's CPU, or makes one with the factory when that
     * CPU has none (or the cache is closed). Never waits and never returns null.
     *
     * @return an object that is the caller's until it passes it to {@link #release}
     * @throws RuntimeException what the factory throws; {@link NullPointerException} when it
     *                          returns null
     */
    public T acquire() {
        if (!closed) {
            try {
                int s = slots.takeFull();
                if (s >= 0) {
                    @SuppressWarnings("unchecked")
                    T o = (T) CELL.getAcquire(cells, s);
                    cells[s] = null;
                    slots.putFree(s);
                    if (o != null) { // null only when close() emptied the cells meanwhile
                        return o;
                    }
                }
            } catch (IllegalStateException e) {
                if (!closed) {
                    throw e;
                }
                // closed meanwhile: allocate
            }
        }
        return create();
    }

    private T create() {
        T o = Objects.requireNonNull(factory.get(), "the cache's factory returned null");
        created.increment();
        return o;
    }

    /**
     * Caches {@code object} on the caller's CPU, or drops it when that CPU's cache is full
     * (or the cache is closed). Never waits and never fails.
     *
     * @param object an object the caller no longer uses (usually one from {@link #acquire()});
     *               it must not be in the cache already
     * @throws NullPointerException when {@code object} is null
     */
    public void release(T object) {
        Objects.requireNonNull(object, "object");
        if (!closed) {
            try {
                int s = slots.takeFree();
                if (s >= 0) {
                    CELL.setRelease(cells, s, object);
                    if (slots.putFull(s)) {
                        return;
                    }
                    cells[s] = null;
                    slots.putFree(s);
                }
            } catch (IllegalStateException e) {
                if (!closed) {
                    throw e;
                }
                // closed meanwhile: drop
            }
        }
        dropped.increment();
    }

    /**
     * Objects cached now, on all CPUs: exact when no acquire or release runs at the same
     * time (each CPU's count is kept inside the critical sections).
     *
     * @return how many objects an acquire could take from the cache now; at most
     *         {@link #capacity()}; 0 once closed
     */
    public int pooledCount() {
        if (closed) {
            return 0;
        }
        try {
            return (int) slots.cached();
        } catch (IllegalStateException e) {
            if (!closed) {
                throw e;
            }
            return 0;
        }
    }

    /**
     * Objects cached now on one CPU.
     *
     * @param cpu a CPU number, 0 to the number of possible CPUs - 1
     * @return how many objects that CPU's cache holds now
     * @throws IndexOutOfBoundsException when {@code cpu} is not a possible CPU
     * @throws IllegalStateException     when the cache is closed
     */
    public int pooledCount(int cpu) {
        return (int) slots.cached(cpu);
    }

    /**
     * Drops every cached object (each CPU's cache is emptied with that CPU's slice
     * stopped, one CPU at a time; acquires and releases may run meanwhile).
     *
     * @return how many objects were dropped
     */
    public int clear() {
        if (closed) {
            return 0;
        }
        try {
            return slots.clear(s -> cells[s] = null);
        } catch (IllegalStateException e) {
            if (!closed) {
                throw e;
            }
            return 0; // closed meanwhile: close() dropped the rest
        }
    }

    /**
     * Objects the factory has made for this cache so far (a statistic, counted only when
     * the factory is called).
     *
     * @return how many times {@link #acquire()} found nothing cached and made an object
     */
    public long created() {
        return created.sum();
    }

    /**
     * Objects released to this cache and not kept, because the caller's CPU was full or the
     * cache was closed (a statistic, counted only on that path; {@link #clear()} and
     * {@link #close()} return their own counts instead).
     *
     * @return how many released objects were left to the garbage collector
     */
    public long dropped() {
        return dropped.sum();
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return {@code true} once the cache is closed
     */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Closes the cache: drops every cached object and gives the per-CPU memory back. The
     * cache still works afterwards, without caching: {@link #acquire()} makes an object
     * each time and {@link #release(Object)} drops it, so code still holding the cache
     * never fails. Objects are not closed or otherwise disposed of. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            slots.close();
            Arrays.fill(cells, null);
        }
    }

    @Override
    public String toString() {
        return "PerCpuObjectCache[perCpu=" + perCpuCapacity() + ", pooled=" + pooledCount() + ", created="
                + created() + ", dropped=" + dropped() + (closed ? ", closed" : "") + "]";
    }
}
