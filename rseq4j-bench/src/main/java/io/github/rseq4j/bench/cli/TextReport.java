package io.github.rseq4j.bench.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The plain-text report of {@code rseq4j bench} (standard output without {@code --json}):
 * the machine, the summary of wins and losses, then one table per group.
 */
public final class TextReport {
    private TextReport() {
    }

    /** Line width the prose is wrapped to. */
    static final int WIDTH = 100;

    /**
     * The report.
     *
     * @param r    the run
     * @param dash "—", or "-" where the output cannot show it
     */
    public static String render(BenchReport r, String dash) {
        StringBuilder s = new StringBuilder();
        MachineFacts f = r.machine();
        Map<String, String> machine = Wording.machine(r, dash);
        s.append("rseq4j bench ").append(dash).append(' ').append(machine.get("cpu")).append(", ")
                .append(machine.get("os")).append(", Java ").append(f.java()).append(", mode: ").append(f.mode())
                .append('\n');
        s.append("load average (1, 5, 15 min): ").append(r.loadStart()).append(" at start, ").append(r.loadEnd())
                .append(" at end\n");
        summary(s, r.summary(), dash);
        s.append('\n').append(wrap(Wording.DEFINITION, WIDTH)).append('\n');
        s.append(wrap(Wording.VS_BEST, WIDTH)).append('\n');
        tables(s, r.results(), dash);
        if (!r.memory().isEmpty()) {
            memory(s, r.memory(), dash);
        }
        s.append('\n');
        for (String line : Wording.footer(r)) {
            s.append(line).append('\n');
        }
        return s.toString();
    }

    private static void summary(StringBuilder s, Summary sum, String dash) {
        if (sum.lines().isEmpty()) {
            return;
        }
        s.append('\n').append("summary ").append(dash)
                .append(" rseq4j against the fastest alternative at the same thread count:\n");
        int labelW = 0;
        int threadsW = 0;
        int againstW = 0;
        for (Summary.Line l : sum.lines()) {
            labelW = Math.max(labelW, l.label().length());
            threadsW = Math.max(threadsW, l.threadsLabel().length());
            againstW = Math.max(againstW, Wording.against(l).length());
        }
        for (Summary.Line l : sum.lines()) {
            List<String> parts = new ArrayList<>();
            for (Summary.Entry e : l.entries()) {
                parts.add(e.name() + " " + Wording.verdictWords(e, l));
            }
            s.append(String.format(Locale.ROOT, "  %-" + labelW + "s  %-" + threadsW + "s  %-" + againstW + "s  %s",
                    l.label(), l.threadsLabel(), Wording.against(l), String.join("; ", parts)).stripTrailing())
                    .append('\n');
        }
        s.append("  ").append(Wording.totals(sum)).append('\n');
    }

    private static void tables(StringBuilder s, List<BenchResult> results, String dash) {
        // rows grouped as the charts: topic, group, thread kind
        Map<String, List<BenchResult>> groups = new LinkedHashMap<>();
        for (BenchResult r : results) {
            groups.computeIfAbsent(r.c().chartKey(), k -> new ArrayList<>()).add(r);
        }
        int nameW = 4;
        for (BenchResult r : results) {
            nameW = Math.max(nameW, r.c().displayName().length());
        }
        String row = "  %-" + nameW + "s  %7s  %9s  %9s  %-20s  %-17s  %s";
        String header = String.format(Locale.ROOT, row, "name", "threads", "ns/op", "agg ns/op",
                "vs best alternative", "min..max", "check");
        for (List<BenchResult> rows : groups.values()) {
            BenchCase c0 = rows.get(0).c();
            s.append('\n').append(c0.group()).append(c0.virtual() ? " (virtual threads)" : "").append(' ')
                    .append(dash).append(" alternatives: ").append(names(rows, RowKind.ALTERNATIVE));
            String controls = names(rows, RowKind.CONTROL);
            if (!controls.equals("none")) {
                s.append("; control: ").append(controls);
            }
            s.append('\n').append(header).append('\n');
            int lastThreads = -1;
            for (BenchResult r : rows) {
                if (lastThreads != -1 && r.c().threads() != lastThreads) {
                    s.append('\n');
                }
                lastThreads = r.c().threads();
                Harness.Measurement x = r.m();
                String range = x == null ? "-" : Wording.fmt(x.minNsPerOp()) + ".." + Wording.fmt(x.maxNsPerOp());
                String check = r.check() == null ? "" : r.check();
                if (r.note() != null) {
                    check = check.isEmpty() ? r.note() : check + " (" + r.note() + ")";
                }
                s.append(String.format(Locale.ROOT, row, r.c().displayName(), r.c().threads(),
                        x == null ? "FAILED" : Wording.fmt(x.nsPerOp()),
                        x == null ? "-" : Wording.fmt(x.aggregateNsPerOp()), Wording.vsBestCell(r), range, check)
                        .stripTrailing()).append('\n');
            }
        }
    }

    private static String names(List<BenchResult> rows, RowKind kind) {
        List<String> names = new ArrayList<>();
        for (BenchResult r : rows) {
            if (r.c().kind() == kind && !names.contains(r.c().displayName())) {
                names.add(r.c().displayName());
            }
        }
        return names.isEmpty() ? "none" : String.join(", ", names);
    }

    private static void memory(StringBuilder s, List<MemorySuite.MemoryResult> memory, String dash) {
        Map<String, List<MemorySuite.MemoryResult>> units = new LinkedHashMap<>();
        for (MemorySuite.MemoryResult m : memory) {
            units.computeIfAbsent(m.unit(), k -> new ArrayList<>()).add(m);
        }
        for (List<MemorySuite.MemoryResult> rows : units.values()) {
            memoryTable(s, rows, dash);
        }
    }

    /** One memory table: the rows of one unit (counters, series). */
    private static void memoryTable(StringBuilder s, List<MemorySuite.MemoryResult> memory, String dash) {
        MemorySuite.MemoryResult m0 = memory.get(0);
        s.append('\n').append(String.format(Locale.ROOT, "memory %s %,d %s of each kind, %s; bytes per %s%n", dash,
                m0.count(), m0.units(), m0.setup(), m0.unit()));
        int nameW = 15;
        for (MemorySuite.MemoryResult r : memory) {
            nameW = Math.max(nameW, r.name().length());
        }
        String row = "  %-" + nameW + "s  %14s  %16s  %9s  %9s  %-20s  %s%n";
        s.append(String.format(Locale.ROOT, row, "name", "retained heap", "(histogram heap)", "native", "total",
                "vs best alternative", "check"));
        for (MemorySuite.MemoryResult r : memory) {
            s.append(String.format(Locale.ROOT, row, r.name(), Wording.fmt(r.retainedHeapPerUnit()),
                    Wording.fmt(r.histogramHeapPerUnit()), Wording.fmt(r.nativePerUnit()),
                    Wording.fmt(r.totalPerUnit()), Wording.vsBestCell(r), r.check()));
        }
        for (MemorySuite.MemoryResult r : memory) {
            s.append("  ").append(r.name()).append(": ");
            List<String> parts = new ArrayList<>();
            for (MemorySuite.ClassShare c : r.classes()) {
                parts.add(String.format(Locale.ROOT, "%s %.2fx %.1f B", shortClass(c.className()),
                        c.instancesPerUnit(), c.bytesPerUnit()));
            }
            s.append(parts.isEmpty() ? "(no class histogram)" : String.join(", ", parts));
            if (r.detail() != null && !r.detail().isEmpty()) {
                s.append("; ").append(r.detail());
            }
            s.append('\n');
        }
        String u = m0.unit();
        s.append(wrap("  retained heap: MemoryMXBean heap used after System.gc(), after minus before, per " + u + ";"
                + " histogram heap: the JVM's live-object class histogram (GC.class_histogram), bytes of the "
                + "classes with >= 1 new instance per 100 " + m0.units() + "; native: "
                + (u.equals(MemorySuite.COUNTER) ? "PerCpuCounter's 8-byte word in every possible CPU's slice"
                : "rseq4j's group's per-CPU logs, bytesPerCpu() x possible CPUs, spread over the " + m0.units())
                + " (computed). total = retained heap + native;"
                + " vs best alternative compares totals.", WIDTH)).append('\n');
    }

    private static String shortClass(String name) {
        return name.replace("java.util.concurrent.atomic.", "").replace("io.github.rseq4j.", "")
                .replace("jdk.internal.ref.", "").replace("java.lang.", "").replace("java.util.", "");
    }

    static String wrap(String text, int width) {
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
}
