/**
 * rseq4j metrics in the OpenTelemetry SDK: a {@code MetricProducer} for
 * {@code PerCpuCounter}s, {@code Histogram}s (explicit-bucket and exponential
 * histograms) and {@code PerCpuTimer}s. See
 * {@link io.github.rseq4j.opentelemetry.RseqMetricProducer}.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module io.github.rseq4j.opentelemetry {
    requires transitive io.github.rseq4j;
    requires transitive io.opentelemetry.api;
    requires transitive io.opentelemetry.sdk.common;
    requires transitive io.opentelemetry.sdk.metrics;

    exports io.github.rseq4j.opentelemetry;
}
