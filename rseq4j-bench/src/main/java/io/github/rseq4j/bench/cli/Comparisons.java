package io.github.rseq4j.bench.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Who is compared with whom. Pure functions over measured rows:
 * <ul>
 * <li>each rseq4j row is compared with the <b>best alternative</b> of its comparison group
 *     (same topic, group, thread kind and thread count): the fastest row of kind
 *     {@link RowKind#ALTERNATIVE} that was measured and passed its check; control rows
 *     are never candidates. The alternatives get the same comparison (the best one has
 *     ratio 1), so a report can show how far each is from the best; only rseq4j rows get a
 *     verdict in the reports;</li>
 * <li>the fixed reference row of each group still gives the JSON {@code ratio} and
 *     {@code baseline} fields (kept for compatibility);</li>
 * <li>the {@link Summary} lists every group with rseq4j rows.</li>
 * </ul>
 */
public final class Comparisons {
    private Comparisons() {
    }

    /**
     * The best alternative among {@code rows}: of kind {@link RowKind#ALTERNATIVE}, with a
     * positive finite value (callers give NaN for rows that failed or did not pass their
     * check), lowest value first; the earlier row wins a tie. Null when there is none.
     */
    public static <T> T bestAlternative(List<T> rows, Function<T, RowKind> kind, ToDoubleFunction<T> value) {
        T best = null;
        double bestValue = Double.POSITIVE_INFINITY;
        for (T r : rows) {
            if (kind.apply(r) != RowKind.ALTERNATIVE) {
                continue;
            }
            double v = value.applyAsDouble(r);
            if (v > 0 && Double.isFinite(v) && v < bestValue) {
                best = r;
                bestValue = v;
            }
        }
        return best;
    }

    /** The value a row is compared by: its ns/op, or NaN when it failed or its check did not pass. */
    static double timeOf(BenchResult r) {
        return r.ok() ? r.nsPerOp() : Double.NaN;
    }

    /** The best alternative of one comparison group of bench rows, or null. */
    public static BenchResult bestAlternative(List<BenchResult> group) {
        return bestAlternative(group, r -> r.c().kind(), Comparisons::timeOf);
    }

    /**
     * The memory alternative of fewest bytes per unit whose check passed, or null. Expects
     * rows of one unit (see {@link #compareMemory}).
     */
    public static MemorySuite.MemoryResult bestMemoryAlternative(List<MemorySuite.MemoryResult> rows) {
        return bestAlternative(rows, MemorySuite.MemoryResult::kind,
                m -> "ok".equals(m.check()) ? m.totalPerUnit() : Double.NaN);
    }

    /**
     * {@code rows} in the same order, with the reference ratio and, for rseq4j and
     * alternative rows, the comparison with the best alternative of their group.
     */
    public static List<BenchResult> compare(List<BenchResult> rows) {
        Map<String, List<BenchResult>> groups = byComparisonGroup(rows);
        List<BenchResult> out = new ArrayList<>(rows.size());
        for (BenchResult r : rows) {
            List<BenchResult> group = groups.get(r.c().comparisonKey());
            BenchResult ref = group.stream().filter(x -> x.c().reference() && x.m() != null).findFirst().orElse(null);
            double ratio = ref == null || r.m() == null ? Double.NaN : r.m().nsPerOp() / ref.m().nsPerOp();
            Comparison vsBest = null;
            if (r.c().kind() != RowKind.CONTROL) {
                BenchResult best = bestAlternative(group);
                if (best != null && r.m() != null) {
                    vsBest = Comparison.of(r.nsPerOp(), best.c().displayName(), best.nsPerOp(),
                            Comparison.Metric.TIME);
                }
            }
            out.add(r.compared(ratio, ref == null ? null : ref.c().displayName(), vsBest));
        }
        return out;
    }

    /**
     * Memory rows in the same order, each rseq4j (and alternative) row compared with the
     * alternative of fewest bytes per unit among the rows of its unit (counters with counters,
     * series with series).
     */
    public static List<MemorySuite.MemoryResult> compareMemory(List<MemorySuite.MemoryResult> rows) {
        Map<String, List<MemorySuite.MemoryResult>> units = byUnit(rows);
        List<MemorySuite.MemoryResult> out = new ArrayList<>(rows.size());
        for (MemorySuite.MemoryResult m : rows) {
            MemorySuite.MemoryResult best = bestMemoryAlternative(units.get(m.unit()));
            Comparison c = m.kind() == RowKind.CONTROL || best == null ? null
                    : Comparison.of(m.totalPerUnit(), best.name(), best.totalPerUnit(), m.metric());
            out.add(m.withComparison(c));
        }
        return out;
    }

    /**
     * One summary line per comparison group with rseq4j rows, in the order of the rows;
     * the memory rows (if any) last. Expects rows from {@link #compare} and
     * {@link #compareMemory}.
     */
    public static Summary summarize(List<BenchResult> rows, List<MemorySuite.MemoryResult> memory) {
        List<Summary.Line> lines = new ArrayList<>();
        for (List<BenchResult> group : byComparisonGroup(rows).values()) {
            List<Summary.Entry> entries = new ArrayList<>();
            for (BenchResult r : group) {
                if (r.c().kind() == RowKind.RSEQ4J) {
                    entries.add(new Summary.Entry(r.c().name(), r.vsBest()));
                }
            }
            if (entries.isEmpty()) {
                continue;
            }
            BenchCase c0 = group.get(0).c();
            BenchResult best = bestAlternative(group);
            lines.add(new Summary.Line(c0.topic(), c0.group(), c0.virtual(), c0.threads(), Comparison.Metric.TIME,
                    best == null ? null : best.c().name(), best == null ? Double.NaN : best.nsPerOp(),
                    entries));
        }
        for (List<MemorySuite.MemoryResult> unit : byUnit(memory).values()) {
            List<Summary.Entry> memEntries = new ArrayList<>();
            for (MemorySuite.MemoryResult m : unit) {
                if (m.kind() == RowKind.RSEQ4J) {
                    memEntries.add(new Summary.Entry(m.name(), m.vsBest()));
                }
            }
            if (!memEntries.isEmpty()) {
                MemorySuite.MemoryResult best = bestMemoryAlternative(unit);
                MemorySuite.MemoryResult m0 = unit.get(0);
                lines.add(new Summary.Line("memory", "bytes per " + m0.unit(), false, 0, m0.metric(),
                        best == null ? null : best.name(), best == null ? Double.NaN : best.totalPerUnit(),
                        memEntries));
            }
        }
        return new Summary(lines);
    }

    /** Whether {@code r} is the best alternative of its group (as {@link #compare} found). */
    public static boolean isBestAlternative(BenchResult r) {
        return r.c().kind() == RowKind.ALTERNATIVE && r.vsBest() != null
                && r.vsBest().bestAlternative().equals(r.c().displayName());
    }

    /** Whether {@code m} is the memory alternative of fewest bytes (as {@link #compareMemory} found). */
    public static boolean isBestAlternative(MemorySuite.MemoryResult m) {
        return m.kind() == RowKind.ALTERNATIVE && m.vsBest() != null && m.vsBest().bestAlternative().equals(m.name());
    }

    /** Memory rows by unit, in the order the units first appear. */
    private static Map<String, List<MemorySuite.MemoryResult>> byUnit(List<MemorySuite.MemoryResult> rows) {
        Map<String, List<MemorySuite.MemoryResult>> units = new LinkedHashMap<>();
        for (MemorySuite.MemoryResult m : rows) {
            units.computeIfAbsent(m.unit(), k -> new ArrayList<>()).add(m);
        }
        return units;
    }

    private static Map<String, List<BenchResult>> byComparisonGroup(List<BenchResult> rows) {
        Map<String, List<BenchResult>> groups = new LinkedHashMap<>();
        for (BenchResult r : rows) {
            groups.computeIfAbsent(r.c().comparisonKey(), k -> new ArrayList<>()).add(r);
        }
        return groups;
    }
}
