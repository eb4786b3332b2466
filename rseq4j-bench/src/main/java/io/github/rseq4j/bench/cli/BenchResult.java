package io.github.rseq4j.bench.cli;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A measured row.
 *
 * @param c            the case
 * @param m            the measurement, or null when the row failed
 * @param check        the workload's correctness check ("ok", a problem, or null)
 * @param note         anything else the workload reported, or null
 * @param ratio        ns/op divided by the group's fixed reference row at the same threads
 *                     (NaN if none); the JSON {@code ratio} field, kept for compatibility
 * @param baselineName that reference row's name, or null
 * @param vsBest       for an rseq4j or alternative row: how it compares with the fastest
 *                     alternative of its group (the reports give a verdict for rseq4j rows
 *                     only); null for control rows, failed rows, or when no alternative was
 *                     measured
 * @param fields       the workload's extra figures, as extra JSON fields (see {@link Workload#fields()})
 */
public record BenchResult(BenchCase c, Harness.Measurement m, String check, String note, double ratio,
                          String baselineName, Comparison vsBest, Map<String, Object> fields) {

    public BenchResult {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    /** A row as measured, before any comparison. */
    public static BenchResult measured(BenchCase c, Harness.Measurement m, String check, String note) {
        return measured(c, m, check, note, Map.of());
    }

    /** A row as measured, with its workload's extra figures ({@link Workload#fields()}). */
    public static BenchResult measured(BenchCase c, Harness.Measurement m, String check, String note,
                                       Map<String, Object> fields) {
        return new BenchResult(c, m, check, note, Double.NaN, null, null, fields);
    }

    /** This row with its comparisons. */
    public BenchResult compared(double ratio, String baselineName, Comparison vsBest) {
        return new BenchResult(c, m, check, note, ratio, baselineName, vsBest, fields);
    }

    /** The median ns/op, or NaN when the row failed. */
    public double nsPerOp() {
        return m == null ? Double.NaN : m.nsPerOp();
    }

    /** Measured, and its check (if any) passed: fit to be compared with. */
    public boolean ok() {
        return m != null && (check == null || check.equals("ok"));
    }
}
