/**
 * The stress harness ({@code rseq4j stress}): the kernel's rseq {@code param_test}
 * scenarios (increment, spin lock, list, buffer, memcpy, membarrier) run against rseq4j's
 * per-CPU memory, with delay loops injected into generated critical sections, yields or
 * sleeps between operations, virtual threads, and threads forced onto the fallback path;
 * and the public structures ({@code PerCpuCounter}, {@code PerCpuPool},
 * {@code PerCpuBufferPool}, {@code PerCpuRingBuffer}) under load through their public API.
 * Workers run for a rep count, a duration, or whichever comes first. Every run verifies
 * exact sums or conserved contents against the operations actually done.
 *
 * <p>Entry point: {@link io.github.rseq4j.stress.StressRunner#run}.
 */
package io.github.rseq4j.stress;
