/**
 * Publishing rseq4j's per-CPU counters, histograms and timers through the OpenTelemetry
 * SDK: {@link io.github.rseq4j.opentelemetry.RseqMetricProducer}, a {@code MetricProducer}
 * registered with the SDK's meter provider.
 */
package io.github.rseq4j.opentelemetry;
