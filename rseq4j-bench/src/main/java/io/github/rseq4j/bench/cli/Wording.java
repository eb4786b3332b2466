package io.github.rseq4j.bench.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The words the text and HTML reports share: the method, the machine lines, the closing
 * lines, number formatting. Pure functions of a {@link BenchReport}.
 */
public final class Wording {
    private Wording() {
    }

    /** What ns/op means. */
    public static final String DEFINITION = "ns/op = wall time of a timed run (first thread start to last thread "
            + "end) / operations per thread: the time per operation of each thread while all of them run at once "
            + "(as JMH's avgt). agg ns/op = wall time / operations of all threads (the throughput view). "
            + "Median of the runs; the rows of a group take their runs in turn. Ring writes: bursts of 2,048 "
            + "records per thread, drained between bursts (untimed), so the rings never fill.";

    /** What the comparison column means. */
    public static final String VS_BEST = String.format(Locale.ROOT, "vs best alternative: each rseq4j row against "
            + "the fastest alternative (JDK or library) of its group at the same thread count and thread kind, "
            + "e.g. \"2.9x slower\" (takes 2.9 times as long per operation), \"1.8x faster\", or \"same\" when "
            + "within %.0f%%. Control rows (unshared state) are not alternatives and are not compared.",
            Comparison.SAME_WITHIN * 100);

    /** The machine and the run, as key/value lines. */
    public static Map<String, String> machine(BenchReport r, String dash) {
        MachineFacts f = r.machine();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("cpu", f.cpuModel() + " (" + f.availableProcessors() + " CPUs available, " + f.possibleCpus()
                + " possible)");
        m.put("os", f.os() + " " + f.kernel() + " " + f.arch());
        m.put("java", f.java());
        m.put("rseq4j", f.rseq4jVersion());
        m.put("mode", f.mode() + " " + dash + " " + f.modeReason());
        m.put("registration", f.registration() + ", fence: " + f.fence());
        m.put("load average", "start " + r.loadStart() + ", end " + r.loadEnd() + " (1, 5, 15 min; other work on "
                + "the machine skews results)");
        return m;
    }

    /** Paragraphs on the method. */
    public static List<String> method(Harness.Settings s) {
        return List.of(DEFINITION,
                String.format(Locale.ROOT, "Per row: %.0f ms warm-up, then %d timed runs of about %.0f ms each, with"
                                + " fresh threads released together by a latch.", s.warmupNanos() / 1e6, s.runs(),
                        s.runNanos() / 1e6),
                VS_BEST);
    }

    /** Closing lines: the fallback counts of the whole run and the mode. */
    public static List<String> footer(BenchReport r) {
        MachineFacts.Fallbacks f = r.machine().fallbacks();
        return List.of(String.format(Locale.ROOT, "fallbacks (whole run): not registered %d, aborted %d, stopped %d,"
                                + " portable %d; aborts retried %d", f.notRegistered(), f.aborted(), f.stopped(),
                        f.portable(), f.aborts()),
                "mode: " + r.machine().mode() + " (" + r.machine().modeReason() + ")");
    }

    /** The totals line of the summary. */
    public static String totals(Summary s) {
        long win = s.count(Comparison.Verdict.WIN);
        long loss = s.count(Comparison.Verdict.LOSS);
        long same = s.count(Comparison.Verdict.SAME);
        String t = String.format(Locale.ROOT, "in all: rseq4j wins %d, loses %d, ties %d (within %.0f%%) of %d"
                + " comparisons", win, loss, same, Comparison.SAME_WITHIN * 100, win + loss + same);
        long none = s.notCompared();
        return none == 0 ? t : t + ", " + none + " not compared (failed, or no alternative measured)";
    }

    /** "vs AtomicLong (5.12 ns/op)", or "no alternative measured". */
    public static String against(Summary.Line l) {
        if (l.bestAlternative() == null) {
            return "no alternative measured";
        }
        return "vs " + l.bestAlternative() + " (" + fmt(l.bestValue()) + " "
                + (l.metric() == Comparison.Metric.TIME ? "ns/op" : "B") + ")";
    }

    /** "2.9x slower", or why there is no comparison. */
    public static String verdictWords(Summary.Entry e, Summary.Line l) {
        if (e.vsBest() != null) {
            return e.vsBest().words();
        }
        return l.bestAlternative() == null ? "not compared" : "failed";
    }

    /** The "vs best alternative" cell. */
    public static String vsBestCell(BenchResult r) {
        return switch (r.c().kind()) {
            case RSEQ4J -> r.vsBest() != null ? r.vsBest().words() : r.m() == null ? "failed" : "not compared";
            case ALTERNATIVE -> Comparisons.isBestAlternative(r) ? "(best alternative)" : "(alternative)";
            case CONTROL -> "(control)";
        };
    }

    /** The "vs best alternative" cell of a memory row. */
    public static String vsBestCell(MemorySuite.MemoryResult m) {
        return switch (m.kind()) {
            case RSEQ4J -> m.vsBest() != null ? m.vsBest().words() : "not compared";
            case ALTERNATIVE -> Comparisons.isBestAlternative(m) ? "(best alternative)" : "(alternative)";
            case CONTROL -> "(control)";
        };
    }

    /** A number as the tables show it: 3 significant digits or so, "-" when not finite. */
    public static String fmt(double v) {
        if (!Double.isFinite(v)) {
            return "-";
        }
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a >= 1000 ? "%,.0f" : a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", v);
    }
}
