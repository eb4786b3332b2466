package io.github.rseq4j.bench.cli;

import java.util.List;

/**
 * What wins and what loses: one line per comparison group (topic, group, thread kind and
 * thread count) that has rseq4j rows, each rseq4j row against the group's best
 * alternative. Built by {@link Comparisons#summarize}; the renderers only print it.
 *
 * @param lines in report order
 */
public record Summary(List<Line> lines) {

    public Summary {
        lines = List.copyOf(lines);
    }

    /**
     * One comparison group.
     *
     * @param topic           the topic (counter, cpu, pool, ring, histogram, memory)
     * @param group           the group within it (object pool, buffer pool ...)
     * @param virtual         virtual threads
     * @param threads         thread count; 0 where it does not apply (memory)
     * @param metric          time (ns/op) or bytes per counter
     * @param bestAlternative the best alternative's name (without " (virtual)": see {@code virtual}),
     *                        or null when none was measured
     * @param bestValue       its value (NaN when none)
     * @param entries         the group's rseq4j rows
     */
    public record Line(String topic, String group, boolean virtual, int threads, Comparison.Metric metric,
                       String bestAlternative, double bestValue, List<Entry> entries) {
        public Line {
            entries = List.copyOf(entries);
        }

        /** "counter", "object pool", "ring write, virtual threads", "memory: bytes per counter". */
        public String label() {
            String l = group.contains(topic) ? group : topic + ": " + group;
            return virtual ? l + ", virtual threads" : l;
        }

        /** "1 thread", "2 threads", or "" when the thread count does not apply. */
        public String threadsLabel() {
            return threads <= 0 ? "" : threads == 1 ? "1 thread" : threads + " threads";
        }
    }

    /**
     * One rseq4j row of a line.
     *
     * @param name   the row's name (without " (virtual)": the line says which threads)
     * @param vsBest its comparison, or null when it failed or there is no alternative
     */
    public record Entry(String name, Comparison vsBest) {
    }

    /** How many rseq4j rows got {@code verdict}. */
    public long count(Comparison.Verdict verdict) {
        return lines.stream().flatMap(l -> l.entries().stream())
                .filter(e -> e.vsBest() != null && e.vsBest().verdict() == verdict).count();
    }

    /** rseq4j rows that could not be compared (failed, or no alternative measured). */
    public long notCompared() {
        return lines.stream().flatMap(l -> l.entries().stream()).filter(e -> e.vsBest() == null).count();
    }
}
