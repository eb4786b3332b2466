package io.github.rseq4j.micrometer;

import io.github.rseq4j.HistogramCounts;
import io.github.rseq4j.PerCpuHistogram;

/**
 * One histogram snapshot shared by the meters of one timer, so that what a registry reads
 * in one publication (count, total time, percentiles) comes from the same records.
 *
 * <p>Each meter reading is a <i>reader</i> (a bit). A reader gets the cached snapshot
 * unless it has already read that one, or the snapshot is older than {@link #MAX_AGE_NANOS};
 * then it takes a new snapshot. Within one publication every reader reads once, so they
 * all share the snapshot the first of them took; the next publication starts a new one.
 * Two publications running at the same moment may mix their snapshots (each value is
 * still exact and cumulative).
 *
 * <p>The cache does not hold the histogram: the meters pass it in on every read, from the
 * timer Micrometer holds weakly. A cache holding it kept every bound histogram reachable
 * for the registry's life (issue 18), and its meters kept reading a timer the
 * application had dropped. Only the last snapshot (bucket counts, no per-CPU memory) stays.
 */
final class SnapshotCache {
    /** A snapshot is never reused after this long. */
    static final long MAX_AGE_NANOS = 1_000_000_000L;

    private HistogramCounts snapshot;
    private long takenAt;
    private long readers;

    /** The snapshot of {@code histogram} (always the same one) for {@code reader} (0 to 63). */
    synchronized HistogramCounts get(PerCpuHistogram histogram, int reader) {
        long bit = 1L << reader;
        long now = System.nanoTime();
        if (snapshot == null || (readers & bit) != 0 || now - takenAt > MAX_AGE_NANOS) {
            snapshot = histogram.snapshot();
            takenAt = now;
            readers = 0;
        }
        readers |= bit;
        return snapshot;
    }
}
