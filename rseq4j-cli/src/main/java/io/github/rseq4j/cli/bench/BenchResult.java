package io.github.rseq4j.cli.bench;

/**
 * A measured row.
 *
 * @param c     the case
 * @param m     the measurement
 * @param ratio ns/op divided by the group's JDK baseline at the same threads (NaN if none)
 * @param check the workload's correctness check ("ok", a problem, or null)
 * @param note  anything else the workload reported, or null
 */
public record BenchResult(BenchCase c, Harness.Measurement m, double ratio, String baselineName, String check,
                          String note) {
}
