package io.github.rseq4j.cli.bench;

import java.util.function.Supplier;

/**
 * One row of the bench: {@code name} measured with {@code threads} threads.
 *
 * @param topic    what {@code --only} selects by: counter, cpu, pool, ring
 * @param group    rows compared with each other (same group, threads and thread kind)
 * @param name     the row name, e.g. {@code rseq4j add}, {@code AtomicLong}
 * @param threads  worker threads
 * @param virtual  virtual threads instead of platform threads
 * @param baseline whether this row is the JDK baseline of its group (ratio 1)
 * @param workload a fresh workload (fresh shared state) for this case
 */
public record BenchCase(String topic, String group, String name, int threads, boolean virtual, boolean baseline,
                        Supplier<Workload> workload) {

    /** The name as shown: virtual-thread rows end in {@code " (virtual)"}. */
    public String displayName() {
        return virtual ? name + " (virtual)" : name;
    }
}
