package io.github.rseq4j.bench.cli;

import io.github.rseq4j.cli.ExternalCommand;
import io.github.rseq4j.cli.Main;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code rseq4j bench}: rseq4j's per-CPU operations against their JDK and library
 * alternatives, side by side in one run, with a self-contained harness (see {@link Harness}
 * for the method; no JMH at run time). The workloads are this module's, shared with its JMH
 * benchmarks. A subcommand of the CLI ({@link Main}), which finds it through {@link Provider}
 * (a {@link java.util.ServiceLoader} service), so the CLI's own jar carries none of the
 * libraries the benchmarks compare; {@code rseq4j-bench.jar} runs the CLI with it.
 *
 * <p>This class only reads the options: {@link BenchRunner} runs the benchmark and returns
 * a {@link BenchReport}, which {@link TextReport}, {@link JsonReport} and {@link HtmlReport}
 * render.
 */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Measure rseq4j against the JDK and other libraries.",
                "Topics: counters, CPU lookup, pools, ring writes, latency histograms, Micrometer timers,",
                "10,000 histogram series, Jackson's recycler pools, memory per counter and per series.",
                "",
                "Each row: a warm-up, then timed runs of a fixed number of operations per thread,",
                "all threads released together; ns/op = wall time of a run / operations per",
                "thread, median of the runs. Each rseq4j row is compared with the fastest",
                "alternative at the same thread count. A run of every topic takes minutes (the",
                "jackson topic about 5 on 2 cores); --quick is a smoke test, not a measurement.",
                "Topics: counter, cpu, pool, ring, histogram, series, micrometer, jackson, memory.",
                "How to run, read and report the figures: docs/BENCHMARKS.md.",
        })
public final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print the results as one JSON object instead of tables.")
    boolean json;

    @Option(names = "--html", paramLabel = "FILE",
            description = "Also write a self-contained HTML page with bar charts to FILE.")
    Path html;

    @Option(names = "--quick", description = "A short run (10-20 seconds): for tests and CI, not for conclusions.")
    boolean quick;

    @Option(names = "--only", split = ",", paramLabel = "TOPIC",
            description = "Run only these topics (comma-separated or repeated): counter, cpu, pool, ring, histogram, series, micrometer, jackson, memory.")
    List<String> only;

    @Option(names = "--runs", paramLabel = "N", description = "Timed runs per row (default 5, quick 3).")
    Integer runs;

    @Option(names = "--counters", paramLabel = "N",
            description = "Counters in the memory test (default 50000, quick 10000).")
    Integer counters;

    @Option(names = "--series", paramLabel = "N",
            description = "Series per row in the series topic and its memory rows (default 10000, quick 1000).")
    Integer series;

    /** Memory test: least increments per counter per thread made while the other thread ran too. */
    static final int MEMORY_OVERLAP = 64;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        BenchRunner.Plan plan = plan();

        BenchReport report = BenchRunner.run(plan, err);

        if (json) {
            out.print(JsonReport.render(report).toPrettyString());
            out.print('\n');
        } else {
            out.print(TextReport.render(report, Main.dash()));
        }
        out.flush();
        if (html != null) {
            try {
                Path parent = html.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                Files.writeString(html, HtmlReport.render("rseq4j bench", report), StandardCharsets.UTF_8);
                err.println("wrote " + html);
            } catch (IOException e) {
                err.println("rseq4j bench: cannot write " + html + ": " + e.getMessage());
                err.flush();
                return 1;
            }
        }
        err.flush();
        return report.failed() ? 1 : 0;
    }

    /** The CLI's {@code bench}, as a service the CLI loads (META-INF/services). */
    public static final class Provider implements ExternalCommand {
        @Override
        public String name() {
            return "bench";
        }

        @Override
        public Object newCommand() {
            return new BenchCommand();
        }
    }

    /** The options as a plan; a bad value is a usage error. */
    private BenchRunner.Plan plan() {
        List<String> topics = topics();
        Harness.Settings settings = quick ? Harness.Settings.quick() : Harness.Settings.standard();
        if (runs != null) {
            if (runs < 1) {
                throw new ParameterException(spec.commandLine(), "--runs must be >= 1");
            }
            settings = settings.withRuns(runs);
        }
        int memoryCounters = counters != null ? counters : quick ? 10_000 : 50_000;
        if (memoryCounters < 100) {
            throw new ParameterException(spec.commandLine(), "--counters must be >= 100");
        }
        int seriesCount = series != null ? series : quick ? 1_000 : 10_000;
        if (seriesCount < 1) {
            throw new ParameterException(spec.commandLine(), "--series must be >= 1");
        }
        return new BenchRunner.Plan(topics, settings, quick, memoryCounters, MEMORY_OVERLAP, seriesCount,
                Main.version());
    }

    private List<String> topics() {
        if (only == null || only.isEmpty()) {
            return Suites.TOPICS;
        }
        List<String> t = new ArrayList<>();
        for (String s : only) {
            String x = s.trim().toLowerCase(Locale.ROOT);
            if (x.isEmpty()) {
                continue;
            }
            if (!Suites.isTopic(x)) {
                throw new ParameterException(spec.commandLine(),
                        "unknown topic '" + s + "'; topics: " + String.join(", ", Suites.TOPICS));
            }
            if (!t.contains(x)) {
                t.add(x);
            }
        }
        return Suites.TOPICS.stream().filter(t::contains).toList();
    }
}
