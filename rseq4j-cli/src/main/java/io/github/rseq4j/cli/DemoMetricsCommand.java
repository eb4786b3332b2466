package io.github.rseq4j.cli;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuTimer;
import io.github.rseq4j.Rseq;
import io.github.rseq4j.opentelemetry.RseqMetricProducer;
import io.github.rseq4j.prometheus.ClassicBounds;
import io.github.rseq4j.prometheus.RseqCollector;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code rseq4j demo metrics}: a Prometheus endpoint to scrape while threads record
 * simulated request latencies into a {@link PerCpuTimer} and count them in a
 * {@link PerCpuCounter}, exported by {@link RseqCollector}.
 */
@Command(name = "metrics",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Serve simulated request latencies as Prometheus metrics.",
                "An HTTP endpoint in the Prometheus text format, while threads record",
                "simulated request latencies.",
                "",
                "T worker threads each record R latencies a second (log-normal, median",
                "2 ms, fixed seeds) into the PerCpuTimer demo_request_latency_seconds",
                "and count them in the PerCpuCounter demo_requests_total; rseq4j's own",
                "state (rseq4j_mode_info, rseq4j_fallbacks_total ...) is exported too.",
                "After S seconds the workers stop; the endpoint stays up L more seconds",
                "for a last scrape. The last line printed is records=N, the number of",
                "latencies recorded: the last scrape's demo_request_latency_seconds_count",
                "and demo_requests_total equal it. The line before it gives the recorded",
                "truth to compare a server's answers with: count, sum (ns and s) and the",
                "50th and 99th percentiles of the recorded values (nearest rank; up to",
                "5,000,000 records).",
                "",
                "--native gives the timer exponential buckets (scale 3, 1 ns to 60 s) and",
                "exports it as a Prometheus native histogram (protobuf exposition, which",
                "Prometheus asks for with --enable-feature=native-histograms), with classic",
                "buckets at powers of two beside it. --otlp URL also pushes both metrics",
                "with the OpenTelemetry SDK's OTLP/HTTP exporter (rseq4j-opentelemetry's",
                "producer; service.name rseq4j-demo) every second and once more after the",
                "workers stop: an exponential histogram with --native, else an",
                "explicit-bucket one.",
                "",
                "  ./rseq4j demo metrics --port 9400 --seconds 60 &",
                "  curl -s http://127.0.0.1:9400/metrics | grep demo_",
                "  ./rseq4j demo metrics --native --otlp http://127.0.0.1:9090/api/v1/otlp/v1/metrics",
        })
public final class DemoMetricsCommand implements Callable<Integer> {

    /** The timer's metric name. */
    static final String LATENCY = "demo_request_latency_seconds";

    /** The counter's metric name. */
    static final String REQUESTS = "demo_requests_total";

    private static final String LATENCY_HELP = "Simulated request latency (rseq4j demo)";
    private static final String REQUESTS_HELP = "Simulated requests (rseq4j demo)";

    @Spec
    CommandSpec spec;

    @Option(names = "--port", paramLabel = "P", defaultValue = "9400",
            description = "TCP port of the endpoint; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0 for"
                    + " every interface).")
    String bind;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "2",
            description = "Worker threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "30",
            description = "How long the workers record (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--linger-seconds", paramLabel = "L", defaultValue = "10",
            description = "How long the endpoint stays up after the workers stop (default: ${DEFAULT-VALUE}).")
    int lingerSeconds;

    @Option(names = "--rate", paramLabel = "R", defaultValue = "1000",
            description = "Records per second per worker; 0 for as fast as possible (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--native",
            description = "Exponential buckets, exported as a Prometheus native histogram (and classic buckets).")
    boolean nativeHistogram;

    @Option(names = "--otlp", paramLabel = "URL",
            description = "Also push the metrics over OTLP/HTTP to URL, an OTLP metrics endpoint: e.g."
                    + " http://127.0.0.1:9090/api/v1/otlp/v1/metrics of a Prometheus with its OTLP receiver, or"
                    + " VictoriaMetrics' http://127.0.0.1:8428/opentelemetry/v1/metrics.")
    URI otlp;

    /** The OpenTelemetry names of the timer and the counter (a Prometheus OTLP receiver adds _seconds and _total). */
    static final String OTEL_LATENCY = "demo_request_latency", OTEL_REQUESTS = "demo_requests";

    /** The layout of the timer with --native: native-histogram buckets from 1 ns (OpenTelemetry's zero bucket is 0 only). */
    static final BucketLayout NATIVE_LAYOUT = BucketLayout.exponentialSeconds(3, Duration.ofNanos(1),
            Duration.ofSeconds(60));

    /** Records up to which the truth line has percentiles (the values are generated again and sorted). */
    static final int TRUTH_QUANTILE_LIMIT = 5_000_000;

    /** Median of the simulated latencies, in nanoseconds. */
    static final double MEDIAN_NS = 2_000_000;

    /** Spread (sigma of the logarithm) of the simulated latencies. */
    static final double SIGMA = 0.9;

    @Override
    public Integer call() throws Exception {
        if (threads < 1 || threads > 1024) {
            throw new ParameterException(spec.commandLine(), "--threads must be 1 to 1024");
        }
        if (seconds < 0 || lingerSeconds < 0 || rate < 0) {
            throw new ParameterException(spec.commandLine(), "--seconds, --linger-seconds and --rate must be >= 0");
        }
        if (port < 0 || port > 65535) {
            throw new ParameterException(spec.commandLine(), "--port must be 0 to 65535");
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(bind);
        } catch (UnknownHostException e) {
            throw new ParameterException(spec.commandLine(), "--bind: unknown address " + bind);
        }
        PrintWriter out = spec.commandLine().getOut();

        if (otlp != null && (otlp.getScheme() == null || !otlp.getScheme().matches("https?") || otlp.getHost() == null)) {
            throw new ParameterException(spec.commandLine(), "--otlp: an http:// or https:// URL expected: " + otlp);
        }
        PerCpuTimer latency = nativeHistogram ? new PerCpuTimer(NATIVE_LAYOUT) : new PerCpuTimer();
        PerCpuCounter requests = new PerCpuCounter();
        PrometheusRegistry registry = new PrometheusRegistry();
        RseqCollector.Builder collector = RseqCollector.builder();
        if (nativeHistogram) {
            collector.nativeTimer(LATENCY, LATENCY_HELP, latency, ClassicBounds.powersOfTwo());
        } else {
            collector.timer(LATENCY, LATENCY_HELP, latency);
        }
        collector.counter(REQUESTS, REQUESTS_HELP, requests)
                .withRseqStatus()
                .register(registry);
        SdkMeterProvider otel = otlp == null ? null : otlpExport(latency, requests);

        HTTPServer server;
        try {
            server = HTTPServer.builder().inetAddress(address).port(port).registry(registry).buildAndStart();
        } catch (IOException e) {
            spec.commandLine().getErr().println("rseq4j demo metrics: cannot listen on " + bind + ":" + port + ": "
                    + e.getMessage());
            if (otel != null) {
                otel.close();
            }
            return 1;
        }
        try {
            String host = address.getHostAddress().contains(":") ? "[" + address.getHostAddress() + "]"
                    : address.getHostAddress();
            String url = "http://" + host + ":" + server.getPort() + "/metrics";
            out.printf("rseq4j demo metrics: mode %s, %d worker thread%s recording for %d s%s%n",
                    Rseq.isRseqMode() ? "rseq" : "portable", threads, threads == 1 ? "" : "s", seconds,
                    rate == 0 ? " as fast as they can" : ", " + rate + " records/s each");
            out.println("serving " + url + (nativeHistogram ? " (native histogram: protobuf exposition)" : ""));
            if (otel != null) {
                out.println("pushing over OTLP/HTTP to " + otlp + " every second");
            }
            out.flush();

            AtomicBoolean stop = new AtomicBoolean();
            long[] counts = new long[threads];
            List<Thread> workers = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                int id = i;
                workers.add(Thread.ofPlatform().name("demo-worker-" + i).daemon(true)
                        .start(() -> counts[id] = work(id, latency, requests, stop)));
            }
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            long nextReport = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (System.nanoTime() - end < 0) {
                Thread.sleep(Math.max(1, Math.min(200, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()))));
                if (System.nanoTime() - nextReport >= 0 && System.nanoTime() - end < 0) {
                    out.printf("  %,d records so far%n", requests.sum());
                    out.flush();
                    nextReport += TimeUnit.SECONDS.toNanos(5);
                }
            }
            stop.set(true);
            for (Thread w : workers) {
                w.join();
            }
            long n = 0;
            for (long c : counts) {
                n += c;
            }
            if (otel != null) {
                boolean sent = otel.forceFlush().join(30, TimeUnit.SECONDS).isSuccess();
                out.println(sent ? "pushed the final values over OTLP" : "the final OTLP push failed");
            }
            out.printf("workers stopped; %s stays up %d s more for a last scrape%n", url, lingerSeconds);
            out.println(truth(counts));
            out.println("records=" + n);
            out.flush();
            Thread.sleep(TimeUnit.SECONDS.toMillis(lingerSeconds));
            return 0;
        } finally {
            server.close();
            if (otel != null) {
                otel.close();
            }
        }
    }

    /** The OpenTelemetry SDK with rseq4j's producer, pushing to {@link #otlp} every second. */
    private SdkMeterProvider otlpExport(PerCpuTimer latency, PerCpuCounter requests) {
        RseqMetricProducer producer = RseqMetricProducer.builder()
                .timer(OTEL_LATENCY, LATENCY_HELP, latency, Attributes.empty())
                .counter(OTEL_REQUESTS, REQUESTS_HELP, "", requests, Attributes.empty())
                .build();
        OtlpHttpMetricExporter exporter = OtlpHttpMetricExporter.builder().setEndpoint(otlp.toString()).build();
        return SdkMeterProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
                        AttributeKey.stringKey("service.name"), "rseq4j-demo"))))
                .registerMetricReader(PeriodicMetricReader.builder(exporter).setInterval(Duration.ofSeconds(1)).build())
                .registerMetricProducer(producer)
                .build();
    }

    /**
     * The recorded truth: count, sum and, up to {@link #TRUTH_QUANTILE_LIMIT} records, the
     * 50th and 99th percentiles (nearest rank) of the values the workers recorded, generated
     * again from their seeds.
     */
    static String truth(long[] counts) {
        long n = 0;
        for (long c : counts) {
            n += c;
        }
        long sum = 0;
        long[] all = n <= TRUTH_QUANTILE_LIMIT ? new long[(int) n] : null;
        int k = 0;
        for (int id = 0; id < counts.length; id++) {
            Latencies source = new Latencies(id);
            for (long i = 0; i < counts[id]; i++) {
                long v = source.next();
                sum += v;
                if (all != null) {
                    all[k++] = v;
                }
            }
        }
        StringBuilder b = new StringBuilder("truth: count=").append(n).append(" sum_ns=").append(sum)
                .append(" sum_seconds=").append((double) sum / BucketLayout.NANOS_PER_SECOND);
        if (all != null && n > 0) {
            Arrays.sort(all);
            for (double q : new double[] {0.5, 0.99}) {
                long v = all[(int) Math.max(0, (long) Math.ceil(q * n) - 1)];
                b.append(" p").append((int) (q * 100)).append("_seconds=")
                        .append((double) v / BucketLayout.NANOS_PER_SECOND);
            }
        }
        return b.toString();
    }

    /** One worker: records simulated latencies until stopped; returns how many. */
    private long work(int id, PerCpuTimer latency, PerCpuCounter requests, AtomicBoolean stop) {
        Latencies source = new Latencies(id);
        long n = 0;
        long start = System.nanoTime();
        long interval = rate == 0 ? 0 : 1_000_000_000L / rate;
        while (!stop.get()) {
            // a batch of up to 100 records, then wait for the schedule (rate > 0)
            for (int k = 0; k < 100; k++) {
                latency.record(source.next(), TimeUnit.NANOSECONDS);
                requests.increment();
                n++;
            }
            if (interval > 0) {
                long due = start + n * interval;
                long wait;
                while ((wait = due - System.nanoTime()) > 0 && !stop.get()) {
                    LockSupport.parkNanos(Math.min(wait, 50_000_000L));
                }
            }
        }
        return n;
    }

    /** One worker's simulated latencies: log-normal, clamped to 10 us .. 30 s, the same sequence for the same worker. */
    static final class Latencies {
        private final SplittableRandom random;
        private final double mu = Math.log(MEDIAN_NS);

        Latencies(int worker) {
            random = new SplittableRandom(0xDE30_0000L + worker);
        }

        /** The next latency, in nanoseconds. */
        long next() {
            long ns = (long) Math.exp(mu + SIGMA * gaussian(random));
            return Math.clamp(ns, 10_000L, 30_000_000_000L);
        }

        /** A standard normal deviate (Box-Muller), from the worker's own generator. */
        private static double gaussian(SplittableRandom r) {
            double u = 1.0 - r.nextDouble();
            return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
        }
    }
}
