/**
 * rseq4j metrics in Micrometer: a {@code MeterBinder} for {@code PerCpuCounter}s,
 * {@code PerCpuTimer}s and {@code PerCpuHistogram}s, and rseq4j's own state. See
 * {@link io.github.rseq4j.micrometer.RseqMeterBinder}.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module io.github.rseq4j.micrometer {
    requires transitive io.github.rseq4j;
    requires transitive micrometer.core;
    // optional: only read when the application uses a PrometheusMeterRegistry (PrometheusStatusLookup)
    // or RseqPrometheusMeterRegistry (which needs micrometer-registry-prometheus on its path)
    requires static micrometer.registry.prometheus;
    requires static io.prometheus.metrics.model;
    requires static io.prometheus.metrics.tracer.common;

    exports io.github.rseq4j.micrometer;
}
