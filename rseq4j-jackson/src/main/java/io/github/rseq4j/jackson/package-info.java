/**
 * Per-CPU recycler pools for Jackson 2 and Jackson 3: one line in a {@code JsonFactory}
 * builder, see {@link io.github.rseq4j.jackson.PerCpuRecyclerPools}.
 */
package io.github.rseq4j.jackson;
