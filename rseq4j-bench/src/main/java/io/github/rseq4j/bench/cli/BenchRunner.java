package io.github.rseq4j.bench.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs {@code rseq4j bench}: the throughput groups of the chosen topics, then the memory
 * test (counters with the memory topic; series with the memory or the series topic), and returns the whole outcome as one {@link BenchReport}. Progress goes to a
 * writer (standard error) as rows finish; nothing is rendered here.
 */
public final class BenchRunner {
    private BenchRunner() {
    }

    /**
     * What to run.
     *
     * @param topics         topics in run order (see {@link Suites#TOPICS})
     * @param settings       warm-up and run lengths
     * @param quick          whether this is a {@code --quick} run (reported)
     * @param memoryCounters counters of each kind in the memory test
     * @param memoryOverlap  least increments per counter per thread made while the other thread ran too
     * @param series         series per row of the series topic and of its memory rows
     * @param rseq4jVersion  this tool's version (reported)
     */
    public record Plan(List<String> topics, Harness.Settings settings, boolean quick, int memoryCounters,
                       int memoryOverlap, int series, String rseq4jVersion) {
        public Plan {
            topics = List.copyOf(topics);
        }
    }

    /** Runs {@code plan}, printing progress to {@code progress}. */
    public static BenchReport run(Plan plan, PrintWriter progress) {
        String loadStart = MachineFacts.loadAverage();
        progress.printf("rseq4j bench: mode %s, %d CPUs, topics %s%s%n", MachineFacts.currentMode(),
                Runtime.getRuntime().availableProcessors(), String.join(",", plan.topics()),
                plan.quick() ? " (quick)" : "");
        progress.flush();

        List<BenchCase> cases = Suites.cases(plan.topics(), plan.series());
        List<BenchResult> results = new ArrayList<>();
        int done = 0;
        // one comparison group at a time (same topic, group, thread count and kind): its
        // rows take their timed runs in turn (Harness.measureGroup)
        Map<String, List<BenchCase>> groups = new LinkedHashMap<>();
        for (BenchCase c : cases) {
            groups.computeIfAbsent(c.comparisonKey(), k -> new ArrayList<>()).add(c);
        }
        for (List<BenchCase> group : groups.values()) {
            for (BenchResult r : runGroup(group, plan.settings())) {
                results.add(r);
                done++;
                BenchCase c = r.c();
                progress.printf("[%2d/%d] %-7s %-32s %2d thread%s  %s%n", done, cases.size(), c.topic(),
                        c.displayName(), c.threads(), c.threads() == 1 ? " " : "s",
                        r.m() == null ? "FAILED: " + r.note() : Wording.fmt(r.m().nsPerOp()) + " ns/op");
                progress.flush();
            }
        }
        results = Comparisons.compare(results);

        List<MemorySuite.MemoryResult> memory = new ArrayList<>();
        if (plan.topics().contains("memory")) {
            progress.printf("memory: %,d counters of each kind, each hammered by %d threads at once...%n",
                    plan.memoryCounters(), MemorySuite.HAMMER_THREADS);
            progress.flush();
            int slices = MachineFacts.probe(plan.rseq4jVersion()).slices();
            memory.addAll(MemorySuite.run(plan.memoryCounters(), plan.memoryOverlap(), slices));
        }
        if (plan.topics().contains("memory") || plan.topics().contains(SeriesSuite.TOPIC)) {
            // the series topic's rows measured these already (the figures are kept per run)
            progress.printf("memory: %,d series of each kind, each recorded once...%n", plan.series());
            progress.flush();
            memory.addAll(SeriesSuite.memory(plan.series()));
        }
        memory = Comparisons.compareMemory(memory);

        MachineFacts machine = MachineFacts.probe(plan.rseq4jVersion());
        String loadEnd = MachineFacts.loadAverage();
        return new BenchReport(machine, loadStart, loadEnd, plan.settings(), plan.quick(), results, memory,
                Comparisons.summarize(results, memory));
    }

    /**
     * Runs one comparison group; a failing case becomes a row without a measurement.
     * Fallbacks and aborts are counted per row, around each of its phases.
     */
    static List<BenchResult> runGroup(List<BenchCase> group, Harness.Settings settings) {
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
        Harness.Listener listener = new Harness.Listener() {
            private MachineFacts.Fallbacks start;

            @Override
            public void before(int index) {
                start = MachineFacts.currentFallbacks();
            }

            @Override
            public void after(int index) {
                MachineFacts.Fallbacks f = MachineFacts.currentFallbacks();
                int i = liveIndex.get(index);
                fallbacks[i] += f.operations() - start.operations();
                aborts[i] += f.aborts() - start.aborts();
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
            Map<String, Object> fields = Map.of();
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
                        fields = ws[i].fields();
                    } catch (RuntimeException | Error e) {
                        check = "check failed: " + e;
                    }
                }
            }
            if (fallbacks[i] != 0 || aborts[i] != 0) {
                String fb = "fallbacks " + fallbacks[i] + ", aborts " + aborts[i];
                note = note == null ? fb : note + "; " + fb;
            }
            out.add(BenchResult.measured(group.get(i), m, check, note, fields));
        }
        return out;
    }
}
