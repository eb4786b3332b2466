/**
 * Publishing rseq4j's per-CPU counters and timers, and rseq4j's own state, to any
 * Micrometer {@code MeterRegistry}: {@link io.github.rseq4j.micrometer.RseqMeterBinder}
 * and {@link io.github.rseq4j.micrometer.RseqStatusMetrics}.
 */
package io.github.rseq4j.micrometer;
