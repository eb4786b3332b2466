/**
 * The rseq4j command line: {@code doctor}, {@code stress}, {@code bench} and {@code demo}.
 * Runs from the shaded jar ({@code java -jar rseq4j.jar}) or from the module path
 * ({@code java --enable-native-access=io.github.rseq4j -p <jars> -m io.github.rseq4j.cli/io.github.rseq4j.cli.Main}).
 *
 * <p>The metrics libraries are automatic modules: Prometheus client_java (the demo's
 * endpoint, and bench rows), the OpenTelemetry SDK's OTLP exporter (the demo's {@code --otlp}), and,
 * for the bench's histogram and series topics only, HdrHistogram,
 * Micrometer, the OpenTelemetry SDK and Dropwizard Metrics. The bench's jackson topic uses
 * Jackson 2 (a named module) and, when it is on the class path, Vert.x's
 * {@code HybridJacksonPool} (loaded by name; Vert.x is not required).
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module io.github.rseq4j.cli {
    requires io.github.rseq4j;
    requires io.github.rseq4j.stress;
    requires io.github.rseq4j.prometheus;
    requires io.github.rseq4j.opentelemetry;
    requires io.github.rseq4j.micrometer;
    requires io.github.rseq4j.jackson;
    requires com.fasterxml.jackson.core;
    requires com.fasterxml.jackson.databind;
    requires jdk.management;
    requires info.picocli;
    requires org.agrona;
    requires java.management;
    requires java.logging;
    requires jdk.httpserver;

    requires io.prometheus.metrics.model;
    requires io.prometheus.metrics.core;
    requires io.prometheus.metrics.exporter.httpserver;
    requires HdrHistogram;
    requires micrometer.core;
    requires micrometer.registry.prometheus;
    requires io.opentelemetry.api;
    requires io.opentelemetry.sdk.metrics;
    requires io.opentelemetry.sdk.common;
    // demo metrics --otlp: the OTLP/HTTP exporter, whose jdk sender (found as a service) uses java.net.http
    requires io.opentelemetry.exporter.otlp;
    requires java.net.http;
    requires com.codahale.metrics;

    opens io.github.rseq4j.cli to info.picocli;
    // the jackson topic's document is read and written by Jackson's databind
    opens io.github.rseq4j.cli.bench to com.fasterxml.jackson.databind;
}
