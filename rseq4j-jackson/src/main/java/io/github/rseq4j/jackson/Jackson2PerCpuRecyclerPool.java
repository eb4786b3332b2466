package io.github.rseq4j.jackson;

import io.github.rseq4j.PerCpuObjectCache;
import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.RecyclerPool;

import java.io.Serial;

/**
 * Jackson 2's {@code RecyclerPool<BufferRecycler>} (Jackson 2.16 and later) on a
 * {@link PerCpuObjectCache}: a parser or generator takes a recycler cached on its CPU, or
 * a new one when that CPU has none; giving it back caches it on the CPU it is released on,
 * or drops it when that CPU already keeps its capacity. It never waits and never fails,
 * and it keeps at most CPUs x per-CPU capacity recyclers however many threads (platform or
 * virtual) parse and write. Get one from {@link PerCpuRecyclerPools#forJackson2()}.
 *
 * <p>Serializable as Jackson's own pools are: the shared pool deserializes to the shared
 * pool, another pool to a new empty pool of the same per-CPU capacity.
 */
public final class Jackson2PerCpuRecyclerPool extends RecyclerPool.StatefulImplBase<BufferRecycler> {
    @Serial
    private static final long serialVersionUID = 1L;

    /** The shared pool, made on first use. */
    private static final class Shared {
        static final Jackson2PerCpuRecyclerPool POOL =
                new Jackson2PerCpuRecyclerPool(SERIALIZATION_SHARED, PerCpuRecyclerPools.DEFAULT_PER_CPU_CAPACITY);
    }

    private final int perCpuCapacity;
    private final transient PerCpuObjectCache<BufferRecycler> cache;

    private Jackson2PerCpuRecyclerPool(int serialization, int perCpuCapacity) {
        super(serialization);
        this.perCpuCapacity = perCpuCapacity;
        this.cache = new PerCpuObjectCache<>(BufferRecycler::new, perCpuCapacity);
    }

    static Jackson2PerCpuRecyclerPool shared() {
        return Shared.POOL;
    }

    static Jackson2PerCpuRecyclerPool create(int perCpuCapacity) {
        return new Jackson2PerCpuRecyclerPool(SERIALIZATION_NON_SHARED, perCpuCapacity);
    }

    /**
     * A recycler cached on the caller's CPU, or a new one.
     *
     * @return a recycler, not linked to any pool (Jackson links it)
     */
    @Override
    public BufferRecycler acquirePooled() {
        return cache.acquire();
    }

    /**
     * A new recycler (Jackson's {@code StatefulImplBase} contract).
     *
     * @return a new recycler
     */
    @Override
    public BufferRecycler createPooled() {
        return new BufferRecycler();
    }

    /**
     * Caches {@code pooled} on the caller's CPU, or drops it when that CPU is full.
     *
     * @param pooled a recycler Jackson has finished with
     */
    @Override
    public void releasePooled(BufferRecycler pooled) {
        cache.release(pooled);
    }

    /**
     * Recyclers cached now, on all CPUs: at most CPUs x {@link #perCpuCapacity()}.
     *
     * @return how many recyclers the pool keeps now
     */
    @Override
    public int pooledCount() {
        return cache.pooledCount();
    }

    /**
     * Drops every cached recycler.
     *
     * @return {@code true}: the pool supports clearing
     */
    @Override
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
    public PerCpuObjectCache<BufferRecycler> cache() {
        return cache;
    }

    @Serial
    private Object readResolve() {
        return _resolveToShared(shared()).orElseGet(() -> create(perCpuCapacity));
    }

    @Override
    public String toString() {
        return "Jackson2PerCpuRecyclerPool[" + (_serialization == SERIALIZATION_SHARED ? "shared, " : "") + cache + "]";
    }
}
