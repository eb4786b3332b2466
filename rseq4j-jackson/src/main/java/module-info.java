/**
 * Per-CPU recycler pools for Jackson: {@code RecyclerPool<BufferRecycler>} for Jackson 2
 * (2.16 and later) and Jackson 3, on {@code io.github.rseq4j.PerCpuObjectCache}. Both
 * Jackson lines are optional: bring the one you use. See
 * {@link io.github.rseq4j.jackson.PerCpuRecyclerPools}.
 */
module io.github.rseq4j.jackson {
    requires transitive io.github.rseq4j;
    requires static com.fasterxml.jackson.core;
    requires static tools.jackson.core;

    exports io.github.rseq4j.jackson;
}
