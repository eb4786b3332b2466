package io.github.rseq4j.jackson;

/**
 * The process's shared per-CPU {@code RecyclerPool<BufferRecycler>}s for Jackson, one line
 * each:
 *
 * <pre>{@code
 * JsonFactory f2 = JsonFactory.builder().recyclerPool(PerCpuRecyclerPools.forJackson2()).build();       // Jackson 2.16+
 * JsonMapper m3 = JsonMapper.builder(JsonFactory.builder()                                               // Jackson 3
 *         .recyclerPool(PerCpuRecyclerPools.forJackson3()).build()).build();
 * }</pre>
 *
 * A pool of its own, of another per-CPU capacity, is made with its constructor:
 * {@code new Jackson2PerCpuRecyclerPool(capacity)}, {@code new Jackson3PerCpuRecyclerPool(capacity)}.
 *
 * <p>A parser or generator takes a {@code BufferRecycler} cached on the CPU it runs on, or
 * a new one when that CPU has none, and gives it back to the CPU it runs on when done,
 * where it is dropped if that CPU already keeps {@link #DEFAULT_PER_CPU_CAPACITY} (or the
 * capacity given). So the pool keeps at most CPUs x capacity recyclers whatever the number
 * of threads, platform or virtual (where Jackson's thread-local default keeps one per
 * thread and allocates for every new virtual thread, and its shared deque keeps as many as
 * were ever in use at once), it never waits (no lock: two rseq critical sections per
 * acquire and per release), and a recycler goes back to the CPU whose cache last touched
 * it. See {@link io.github.rseq4j.PerCpuObjectCache}.
 *
 * <p>Each method's return type is the Jackson line's own class, so this class loads
 * without the other line on the class path (both are optional dependencies).
 */
public final class PerCpuRecyclerPools {
    /** The per-CPU capacity of the shared pools. */
    public static final int DEFAULT_PER_CPU_CAPACITY = 8;

    private PerCpuRecyclerPools() {}

    /**
     * The shared per-CPU pool for Jackson 2 (2.16 and later), made on first use.
     *
     * @return the process's shared pool, {@value #DEFAULT_PER_CPU_CAPACITY} recyclers per CPU at most
     */
    public static Jackson2PerCpuRecyclerPool forJackson2() {
        return Jackson2PerCpuRecyclerPool.shared();
    }

    /**
     * The shared per-CPU pool for Jackson 3, made on first use.
     *
     * @return the process's shared pool, {@value #DEFAULT_PER_CPU_CAPACITY} recyclers per CPU at most
     */
    public static Jackson3PerCpuRecyclerPool forJackson3() {
        return Jackson3PerCpuRecyclerPool.shared();
    }
}
