package io.github.rseq4j.jackson;

import io.github.rseq4j.PerCpuObjectCache;

import java.io.Serial;
import java.io.Serializable;
import java.util.function.Supplier;

/**
 * What the Jackson 2 and Jackson 3 pools share: a {@link PerCpuObjectCache} of recyclers
 * behind the four methods of Jackson's {@code RecyclerPool}, which both lines declare with
 * the same names and shapes (the subclasses implement their line's interface with these).
 * Serialization keeps the per-CPU capacity and whether the pool is the shared one; the
 * cache is made anew on deserialization (see the subclasses' {@code readResolve}).
 *
 * @param <R> the line's {@code BufferRecycler}
 */
abstract class PerCpuRecyclerPoolBase<R> implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    final int perCpuCapacity;
    final boolean shared;
    private final transient PerCpuObjectCache<R> cache;

    PerCpuRecyclerPoolBase(boolean shared, int perCpuCapacity, Supplier<R> factory) {
        this.shared = shared;
        this.perCpuCapacity = perCpuCapacity;
        this.cache = new PerCpuObjectCache<>(factory, perCpuCapacity);
    }

    /**
     * A recycler cached on the caller's CPU, or a new one; never waits.
     *
     * @return a recycler, not linked to any pool (Jackson links it)
     */
    public R acquirePooled() {
        return cache.acquire();
    }

    /**
     * Caches {@code pooled} on the caller's CPU, or drops it when that CPU is full; never waits.
     *
     * @param pooled a recycler Jackson has finished with
     */
    public void releasePooled(R pooled) {
        cache.release(pooled);
    }

    /**
     * Recyclers cached now, on all CPUs: at most CPUs x {@link #perCpuCapacity()}; exact
     * when no parser or generator takes or gives one back meanwhile.
     *
     * @return how many recyclers the pool keeps now
     */
    public int pooledCount() {
        return cache.pooledCount();
    }

    /**
     * Drops every cached recycler.
     *
     * @return {@code true}: the pool supports clearing
     */
    public boolean clear() {
        cache.clear();
        return true;
    }

    /**
     * Recyclers one CPU keeps at most.
     *
     * @return the per-CPU capacity
     */
    public int perCpuCapacity() {
        return perCpuCapacity;
    }

    /**
     * The cache behind this pool, for statistics ({@link PerCpuObjectCache#created()},
     * {@link PerCpuObjectCache#dropped()}).
     *
     * @return the cache; closing it turns this pool into a non-recycling one
     */
    public PerCpuObjectCache<R> cache() {
        return cache;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + (shared ? "shared, " : "") + cache + "]";
    }
}
