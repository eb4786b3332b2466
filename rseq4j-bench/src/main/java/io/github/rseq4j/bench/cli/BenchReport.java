package io.github.rseq4j.bench.cli;

import java.util.List;

/**
 * Everything one {@code rseq4j bench} run found, as the renderers (text, JSON, HTML) take
 * it: immutable, built once by {@link BenchRunner}.
 *
 * @param machine   the machine facts, taken at the end of the run (fallback counts of the whole run)
 * @param loadStart /proc/loadavg's three figures at the start, or "?"
 * @param loadEnd   the same at the end
 * @param settings  warm-up and run lengths
 * @param quick     whether {@code --quick} was given
 * @param results   throughput rows, compared (see {@link Comparisons#compare})
 * @param memory    memory rows (empty unless the memory topic ran), compared
 * @param summary   what wins and what loses
 */
public record BenchReport(MachineFacts machine, String loadStart, String loadEnd, Harness.Settings settings,
                          boolean quick, List<BenchResult> results, List<MemorySuite.MemoryResult> memory,
                          Summary summary) {

    public BenchReport {
        results = List.copyOf(results);
        memory = List.copyOf(memory);
    }

    /** Whether a row failed or a check did not pass (the exit status is then 1). */
    public boolean failed() {
        for (BenchResult r : results) {
            if (r.m() == null || (r.check() != null && !r.check().equals("ok"))) {
                return true;
            }
        }
        for (MemorySuite.MemoryResult m : memory) {
            if (!"ok".equals(m.check())) {
                return true;
            }
        }
        return false;
    }
}
