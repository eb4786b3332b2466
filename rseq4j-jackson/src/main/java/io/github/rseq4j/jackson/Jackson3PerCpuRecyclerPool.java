package io.github.rseq4j.jackson;

import tools.jackson.core.util.BufferRecycler;
import tools.jackson.core.util.RecyclerPool;

import java.io.Serial;

/**
 * Jackson 3's {@code RecyclerPool<BufferRecycler>} (Jackson 3.0 and later) on a
 * {@link io.github.rseq4j.PerCpuObjectCache}: a parser or generator takes a recycler cached
 * on its CPU, or a new one when that CPU has none; giving it back caches it on the CPU it
 * is released on, or drops it when that CPU already keeps its capacity. It never waits and
 * never fails, and it keeps at most CPUs x per-CPU capacity recyclers however many threads
 * (platform or virtual) parse and write. Use the process's shared pool,
 * {@link PerCpuRecyclerPools#forJackson3()}, or a pool of its own of another capacity,
 * {@link #Jackson3PerCpuRecyclerPool(int) new Jackson3PerCpuRecyclerPool(perCpuCapacity)}.
 *
 * <p>Serializable as Jackson's own pools are: the shared pool deserializes to the shared
 * pool, another pool to a new empty pool of the same per-CPU capacity.
 */
public final class Jackson3PerCpuRecyclerPool extends PerCpuRecyclerPoolBase<BufferRecycler>
        implements RecyclerPool<BufferRecycler> {
    @Serial
    private static final long serialVersionUID = 1L;

    /** The shared pool, made on first use. */
    private static final class Shared {
        static final Jackson3PerCpuRecyclerPool POOL =
                new Jackson3PerCpuRecyclerPool(true, PerCpuRecyclerPools.DEFAULT_PER_CPU_CAPACITY);
    }

    private Jackson3PerCpuRecyclerPool(boolean shared, int perCpuCapacity) {
        super(shared, perCpuCapacity, BufferRecycler::new);
    }

    static Jackson3PerCpuRecyclerPool shared() {
        return Shared.POOL;
    }

    /**
     * A new pool of its own, empty: its recyclers are cached in a
     * {@link io.github.rseq4j.PerCpuObjectCache} of this per-CPU capacity, whose per-CPU
     * memory {@code cache().close()} gives back (the pool then recycles nothing).
     *
     * @param perCpuCapacity the most recyclers one CPU keeps, 1 to 4096
     * @throws IllegalArgumentException when {@code perCpuCapacity} is out of range
     */
    public Jackson3PerCpuRecyclerPool(int perCpuCapacity) {
        this(false, perCpuCapacity);
    }

    /**
     * Deserialization gives the shared pool back as itself, and a pool of its own as a new,
     * empty pool of the same per-CPU capacity (pooled recyclers are not serialized).
     *
     * @return the pool this stream's pool stands for
     */
    @Serial
    private Object readResolve() {
        return shared ? shared() : new Jackson3PerCpuRecyclerPool(perCpuCapacity);
    }
}
