/**
 * Publishing rseq4j's per-CPU counters, histograms and timers, and rseq4j's own state, to a
 * Prometheus {@code PrometheusRegistry}: {@link io.github.rseq4j.prometheus.RseqCollector}
 * and {@link io.github.rseq4j.prometheus.RseqStatusCollector}.
 */
package io.github.rseq4j.prometheus;
