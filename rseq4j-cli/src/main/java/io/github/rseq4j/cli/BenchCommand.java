package io.github.rseq4j.cli;

import io.github.rseq4j.Rseq;
import io.github.rseq4j.RseqStatus;
import io.github.rseq4j.cli.bench.BenchCase;
import io.github.rseq4j.cli.bench.BenchResult;
import io.github.rseq4j.cli.bench.Harness;
import io.github.rseq4j.cli.bench.HtmlReport;
import io.github.rseq4j.cli.bench.MemorySuite;
import io.github.rseq4j.cli.bench.Suites;
import io.github.rseq4j.cli.bench.Workload;
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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code rseq4j bench}: rseq4j's per-CPU operations against their JDK counterparts,
 * side by side in one run, with a self-contained harness (see {@link Harness} for the
 * method; no JMH at run time, the JMH suite is the rseq4j-bench module).
 */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Measure rseq4j against the JDK: counters, CPU lookup, pools, ring writes, counter memory.",
                "",
                "Each row: a warm-up, then timed runs of a fixed number of operations per thread,",
                "all threads released together; ns/op = wall time of a run / operations per",
                "thread, median of the runs. The default run takes about a minute on 2 cores.",
                "Topics: counter, cpu, pool, ring, memory.",
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
            description = "Run only these topics (comma-separated or repeated): counter, cpu, pool, ring, memory.")
    List<String> only;

    @Option(names = "--runs", paramLabel = "N", description = "Timed runs per row (default 5, quick 3).")
    Integer runs;

    @Option(names = "--counters", paramLabel = "N",
            description = "Counters in the memory test (default 50000, quick 10000).")
    Integer counters;

    /** /proc/loadavg at the start and the end of the run (other work on the machine skews results). */
    private String loadBefore = "?";
    private String loadAfter = "?";

    /** Memory test: least increments per counter per thread made while the other thread ran too. */
    static final int MEMORY_OVERLAP = 64;

    static final String DEFINITION = "ns/op = wall time of a timed run (first thread start to last thread end) / "
            + "operations per thread: the time per operation of each thread while all of them run at once "
            + "(as JMH's avgt). agg ns/op = wall time / operations of all threads (the throughput view). "
            + "Median of the runs; the rows of a group take their runs in turn. Ring writes: bursts of 2,048 "
            + "records per thread, drained between bursts (untimed), so the rings never fill.";

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
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

        RseqStatus status0 = Rseq.status();
        loadBefore = loadAverage();
        err.printf("rseq4j bench: mode %s, %d CPUs, topics %s%s%n", DoctorCommand.word(status0.mode()),
                Runtime.getRuntime().availableProcessors(), String.join(",", topics), quick ? " (quick)" : "");
        err.flush();

        List<BenchCase> cases = Suites.cases(topics);
        List<BenchResult> results = new ArrayList<>();
        boolean failed = false;
        int done = 0;
        // one comparison group at a time (same topic, group, thread count and kind): its
        // rows take their timed runs in turn (Harness.measureGroup)
        Map<String, List<BenchCase>> groups = new LinkedHashMap<>();
        for (BenchCase c : cases) {
            groups.computeIfAbsent(groupKey(c), k -> new ArrayList<>()).add(c);
        }
        for (List<BenchCase> group : groups.values()) {
            for (BenchResult r : runGroup(group, settings)) {
                results.add(r);
                done++;
                BenchCase c = r.c();
                failed |= r.m() == null || (r.check() != null && !r.check().equals("ok"));
                err.printf("[%2d/%d] %-7s %-32s %2d thread%s  %s%n", done, cases.size(), c.topic(), c.displayName(),
                        c.threads(), c.threads() == 1 ? " " : "s",
                        r.m() == null ? "FAILED: " + r.note() : fmt(r.m().nsPerOp()) + " ns/op");
                err.flush();
            }
        }
        results = withRatios(results);

        List<MemorySuite.MemoryResult> memory = List.of();
        if (topics.contains("memory")) {
            err.printf("memory: %,d counters of each kind, each hammered by %d threads at once...%n", memoryCounters,
                    MemorySuite.HAMMER_THREADS);
            err.flush();
            memory = MemorySuite.run(memoryCounters, MEMORY_OVERLAP);
            for (MemorySuite.MemoryResult m : memory) {
                failed |= !"ok".equals(m.check());
            }
        }

        RseqStatus status = Rseq.status();
        loadAfter = loadAverage();
        if (json) {
            out.print(toJson(results, memory, status, settings).toPrettyString());
            out.print('\n');
        } else {
            out.print(table(results, memory, status, settings));
        }
        out.flush();
        if (html != null) {
            try {
                Path parent = html.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                Files.writeString(html, HtmlReport.render("rseq4j bench", machine(status), method(settings), results,
                        memory, footer(status)), StandardCharsets.UTF_8);
                err.println("wrote " + html);
            } catch (IOException e) {
                err.println("rseq4j bench: cannot write " + html + ": " + e.getMessage());
                err.flush();
                return 1;
            }
        }
        err.flush();
        return failed ? 1 : 0;
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

    /**
     * Runs one comparison group; a failing case becomes a row without a measurement.
     * Fallbacks and aborts are counted per row, around each of its phases.
     */
    private static List<BenchResult> runGroup(List<BenchCase> group, Harness.Settings settings) {
        int n = group.size();
        Workload[] ws = new Workload[n];
        String[] failures = new String[n];
        long[] fallbacks = new long[n];
        long[] aborts = new long[n];
        List<Workload> live = new ArrayList<>();
        List<Integer> liveIndex = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            try {
                ws[i] = group.get(i).workload().get();
                ws[i].beforeCase();
                live.add(ws[i]);
                liveIndex.add(i);
            } catch (RuntimeException | Error e) {
                failures[i] = e.toString();
            }
        }
        RseqStatus.Fallbacks[] start = new RseqStatus.Fallbacks[1];
        Harness.Listener listener = new Harness.Listener() {
            @Override
            public void before(int index) {
                start[0] = Rseq.status().fallbacks();
            }

            @Override
            public void after(int index) {
                RseqStatus.Fallbacks f = Rseq.status().fallbacks();
                int i = liveIndex.get(index);
                fallbacks[i] += f.total() + f.portable() - start[0].total() - start[0].portable();
                aborts[i] += f.aborts() - start[0].aborts();
            }
        };
        BenchCase c0 = group.get(0);
        List<Harness.Outcome> outcomes = List.of();
        try {
            outcomes = Harness.measureGroup(live, c0.threads(), c0.virtual(), settings, listener);
        } finally {
            for (Workload w : live) {
                try {
                    w.afterCase();
                } catch (RuntimeException | Error e) {
                    // reported through the check below, if it matters
                }
            }
        }
        List<BenchResult> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Harness.Measurement m = null;
            String check = null;
            String note = failures[i];
            int k = liveIndex.indexOf(i);
            if (k >= 0 && k < outcomes.size()) {
                Harness.Outcome o = outcomes.get(k);
                if (o.failure() != null) {
                    note = o.failure().toString();
                } else {
                    m = o.measurement();
                    try {
                        check = ws[i].check(m.totalOps());
                        note = ws[i].note();
                    } catch (RuntimeException | Error e) {
                        check = "check failed: " + e;
                    }
                }
            }
            if (fallbacks[i] != 0 || aborts[i] != 0) {
                String fb = "fallbacks " + fallbacks[i] + ", aborts " + aborts[i];
                note = note == null ? fb : note + "; " + fb;
            }
            out.add(new BenchResult(group.get(i), m, Double.NaN, null, check, note));
        }
        return out;
    }

    /** Key of the rows compared with each other. */
    private static String groupKey(BenchCase c) {
        return c.topic() + "|" + c.group() + "|" + c.virtual() + "|" + c.threads();
    }

    private static List<BenchResult> withRatios(List<BenchResult> rows) {
        Map<String, BenchResult> base = new HashMap<>();
        for (BenchResult r : rows) {
            if (r.c().baseline() && r.m() != null) {
                base.put(groupKey(r.c()), r);
            }
        }
        List<BenchResult> out = new ArrayList<>();
        for (BenchResult r : rows) {
            BenchResult b = base.get(groupKey(r.c()));
            double ratio = b == null || r.m() == null ? Double.NaN : r.m().nsPerOp() / b.m().nsPerOp();
            out.add(new BenchResult(r.c(), r.m(), ratio, b == null ? null : b.c().displayName(), r.check(),
                    r.note()));
        }
        return out;
    }

    // ---- text ----------------------------------------------------------------------------

    static String fmt(double v) {
        if (!Double.isFinite(v)) {
            return "-";
        }
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a >= 1000 ? "%,.0f" : a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", v);
    }

    private String table(List<BenchResult> results, List<MemorySuite.MemoryResult> memory, RseqStatus status,
                         Harness.Settings settings) {
        StringBuilder s = new StringBuilder();
        String d = Main.dash();
        s.append("rseq4j bench ").append(d).append(' ');
        Map<String, String> m = machine(status);
        s.append(m.get("cpu")).append(", ").append(m.get("os")).append(", Java ").append(m.get("java"))
                .append(", mode: ").append(DoctorCommand.word(status.mode())).append('\n');
        s.append("load average (1, 5, 15 min): ").append(loadBefore).append(" at start, ").append(loadAfter)
                .append(" at end\n");
        s.append(wrap(DEFINITION, 100)).append('\n');
        s.append("vs base = ns/op / ns/op of the group's JDK baseline at the same thread count (below 1: faster).\n");

        // rows grouped as the charts: topic, group, thread kind
        Map<String, List<BenchResult>> groups = new LinkedHashMap<>();
        for (BenchResult r : results) {
            groups.computeIfAbsent(r.c().topic() + "|" + r.c().group() + "|" + r.c().virtual(),
                    k -> new ArrayList<>()).add(r);
        }
        int nameW = 4;
        for (BenchResult r : results) {
            nameW = Math.max(nameW, r.c().displayName().length());
        }
        String header = String.format(Locale.ROOT, "  %-" + nameW + "s  %7s  %9s  %9s  %8s  %-17s  %s", "name",
                "threads", "ns/op", "agg ns/op", "vs base", "min..max", "check");
        for (List<BenchResult> rows : groups.values()) {
            BenchCase c0 = rows.get(0).c();
            String base = rows.stream().filter(r -> r.c().baseline()).map(r -> r.c().displayName()).findFirst()
                    .orElse("none");
            s.append('\n').append(c0.group()).append(c0.virtual() ? " (virtual threads)" : "")
                    .append(" ").append(d).append(" baseline: ").append(base).append('\n');
            s.append(header).append('\n');
            int lastThreads = -1;
            for (BenchResult r : rows) {
                if (lastThreads != -1 && r.c().threads() != lastThreads) {
                    s.append('\n');
                }
                lastThreads = r.c().threads();
                Harness.Measurement x = r.m();
                String ratio = Double.isFinite(r.ratio()) ? String.format(Locale.ROOT, "%.2fx", r.ratio()) : "-";
                String range = x == null ? "-" : fmt(x.minNsPerOp()) + ".." + fmt(x.maxNsPerOp());
                String check = r.check() == null ? "" : r.check();
                if (r.note() != null) {
                    check = check.isEmpty() ? r.note() : check + " (" + r.note() + ")";
                }
                s.append(String.format(Locale.ROOT, "  %-" + nameW + "s  %7d  %9s  %9s  %8s  %-17s  %s",
                        r.c().displayName(), r.c().threads(), x == null ? "FAILED" : fmt(x.nsPerOp()),
                        x == null ? "-" : fmt(x.aggregateNsPerOp()), ratio, range, check).stripTrailing())
                        .append('\n');
            }
        }
        if (!memory.isEmpty()) {
            MemorySuite.MemoryResult m0 = memory.get(0);
            s.append('\n').append(String.format(Locale.ROOT,
                    "memory %s %,d counters of each kind, each hammered by %d threads at once (each thread >= %d"
                            + " increments while the other ran); bytes per counter%n", d, m0.counters(),
                    MemorySuite.HAMMER_THREADS, m0.overlappedPerThread()));
            s.append(String.format(Locale.ROOT, "  %-15s  %14s  %15s  %9s  %9s  %s%n", "name", "retained heap",
                    "(histogram heap)", "native", "total", "check"));
            for (MemorySuite.MemoryResult r : memory) {
                s.append(String.format(Locale.ROOT, "  %-15s  %14s  %16s  %9s  %9s  %s%n", r.name(),
                        fmt(r.retainedHeapPerCounter()), fmt(r.histogramHeapPerCounter()), fmt(r.nativePerCounter()),
                        fmt(r.totalPerCounter()), r.check()));
            }
            for (MemorySuite.MemoryResult r : memory) {
                s.append("  ").append(r.name()).append(": ");
                List<String> parts = new ArrayList<>();
                for (MemorySuite.ClassShare c : r.classes()) {
                    parts.add(String.format(Locale.ROOT, "%s %.2fx %.1f B", shortClass(c.className()),
                            c.instancesPerCounter(), c.bytesPerCounter()));
                }
                s.append(parts.isEmpty() ? "(no class histogram)" : String.join(", ", parts));
                if (r.detail() != null && !r.detail().isEmpty()) {
                    s.append("; ").append(r.detail());
                }
                s.append('\n');
            }
            s.append(wrap("  retained heap: MemoryMXBean heap used after System.gc(), after minus before, per counter;"
                    + " histogram heap: the JVM's live-object class histogram (GC.class_histogram), bytes of the "
                    + "classes with >= 1 new instance per 100 counters; native: PerCpuCounter's 8-byte word in every "
                    + "possible CPU's slice (computed). total = retained heap + native.", 100)).append('\n');
        }
        s.append('\n');
        for (String f : footer(status)) {
            s.append(f).append('\n');
        }
        return s.toString();
    }

    private static String shortClass(String name) {
        return name.replace("java.util.concurrent.atomic.", "").replace("io.github.rseq4j.", "")
                .replace("jdk.internal.ref.", "").replace("java.lang.", "").replace("java.util.", "");
    }

    private static String wrap(String text, int width) {
        StringBuilder s = new StringBuilder();
        int col = 0;
        for (String w : text.split(" ")) {
            if (col > 0 && col + 1 + w.length() > width) {
                s.append('\n');
                col = 0;
            } else if (col > 0) {
                s.append(' ');
                col++;
            }
            s.append(w);
            col += w.length();
        }
        return s.toString();
    }

    // ---- shared descriptions ----------------------------------------------------------

    /** The first three fields of /proc/loadavg, or "?". */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : "?";
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private Map<String, String> machine(RseqStatus st) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("cpu", cpuModel() + " (" + Runtime.getRuntime().availableProcessors() + " CPUs available, "
                + st.possibleCpus().size() + " possible)");
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + st.arch());
        m.put("java", Runtime.version() + " (" + System.getProperty("java.vm.name", "?") + ", "
                + System.getProperty("java.vendor", "?") + ")");
        m.put("rseq4j", Main.version());
        m.put("mode", DoctorCommand.word(st.mode()) + " " + Main.dash() + " " + st.modeReason());
        m.put("registration", st.registrationStrategy() + ", fence: " + st.fence());
        m.put("load average", "start " + loadBefore + ", end " + loadAfter + " (1, 5, 15 min; other work on the"
                + " machine skews results)");
        return m;
    }

    private static List<String> method(Harness.Settings s) {
        return List.of(DEFINITION,
                String.format(Locale.ROOT, "Per row: %.0f ms warm-up, then %d timed runs of about %.0f ms each, with"
                                + " fresh threads released together by a latch.", s.warmupNanos() / 1e6, s.runs(),
                        s.runNanos() / 1e6),
                "vs base: ns/op divided by the JDK baseline of the same group and thread count (below 1: faster).");
    }

    private static List<String> footer(RseqStatus st) {
        RseqStatus.Fallbacks f = st.fallbacks();
        return List.of(String.format(Locale.ROOT,
                "fallbacks (whole run): not registered %d, aborted %d, stopped %d, portable %d; aborts retried %d",
                f.notRegistered(), f.aborted(), f.stopped(), f.portable(), f.aborts()),
                "mode: " + DoctorCommand.word(st.mode()) + " (" + st.modeReason() + ")");
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    int c = line.indexOf(':');
                    if (c > 0) {
                        return line.substring(c + 1).trim();
                    }
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux, or no access
        }
        return System.getProperty("os.arch");
    }

    // ---- JSON ----------------------------------------------------------------------------

    private Json.Obj toJson(List<BenchResult> results, List<MemorySuite.MemoryResult> memory, RseqStatus st,
                            Harness.Settings settings) {
        Json.Arr rows = Json.array();
        for (BenchResult r : results) {
            Harness.Measurement m = r.m();
            Json.Obj o = Json.object()
                    .put("name", r.c().displayName())
                    .put("threads", r.c().threads())
                    .put("ns_per_op", m == null ? null : m.nsPerOp())
                    .put("topic", r.c().topic())
                    .put("group", r.c().group())
                    .put("virtual", r.c().virtual())
                    .put("baseline", r.baselineName())
                    .put("ratio", Double.isFinite(r.ratio()) ? r.ratio() : null)
                    .put("ns_per_op_min", m == null ? null : m.minNsPerOp())
                    .put("ns_per_op_max", m == null ? null : m.maxNsPerOp())
                    .put("aggregate_ns_per_op", m == null ? null : m.aggregateNsPerOp())
                    .put("ops_per_thread", m == null ? null : m.opsPerThread())
                    .put("runs", m == null ? null : m.runs())
                    .put("check", r.check())
                    .put("note", r.note());
            rows.add(o);
        }
        Json.Arr mem = Json.array();
        for (MemorySuite.MemoryResult m : memory) {
            Json.Arr classes = Json.array();
            for (MemorySuite.ClassShare c : m.classes()) {
                classes.add(Json.object().put("class", c.className()).put("instances_per_counter",
                        c.instancesPerCounter()).put("bytes_per_counter", c.bytesPerCounter()));
            }
            mem.add(Json.object()
                    .put("name", m.name())
                    .put("counters", m.counters())
                    .put("hammer_threads", MemorySuite.HAMMER_THREADS)
                    .put("overlapped_increments_per_thread", m.overlappedPerThread())
                    .put("bytes_per_counter", m.totalPerCounter())
                    .put("retained_heap_bytes_per_counter", m.retainedHeapPerCounter())
                    .put("histogram_heap_bytes_per_counter",
                            Double.isFinite(m.histogramHeapPerCounter()) ? m.histogramHeapPerCounter() : null)
                    .put("native_bytes_per_counter", m.nativePerCounter())
                    .put("classes", classes)
                    .put("detail", m.detail())
                    .put("check", m.check()));
        }
        RseqStatus.Fallbacks f = st.fallbacks();
        Map<String, String> mach = machine(st);
        return Json.object()
                .put("results", rows)
                .put("memory", mem)
                .put("machine", Json.object()
                        .put("cpu_model", cpuModel())
                        .put("available_processors", Runtime.getRuntime().availableProcessors())
                        .put("possible_cpus", st.possibleCpus().size())
                        .put("os", System.getProperty("os.name"))
                        .put("kernel", System.getProperty("os.version"))
                        .put("arch", st.arch())
                        .put("java", mach.get("java"))
                        .put("rseq4j_version", Main.version())
                        .put("mode", DoctorCommand.word(st.mode()))
                        .put("mode_reason", st.modeReason())
                        .put("registration", st.registrationStrategy())
                        .put("load_average_start", loadBefore)
                        .put("load_average_end", loadAfter)
                        .put("fence", st.fence()))
                .put("method", Json.object()
                        .put("definition", DEFINITION)
                        .put("warmup_ms", settings.warmupNanos() / 1e6)
                        .put("run_ms", settings.runNanos() / 1e6)
                        .put("runs", settings.runs())
                        .put("quick", quick))
                .put("mode", DoctorCommand.word(st.mode()))
                .put("fallbacks", Json.object()
                        .put("not_registered", f.notRegistered())
                        .put("aborted", f.aborted())
                        .put("stopped", f.stopped())
                        .put("portable", f.portable())
                        .put("aborts", f.aborts()));
    }
}
