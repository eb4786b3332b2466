/**
 * rseq4j metrics in a Prometheus registry (client_java 1.x): {@code PerCpuCounter}s as
 * counters, {@code PerCpuHistogram}s and {@code PerCpuTimer}s as classic histograms, and
 * rseq4j's own state ({@code Rseq.status()}) as gauges and counters. See
 * {@link io.github.rseq4j.prometheus.RseqCollector}.
 */
@SuppressWarnings("requires-transitive-automatic")
module io.github.rseq4j.prometheus {
    requires transitive io.github.rseq4j;
    requires transitive io.prometheus.metrics.model;

    exports io.github.rseq4j.prometheus;
}
