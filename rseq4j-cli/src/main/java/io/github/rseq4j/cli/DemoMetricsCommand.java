package io.github.rseq4j.cli;

import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuTimer;
import io.github.rseq4j.Rseq;
import io.github.rseq4j.prometheus.RseqCollector;
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
import java.net.UnknownHostException;
import java.util.ArrayList;
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
                "and demo_requests_total equal it.",
                "",
                "  ./rseq4j demo metrics --port 9400 --seconds 60 &",
                "  curl -s http://127.0.0.1:9400/metrics | grep demo_",
        })
public final class DemoMetricsCommand implements Callable<Integer> {

    /** The timer's metric name. */
    static final String LATENCY = "demo_request_latency_seconds";

    /** The counter's metric name. */
    static final String REQUESTS = "demo_requests_total";

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

        PerCpuTimer latency = PerCpuTimer.create();
        PerCpuCounter requests = new PerCpuCounter();
        PrometheusRegistry registry = new PrometheusRegistry();
        RseqCollector.builder()
                .timer(LATENCY, "Simulated request latency (rseq4j demo)", latency)
                .counter(REQUESTS, "Simulated requests (rseq4j demo)", requests)
                .withRseqStatus()
                .register(registry);

        HTTPServer server;
        try {
            server = HTTPServer.builder().inetAddress(address).port(port).registry(registry).buildAndStart();
        } catch (IOException e) {
            spec.commandLine().getErr().println("rseq4j demo metrics: cannot listen on " + bind + ":" + port + ": "
                    + e.getMessage());
            return 1;
        }
        try {
            String host = address.getHostAddress().contains(":") ? "[" + address.getHostAddress() + "]"
                    : address.getHostAddress();
            String url = "http://" + host + ":" + server.getPort() + "/metrics";
            out.printf("rseq4j demo metrics: mode %s, %d worker thread%s recording for %d s%s%n",
                    Rseq.isRseqMode() ? "rseq" : "portable", threads, threads == 1 ? "" : "s", seconds,
                    rate == 0 ? " as fast as they can" : ", " + rate + " records/s each");
            out.println("serving " + url);
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
            out.printf("workers stopped; %s stays up %d s more for a last scrape%n", url, lingerSeconds);
            out.println("records=" + n);
            out.flush();
            Thread.sleep(TimeUnit.SECONDS.toMillis(lingerSeconds));
            return 0;
        } finally {
            server.close();
        }
    }

    /** One worker: records simulated latencies until stopped; returns how many. */
    private long work(int id, PerCpuTimer latency, PerCpuCounter requests, AtomicBoolean stop) {
        SplittableRandom random = new SplittableRandom(0xDE30_0000L + id);
        double mu = Math.log(MEDIAN_NS);
        long n = 0;
        long start = System.nanoTime();
        long interval = rate == 0 ? 0 : 1_000_000_000L / rate;
        while (!stop.get()) {
            // a batch of up to 100 records, then wait for the schedule (rate > 0)
            for (int k = 0; k < 100; k++) {
                long ns = (long) Math.exp(mu + SIGMA * gaussian(random));
                latency.record(Math.clamp(ns, 10_000L, 30_000_000_000L), TimeUnit.NANOSECONDS);
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

    /** A standard normal deviate (Box-Muller), from the worker's own generator. */
    private static double gaussian(SplittableRandom r) {
        double u = 1.0 - r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }
}
