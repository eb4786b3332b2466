package io.github.rseq4j.bench.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code --html} page: one self-contained HTML file (inline CSS and SVG, no scripts,
 * no external resources). It opens with the machine and a summary of what wins and what
 * loses (each rseq4j row against the fastest alternative, colour-coded, with a legend),
 * then the results as horizontal bar charts, one chart per topic group and thread kind,
 * bars clustered by thread count, each with its table, then the memory test.
 */
public final class HtmlReport {
    private HtmlReport() {
    }

    private static final int WIDTH = 880;
    private static final int LABEL = 270;
    private static final int BAR = 400;
    private static final int ROW = 22;

    /** Bar colours by row kind. */
    static final String RSEQ4J_BAR = "#045a8d";
    static final String BEST_BAR = "#d95f0e";
    static final String ALTERNATIVE_BAR = "#fdae6b";
    static final String CONTROL_BAR = "#bdbdbd";

    /** Verdict colours (text) and backgrounds. */
    static final String WIN = "#1a7f37";
    static final String LOSS = "#c62828";
    static final String SAME = "#555555";

    /**
     * The page.
     *
     * @param title heading
     * @param r     the run
     */
    public static String render(String title, BenchReport r) {
        StringBuilder h = new StringBuilder(48 * 1024);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
                .append(esc(title)).append("</title>\n<style>\n")
                .append("body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;"
                        + "max-width:960px;color:#222;padding:0 1em}\n")
                .append("h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em;"
                        + "border-bottom:1px solid #ddd}\n")
                .append("h3{font-size:1em;margin-bottom:.3em}\n")
                .append("table{border-collapse:collapse;font-size:.9em;margin:.5em 0 1.5em}\n")
                .append("td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #eee}\n")
                .append("td:first-child,th:first-child{text-align:left}\n")
                .append("td.l,th.l{text-align:left}\n")
                .append(".mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em}\n")
                .append("svg text{font-family:system-ui,sans-serif;font-size:12px}\n")
                .append(".note{color:#555;font-size:.9em}\n")
                .append(".sub{color:#444;margin-top:0}\n")
                .append(".v{display:inline-block;padding:1px 6px;margin:1px 2px;border-radius:3px;"
                        + "white-space:nowrap}\n")
                .append(".win{color:").append(WIN).append(";background:#e3f4e6}\n")
                .append(".loss{color:").append(LOSS).append(";background:#fbe5e5}\n")
                .append(".same{color:").append(SAME).append(";background:#eeeeee}\n")
                .append(".sw{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:-1px}\n")
                .append("</style>\n</head>\n<body>\n");
        h.append("<h1>").append(esc(title)).append("</h1>\n");
        MachineFacts f = r.machine();
        h.append("<p class=\"sub\">").append(esc(f.cpuModel())).append(" &middot; ").append(esc(f.os() + " "
                        + f.kernel() + " " + f.arch())).append(" &middot; Java ").append(esc(f.java()))
                .append(" &middot; mode ").append(esc(f.mode())).append(" &middot; load average ")
                .append(esc(r.loadStart())).append(" at start, ").append(esc(r.loadEnd())).append(" at end</p>\n");

        summary(h, r.summary());

        h.append("<h2>machine</h2>\n<table>\n");
        for (Map.Entry<String, String> e : Wording.machine(r, "\u2014").entrySet()) {
            h.append("<tr><td>").append(esc(e.getKey())).append("</td><td class=\"l\">")
                    .append(esc(e.getValue())).append("</td></tr>\n");
        }
        h.append("</table>\n");
        for (String m : Wording.method(r.settings())) {
            h.append("<p class=\"note\">").append(esc(m)).append("</p>\n");
        }

        // charts: one per (group, thread kind), in the order of the results
        Map<String, List<BenchResult>> charts = new LinkedHashMap<>();
        for (BenchResult x : r.results()) {
            charts.computeIfAbsent(x.c().chartKey(), k -> new ArrayList<>()).add(x);
        }
        if (!charts.isEmpty()) {
            h.append(barLegend());
        }
        String topic = null;
        for (List<BenchResult> rows : charts.values()) {
            BenchCase first = rows.get(0).c();
            if (!first.topic().equals(topic)) {
                topic = first.topic();
                h.append("<h2>").append(esc(topic)).append("</h2>\n");
            }
            h.append("<h3>").append(esc(first.group())).append(first.virtual() ? ", virtual threads" : "")
                    .append(" &mdash; ns per operation per thread (shorter is faster)</h3>\n");
            h.append(barChart(rows));
            h.append(table(rows));
        }

        if (!r.memory().isEmpty()) {
            memory(h, r.memory());
        }
        for (String line : Wording.footer(r)) {
            h.append("<p class=\"note\">").append(esc(line)).append("</p>\n");
        }
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    // ---- summary ---------------------------------------------------------------------------

    private static void summary(StringBuilder h, Summary s) {
        h.append("<h2>summary: rseq4j against the fastest alternative</h2>\n");
        if (s.lines().isEmpty()) {
            h.append("<p class=\"note\">No rseq4j rows were run.</p>\n");
            return;
        }
        h.append("<p class=\"note\">Each rseq4j row against the fastest alternative (JDK or library) of its group"
                + " at the same thread count. ").append(verdictLegend()).append("</p>\n");
        h.append("<table class=\"summary\">\n<tr><th>topic</th><th>threads</th><th class=\"l\">best alternative"
                + "</th><th class=\"l\">rseq4j</th></tr>\n");
        for (Summary.Line l : s.lines()) {
            h.append("<tr><td>").append(esc(l.label())).append("</td><td>").append(esc(l.threadsLabel()))
                    .append("</td><td class=\"l\">")
                    .append(l.bestAlternative() == null ? "<i>none measured</i>"
                            : esc(l.bestAlternative()) + " <span class=\"note\">" + num(l.bestValue()) + " "
                            + (l.metric() == Comparison.Metric.TIME ? "ns/op" : "B") + "</span>")
                    .append("</td><td class=\"l\">");
            for (Summary.Entry e : l.entries()) {
                h.append(badge(e.name() + ": " + Wording.verdictWords(e, l), e.vsBest()));
            }
            h.append("</td></tr>\n");
        }
        h.append("</table>\n<p>").append(esc(Wording.totals(s))).append("</p>\n");
    }

    private static String verdictLegend() {
        return "Colours: <span class=\"v win\">faster / smaller</span> by more than "
                + String.format(Locale.ROOT, "%.0f%%", Comparison.SAME_WITHIN * 100)
                + ", <span class=\"v loss\">slower / larger</span> by more than "
                + String.format(Locale.ROOT, "%.0f%%", Comparison.SAME_WITHIN * 100)
                + ", <span class=\"v same\">same</span> within that.";
    }

    private static String badge(String text, Comparison c) {
        return "<span class=\"v " + cssClass(c) + "\">" + esc(text) + "</span>";
    }

    /** win, loss, same; same also when there is no comparison. */
    static String cssClass(Comparison c) {
        if (c == null) {
            return "same";
        }
        return switch (c.verdict()) {
            case WIN -> "win";
            case LOSS -> "loss";
            case SAME -> "same";
        };
    }

    private static String verdictColour(Comparison c) {
        if (c == null) {
            return SAME;
        }
        return switch (c.verdict()) {
            case WIN -> WIN;
            case LOSS -> LOSS;
            case SAME -> SAME;
        };
    }

    // ---- charts and tables --------------------------------------------------------------

    private static String barLegend() {
        return "<p class=\"note\">Bars:<span class=\"sw\" style=\"background:" + RSEQ4J_BAR + "\"></span>rseq4j"
                + "<span class=\"sw\" style=\"background:" + BEST_BAR + "\"></span>best alternative at that thread"
                + " count<span class=\"sw\" style=\"background:" + ALTERNATIVE_BAR + "\"></span>other alternative"
                + "<span class=\"sw\" style=\"background:" + CONTROL_BAR + "\"></span>control (not compared). "
                + "The words after an rseq4j bar compare it with the best alternative: " + verdictLegend()
                + "</p>\n";
    }

    static String barColour(BenchResult r) {
        return switch (r.c().kind()) {
            case RSEQ4J -> RSEQ4J_BAR;
            case ALTERNATIVE -> Comparisons.isBestAlternative(r) ? BEST_BAR : ALTERNATIVE_BAR;
            case CONTROL -> CONTROL_BAR;
        };
    }

    private static String barChart(List<BenchResult> rows) {
        double max = 0;
        for (BenchResult r : rows) {
            if (Double.isFinite(r.nsPerOp())) {
                max = Math.max(max, r.nsPerOp());
            }
        }
        if (max <= 0) {
            max = 1;
        }
        // rows clustered by thread count
        Map<Integer, List<BenchResult>> byThreads = new LinkedHashMap<>();
        for (BenchResult r : rows) {
            byThreads.computeIfAbsent(r.c().threads(), k -> new ArrayList<>()).add(r);
        }
        int height = 10;
        for (List<BenchResult> l : byThreads.values()) {
            height += ROW + l.size() * ROW + 6;
        }
        StringBuilder s = new StringBuilder();
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"")
                .append(height).append("\" role=\"img\">\n");
        int y = 10;
        for (Map.Entry<Integer, List<BenchResult>> e : byThreads.entrySet()) {
            int t = e.getKey();
            s.append("<text x=\"0\" y=\"").append(y + 15).append("\" font-weight=\"bold\">").append(t)
                    .append(t == 1 ? " thread" : " threads").append("</text>\n");
            y += ROW;
            for (BenchResult r : e.getValue()) {
                double v = r.nsPerOp();
                int w = Double.isFinite(v) ? (int) Math.max(1, Math.round(v / max * BAR)) : 0;
                String label = r.c().displayName();
                String cell = Wording.vsBestCell(r);
                s.append("<g><title>").append(esc(label)).append(", ").append(t).append(t == 1 ? " thread: "
                                : " threads: ").append(num(v)).append(" ns/op, ").append(esc(cell))
                        .append("</title>");
                s.append("<text x=\"").append(LABEL - 8).append("\" y=\"").append(y + 15)
                        .append("\" text-anchor=\"end\">").append(esc(label)).append("</text>");
                s.append("<rect x=\"").append(LABEL).append("\" y=\"").append(y + 3).append("\" width=\"").append(w)
                        .append("\" height=\"").append(ROW - 6).append("\" fill=\"").append(barColour(r))
                        .append("\"/>");
                String val = Double.isFinite(v) ? num(v) + " ns" : "failed";
                s.append("<text x=\"").append(LABEL + w + 6).append("\" y=\"").append(y + 15).append("\">")
                        .append(esc(val));
                if (r.c().kind() == RowKind.RSEQ4J && r.vsBest() != null) {
                    s.append("<tspan dx=\"8\" font-weight=\"bold\" fill=\"").append(verdictColour(r.vsBest()))
                            .append("\">").append(esc(r.vsBest().words())).append("</tspan>");
                } else if (Comparisons.isBestAlternative(r)) {
                    s.append("<tspan dx=\"8\" fill=\"#777\">best alternative</tspan>");
                }
                s.append("</text></g>\n");
                y += ROW;
            }
            y += 6;
        }
        s.append("</svg>\n");
        return s.toString();
    }

    private static String table(List<BenchResult> rows) {
        StringBuilder s = new StringBuilder("<table>\n<tr><th>name</th><th class=\"l\">kind</th><th>threads</th>"
                + "<th>ns/op</th><th>agg ns/op</th><th class=\"l\">vs best alternative</th><th>min&ndash;max</th>"
                + "<th class=\"l\">check</th></tr>\n");
        for (BenchResult r : rows) {
            Harness.Measurement m = r.m();
            s.append("<tr><td>").append(esc(r.c().displayName())).append("</td><td class=\"l\">")
                    .append(esc(r.c().kind().label())).append("</td><td>").append(r.c().threads())
                    .append("</td><td>").append(m == null ? "failed" : num(m.nsPerOp())).append("</td><td>")
                    .append(m == null ? "-" : num(m.aggregateNsPerOp())).append("</td><td class=\"l\">")
                    .append(r.c().kind() == RowKind.RSEQ4J ? badge(Wording.vsBestCell(r), r.vsBest())
                            : esc(Wording.vsBestCell(r)))
                    .append("</td><td>")
                    .append(m == null ? "-" : num(m.minNsPerOp()) + "&ndash;" + num(m.maxNsPerOp()))
                    .append("</td><td class=\"l\">").append(esc(r.check() == null ? "" : r.check()))
                    .append(r.note() == null ? "" : " <span class=\"note\">" + esc(r.note()) + "</span>")
                    .append("</td></tr>\n");
        }
        return s.append("</table>\n").toString();
    }

    // ---- memory ---------------------------------------------------------------------------

    private static void memory(StringBuilder h, List<MemorySuite.MemoryResult> memory) {
        h.append("<h2>memory</h2>\n");
        Map<String, List<MemorySuite.MemoryResult>> units = new LinkedHashMap<>();
        for (MemorySuite.MemoryResult m : memory) {
            units.computeIfAbsent(m.unit(), k -> new ArrayList<>()).add(m);
        }
        for (List<MemorySuite.MemoryResult> rows : units.values()) {
            memoryTable(h, rows);
        }
    }

    /** One memory chart and table: the rows of one unit (counters, series). */
    private static void memoryTable(StringBuilder h, List<MemorySuite.MemoryResult> memory) {
        MemorySuite.MemoryResult m0 = memory.get(0);
        h.append("<h3>bytes per ").append(esc(m0.unit())).append(": ")
                .append(String.format(Locale.ROOT, "%,d", m0.count())).append(' ').append(esc(m0.units()))
                .append(", ").append(esc(m0.setup())).append(" (fewer is better)</h3>\n");
        h.append(memoryChart(memory));
        h.append("<table>\n<tr><th>").append(esc(m0.unit())).append("</th><th class=\"l\">kind</th><th>retained heap B</th>"
                + "<th>histogram heap B</th><th>native B</th><th>total B</th><th class=\"l\">vs best alternative"
                + "</th><th class=\"l\">check</th></tr>\n");
        for (MemorySuite.MemoryResult m : memory) {
            h.append("<tr><td>").append(esc(m.name())).append("</td><td class=\"l\">").append(esc(m.kind().label()))
                    .append("</td><td>").append(num(m.retainedHeapPerUnit()))
                    .append("</td><td>").append(num(m.histogramHeapPerUnit())).append("</td><td>")
                    .append(num(m.nativePerUnit())).append("</td><td><b>").append(num(m.totalPerUnit()))
                    .append("</b></td><td class=\"l\">")
                    .append(m.kind() == RowKind.RSEQ4J ? badge(Wording.vsBestCell(m), m.vsBest())
                            : esc(Wording.vsBestCell(m)))
                    .append("</td><td class=\"l\">").append(esc(m.check())).append("</td></tr>\n");
        }
        h.append("</table>\n");
        for (MemorySuite.MemoryResult m : memory) {
            h.append("<p class=\"note\"><b>").append(esc(m.name())).append("</b>: ");
            List<String> parts = new ArrayList<>();
            for (MemorySuite.ClassShare c : m.classes()) {
                parts.add(String.format(Locale.ROOT, "%s %.2f x = %.1f B", c.className(), c.instancesPerUnit(),
                        c.bytesPerUnit()));
            }
            h.append("<span class=\"mono\">").append(esc(String.join("; ", parts))).append("</span>");
            if (m.detail() != null && !m.detail().isEmpty()) {
                h.append(". ").append(esc(m.detail()));
            }
            h.append("</p>\n");
        }
    }

    private static String memoryChart(List<MemorySuite.MemoryResult> memory) {
        double max = 1;
        for (MemorySuite.MemoryResult m : memory) {
            max = Math.max(max, m.totalPerUnit());
        }
        int height = 20 + memory.size() * ROW + 20;
        StringBuilder s = new StringBuilder();
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"")
                .append(height).append("\" role=\"img\">\n");
        int y = 10;
        for (MemorySuite.MemoryResult m : memory) {
            int wh = (int) Math.max(0, Math.round(Math.max(0, m.retainedHeapPerUnit()) / max * BAR));
            int wn = (int) Math.round(m.nativePerUnit() / max * BAR);
            s.append("<g><title>").append(esc(m.name())).append(": ").append(num(m.retainedHeapPerUnit()))
                    .append(" B heap + ").append(num(m.nativePerUnit())).append(" B native</title>");
            s.append("<text x=\"").append(LABEL - 8).append("\" y=\"").append(y + 15).append("\" text-anchor=\"end\">")
                    .append(esc(m.name())).append("</text>");
            s.append("<rect x=\"").append(LABEL).append("\" y=\"").append(y + 3).append("\" width=\"").append(wh)
                    .append("\" height=\"").append(ROW - 6).append("\" fill=\"#fe9929\"/>");
            if (wn > 0) {
                s.append("<rect x=\"").append(LABEL + wh).append("\" y=\"").append(y + 3).append("\" width=\"")
                        .append(wn).append("\" height=\"").append(ROW - 6).append("\" fill=\"#045a8d\"/>");
            }
            s.append("<text x=\"").append(LABEL + wh + wn + 6).append("\" y=\"").append(y + 15).append("\">")
                    .append(num(m.totalPerUnit())).append(" B");
            if (m.kind() == RowKind.RSEQ4J && m.vsBest() != null) {
                s.append("<tspan dx=\"8\" font-weight=\"bold\" fill=\"").append(verdictColour(m.vsBest()))
                        .append("\">").append(esc(m.vsBest().words())).append("</tspan>");
            }
            s.append("</text></g>\n");
            y += ROW;
        }
        y += 14;
        s.append("<rect x=\"").append(LABEL).append("\" y=\"").append(y - 10).append("\" width=\"10\" height=\"10\""
                + " fill=\"#fe9929\"/><text x=\"").append(LABEL + 14).append("\" y=\"").append(y)
                .append("\">Java heap (retained)</text>");
        s.append("<rect x=\"").append(LABEL + 170).append("\" y=\"").append(y - 10).append("\" width=\"10\" "
                + "height=\"10\" fill=\"#045a8d\"/><text x=\"").append(LABEL + 184).append("\" y=\"").append(y)
                .append("\">native (per-CPU words)</text>\n");
        s.append("</svg>\n");
        return s.toString();
    }

    static String num(double v) {
        if (!Double.isFinite(v)) {
            return "-";
        }
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", v);
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
