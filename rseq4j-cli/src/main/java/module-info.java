/**
 * The rseq4j command line: {@code doctor}, {@code stress} and {@code demo}, and {@code bench}
 * when the rseq4j-bench module provides it (an {@link io.github.rseq4j.cli.ExternalCommand}
 * service; its shaded jar, {@code rseq4j-bench.jar}, runs this CLI with the benchmarks).
 * Runs from the shaded jar ({@code java -jar rseq4j.jar}) or from the module path
 * ({@code java --enable-native-access=io.github.rseq4j -p <jars> -m io.github.rseq4j.cli/io.github.rseq4j.cli.Main}).
 *
 * <p>The metrics libraries are automatic modules, all for {@code demo metrics}: Prometheus
 * client_java (the endpoint) and the OpenTelemetry SDK's OTLP exporter ({@code --otlp}).
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module io.github.rseq4j.cli {
    requires io.github.rseq4j;
    requires io.github.rseq4j.stress;
    requires io.github.rseq4j.prometheus;
    requires io.github.rseq4j.opentelemetry;
    requires jdk.management;
    requires info.picocli;
    requires java.management;
    requires java.logging;
    requires jdk.httpserver;

    requires io.prometheus.metrics.model;
    requires io.prometheus.metrics.exporter.httpserver;
    requires io.opentelemetry.api;
    requires io.opentelemetry.sdk.metrics;
    requires io.opentelemetry.sdk.common;
    // demo metrics --otlp: the OTLP/HTTP exporter, whose jdk sender (found as a service) uses java.net.http
    requires io.opentelemetry.exporter.otlp;
    requires java.net.http;

    opens io.github.rseq4j.cli to info.picocli;

    // bench, from rseq4j-bench when it is present
    uses io.github.rseq4j.cli.ExternalCommand;
}
