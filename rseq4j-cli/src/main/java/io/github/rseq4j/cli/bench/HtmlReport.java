package io.github.rseq4j.cli.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code --html} page: one self-contained HTML file (inline CSS and SVG, no scripts,
 * no external resources) with the results as horizontal bar charts, one chart per topic
 * group and thread kind, bars clustered by thread count, plus the tables and the machine.
 */
public final class HtmlReport {
    private HtmlReport() {
    }

    private static final int WIDTH = 880;
    private static final int LABEL = 270;
    private static final int BAR = 470;
    private static final int ROW = 22;

    /**
     * The page.
     *
     * @param title   heading
     * @param machine key/value lines describing the machine and the run
     * @param method  paragraphs describing the method
     * @param results throughput rows
     * @param memory  memory rows (may be empty)
     * @param footer  closing lines (fallback counts, mode)
     */
    public static String render(String title, Map<String, String> machine, List<String> method,
                                List<BenchResult> results, List<MemorySuite.MemoryResult> memory, List<String> footer) {
        StringBuilder h = new StringBuilder(32 * 1024);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
                .append(esc(title)).append("</title>\n<style>\n")
                .append("body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;"
                        + "max-width:960px;color:#222;padding:0 1em}\n")
                .append("h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}\n")
                .append("h3{font-size:1em;margin-bottom:.3em}\n")
                .append("table{border-collapse:collapse;font-size:.9em;margin:.5em 0 1.5em}\n")
                .append("td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #eee}\n")
                .append("td:first-child,th:first-child{text-align:left}\n")
                .append(".mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em}\n")
                .append("svg text{font-family:system-ui,sans-serif;font-size:12px}\n")
                .append(".note{color:#555;font-size:.9em}\n")
                .append("</style>\n</head>\n<body>\n");
        h.append("<h1>").append(esc(title)).append("</h1>\n");
        h.append("<table>\n");
        for (Map.Entry<String, String> e : machine.entrySet()) {
            h.append("<tr><td>").append(esc(e.getKey())).append("</td><td style=\"text-align:left\">")
                    .append(esc(e.getValue())).append("</td></tr>\n");
        }
        h.append("</table>\n");
        for (String m : method) {
            h.append("<p class=\"note\">").append(esc(m)).append("</p>\n");
        }

        // charts: one per (group, thread kind), in the order of the results
        Map<String, List<BenchResult>> charts = new LinkedHashMap<>();
        for (BenchResult r : results) {
            charts.computeIfAbsent(r.c().topic() + "|" + r.c().group() + "|" + r.c().virtual(),
                    k -> new ArrayList<>()).add(r);
        }
        String topic = null;
        for (List<BenchResult> rows : charts.values()) {
            BenchCase first = rows.get(0).c();
            if (!first.topic().equals(topic)) {
                topic = first.topic();
                h.append("<h2>").append(esc(topic)).append("</h2>\n");
            }
            String base = rows.stream().filter(r -> r.c().baseline()).map(r -> r.c().name()).findFirst().orElse(null);
            h.append("<h3>").append(esc(first.group())).append(first.virtual() ? ", virtual threads" : "")
                    .append(" &mdash; ns per operation per thread (shorter is faster)")
                    .append(base == null ? "" : "; ratio vs " + esc(base)).append("</h3>\n");
            h.append(barChart(rows));
            h.append(table(rows));
        }

        if (!memory.isEmpty()) {
            h.append("<h2>memory</h2>\n");
            MemorySuite.MemoryResult m0 = memory.get(0);
            h.append("<h3>bytes per counter: ").append(String.format(Locale.ROOT, "%,d", m0.counters()))
                    .append(" counters, each hammered by ").append(MemorySuite.HAMMER_THREADS)
                    .append(" threads at once</h3>\n");
            h.append(memoryChart(memory));
            h.append("<table>\n<tr><th>counter</th><th>retained heap B</th><th>histogram heap B</th>"
                    + "<th>native B</th><th>total B</th><th>check</th></tr>\n");
            for (MemorySuite.MemoryResult m : memory) {
                h.append("<tr><td>").append(esc(m.name())).append("</td><td>").append(num(m.retainedHeapPerCounter()))
                        .append("</td><td>").append(num(m.histogramHeapPerCounter())).append("</td><td>")
                        .append(num(m.nativePerCounter())).append("</td><td><b>").append(num(m.totalPerCounter()))
                        .append("</b></td><td>").append(esc(m.check())).append("</td></tr>\n");
            }
            h.append("</table>\n");
            for (MemorySuite.MemoryResult m : memory) {
                h.append("<p class=\"note\"><b>").append(esc(m.name())).append("</b>: ");
                List<String> parts = new ArrayList<>();
                for (MemorySuite.ClassShare c : m.classes()) {
                    parts.add(String.format(Locale.ROOT, "%s %.2f x = %.1f B", c.className(), c.instancesPerCounter(),
                            c.bytesPerCounter()));
                }
                h.append("<span class=\"mono\">").append(esc(String.join("; ", parts))).append("</span>");
                if (m.detail() != null && !m.detail().isEmpty()) {
                    h.append(". ").append(esc(m.detail()));
                }
                h.append("</p>\n");
            }
        }
        for (String f : footer) {
            h.append("<p class=\"note\">").append(esc(f)).append("</p>\n");
        }
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private static String color(BenchCase c) {
        String n = c.name();
        if (n.startsWith("rseq4j") || n.startsWith("PerCpu") || n.startsWith("Rseq")) {
            return n.contains("lease") || n.contains("List") || n.contains("counter") ? "#2c7fb8" : "#045a8d";
        }
        return c.baseline() ? "#d95f0e" : "#fe9929";
    }

    private static String barChart(List<BenchResult> rows) {
        double max = 0;
        for (BenchResult r : rows) {
            if (Double.isFinite(r.m() == null ? Double.NaN : r.m().nsPerOp())) {
                max = Math.max(max, r.m().nsPerOp());
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
                double v = r.m() == null ? Double.NaN : r.m().nsPerOp();
                int w = Double.isFinite(v) ? (int) Math.max(1, Math.round(v / max * BAR)) : 0;
                String label = r.c().displayName();
                s.append("<g><title>").append(esc(label)).append(", ").append(t).append(" threads: ")
                        .append(num(v)).append(" ns/op</title>");
                s.append("<text x=\"").append(LABEL - 8).append("\" y=\"").append(y + 15)
                        .append("\" text-anchor=\"end\">").append(esc(label)).append("</text>");
                s.append("<rect x=\"").append(LABEL).append("\" y=\"").append(y + 3).append("\" width=\"").append(w)
                        .append("\" height=\"").append(ROW - 6).append("\" fill=\"").append(color(r.c()))
                        .append("\"/>");
                String val = Double.isFinite(v) ? num(v) + " ns" : "failed";
                if (Double.isFinite(r.ratio()) && !r.c().baseline()) {
                    val += String.format(Locale.ROOT, "  (%.2fx)", r.ratio());
                }
                s.append("<text x=\"").append(LABEL + w + 6).append("\" y=\"").append(y + 15).append("\">")
                        .append(esc(val)).append("</text></g>\n");
                y += ROW;
            }
            y += 6;
        }
        s.append("</svg>\n");
        return s.toString();
    }

    private static String memoryChart(List<MemorySuite.MemoryResult> memory) {
        double max = 1;
        for (MemorySuite.MemoryResult m : memory) {
            max = Math.max(max, m.totalPerCounter());
        }
        int height = 20 + memory.size() * ROW + 20;
        StringBuilder s = new StringBuilder();
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"")
                .append(height).append("\" role=\"img\">\n");
        int y = 10;
        for (MemorySuite.MemoryResult m : memory) {
            int wh = (int) Math.max(0, Math.round(Math.max(0, m.retainedHeapPerCounter()) / max * BAR));
            int wn = (int) Math.round(m.nativePerCounter() / max * BAR);
            s.append("<g><title>").append(esc(m.name())).append(": ").append(num(m.retainedHeapPerCounter()))
                    .append(" B heap + ").append(num(m.nativePerCounter())).append(" B native</title>");
            s.append("<text x=\"").append(LABEL - 8).append("\" y=\"").append(y + 15).append("\" text-anchor=\"end\">")
                    .append(esc(m.name())).append("</text>");
            s.append("<rect x=\"").append(LABEL).append("\" y=\"").append(y + 3).append("\" width=\"").append(wh)
                    .append("\" height=\"").append(ROW - 6).append("\" fill=\"#fe9929\"/>");
            if (wn > 0) {
                s.append("<rect x=\"").append(LABEL + wh).append("\" y=\"").append(y + 3).append("\" width=\"")
                        .append(wn).append("\" height=\"").append(ROW - 6).append("\" fill=\"#045a8d\"/>");
            }
            s.append("<text x=\"").append(LABEL + wh + wn + 6).append("\" y=\"").append(y + 15).append("\">")
                    .append(num(m.totalPerCounter())).append(" B</text></g>\n");
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

    private static String table(List<BenchResult> rows) {
        StringBuilder s = new StringBuilder("<table>\n<tr><th>name</th><th>threads</th><th>ns/op</th>"
                + "<th>agg ns/op</th><th>vs base</th><th>min&ndash;max</th><th>check</th></tr>\n");
        for (BenchResult r : rows) {
            Harness.Measurement m = r.m();
            s.append("<tr><td>").append(esc(r.c().displayName())).append("</td><td>").append(r.c().threads())
                    .append("</td><td>").append(m == null ? "-" : num(m.nsPerOp())).append("</td><td>")
                    .append(m == null ? "-" : num(m.aggregateNsPerOp())).append("</td><td>")
                    .append(Double.isFinite(r.ratio()) ? String.format(Locale.ROOT, "%.2fx", r.ratio()) : "-")
                    .append("</td><td>")
                    .append(m == null ? "-" : num(m.minNsPerOp()) + "&ndash;" + num(m.maxNsPerOp()))
                    .append("</td><td>").append(esc(r.check() == null ? "" : r.check()))
                    .append(r.note() == null ? "" : " <span class=\"note\">" + esc(r.note()) + "</span>")
                    .append("</td></tr>\n");
        }
        return s.append("</table>\n").toString();
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
