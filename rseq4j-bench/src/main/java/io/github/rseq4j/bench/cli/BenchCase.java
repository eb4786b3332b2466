package io.github.rseq4j.bench.cli;

import java.util.function.Supplier;

/**
 * One row of the bench: {@code name} measured with {@code threads} threads.
 *
 * @param topic     what {@code --only} selects by: counter, cpu, pool, ring, histogram
 * @param group     rows compared with each other (same group, threads and thread kind)
 * @param name      the row name, e.g. {@code rseq4j add}, {@code AtomicLong}
 * @param threads   worker threads
 * @param virtual   virtual threads instead of platform threads
 * @param kind      rseq4j, an alternative to it, or a control row
 * @param reference whether this row is the group's fixed reference for the JSON fields
 *                  {@code baseline} and {@code ratio} (kept for compatibility); the report
 *                  compares rseq4j rows with the fastest alternative instead
 * @param workload  a fresh workload (fresh shared state) for this case
 */
public record BenchCase(String topic, String group, String name, int threads, boolean virtual, RowKind kind,
                        boolean reference, Supplier<Workload> workload) {

    public BenchCase {
        if (kind == null) {
            throw new IllegalArgumentException("kind");
        }
        if (reference && kind != RowKind.ALTERNATIVE) {
            throw new IllegalArgumentException("only an alternative can be the reference row: " + name);
        }
    }

    /** An rseq4j row. */
    public static BenchCase rseq4j(String topic, String group, String name, int threads, boolean virtual,
                                   Supplier<Workload> workload) {
        return new BenchCase(topic, group, name, threads, virtual, RowKind.RSEQ4J, false, workload);
    }

    /** A JDK or library alternative. */
    public static BenchCase alternative(String topic, String group, String name, int threads, boolean virtual,
                                        Supplier<Workload> workload) {
        return new BenchCase(topic, group, name, threads, virtual, RowKind.ALTERNATIVE, false, workload);
    }

    /** A control row (neither compared nor a candidate). */
    public static BenchCase control(String topic, String group, String name, int threads, boolean virtual,
                                    Supplier<Workload> workload) {
        return new BenchCase(topic, group, name, threads, virtual, RowKind.CONTROL, false, workload);
    }

    /** This alternative as its group's fixed reference row (JSON {@code baseline}/{@code ratio}). */
    public BenchCase asReference() {
        return new BenchCase(topic, group, name, threads, virtual, kind, true, workload);
    }

    /**
     * The name as shown: virtual-thread rows end in {@code " (virtual)"}, unless the name
     * says so already (the jackson topic's scenarios end in {@code "virtual"}).
     */
    public String displayName() {
        return virtual && !name.endsWith(" virtual") ? name + " (virtual)" : name;
    }

    /** The rows measured and compared together: same topic, group, thread kind and thread count. */
    public String comparisonKey() {
        return topic + "|" + group + "|" + virtual + "|" + threads;
    }

    /** The rows shown in one chart or table: same topic, group and thread kind. */
    public String chartKey() {
        return topic + "|" + group + "|" + virtual;
    }
}
