package io.github.rseq4j.bench.cli;

import java.util.Map;

/**
 * What a benchmark case measures: one {@link Loop} per worker thread over shared state,
 * plus optional hooks around the whole case (start and stop a consumer thread, say) and a
 * correctness check of the shared state after it.
 */
public interface Workload {

    /** The loop worker {@code index} runs. Called once per worker, before any thread starts. */
    Loop newLoop(int index);

    /**
     * Greater than 0 to be measured in bursts (see {@link Harness}): each worker runs at
     * most this many operations per burst, and {@link #betweenBursts()} runs, untimed,
     * between bursts. For structures that must not fill up, such as rings without a
     * concurrent consumer.
     */
    default int burst() {
        return 0;
    }

    /**
     * How many of the harness's nominal operations one operation of this workload is worth,
     * 1 by default: the warm-up's chunk and the floor of operations per timed run (see
     * {@link Harness}) are divided by it, so that a workload whose operation is long (a
     * 64 KB JSON round trip, say) warms up in calls of a sensible length and is not held
     * to thousands of slow operations per run when its run length asks for fewer.
     */
    default int opWeight() {
        return 1;
    }

    /**
     * Between two bursts, on one worker, while the others wait (drain a ring, say); returns
     * how many records it took, 0 by default. (Under JMH, a consumer thread calls it while
     * the writers write, and parks when it took nothing.)
     */
    default long betweenBursts() {
        return 0;
    }

    /** Before the warm-up of this case. */
    default void beforeCase() {
    }

    /** After the last timed run of this case (also when it failed). */
    default void afterCase() {
    }

    /**
     * Checks the shared state after the case, given the number of operations all loops
     * performed in total; returns null when there is nothing to check, "ok", or what is wrong.
     */
    default String check(long totalOps) {
        return null;
    }

    /** Anything worth reporting beside the time (full rings, fallback counts ...), or null. */
    default String note() {
        return null;
    }

    /**
     * Figures the workload measured beside the time, as extra JSON fields of its row (for
     * example {@code bytes_per_op}, {@code peak_pooled}); a value may be null (not known).
     * Called after {@link #check}. Empty by default.
     */
    default Map<String, Object> fields() {
        return Map.of();
    }
}
