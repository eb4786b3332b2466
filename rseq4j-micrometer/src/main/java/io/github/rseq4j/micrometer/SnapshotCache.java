package io.github.rseq4j.micrometer;

import io.github.rseq4j.HistogramCounts;
import io.github.rseq4j.Histogram;

import java.util.function.Function;

/**
 * One histogram snapshot shared by the meters of one timer or histogram, so that what a registry reads
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
    /** Readers of one cache: bits of a {@code long}. */
    static final int READERS = 64;
    /** The reader of a timer's or histogram's count. */
    static final int COUNT_READER = 0;
    /** The reader of its total. */
    static final int TOTAL_READER = 1;
    /** The reader of its first percentile (the next ones follow). */
    static final int FIRST_PERCENTILE_READER = 2;

    /** A snapshot is never reused after this long. */
    static final long MAX_AGE_NANOS = 1_000_000_000L;

    private HistogramCounts snapshot;
    private long takenAt;
    private long readers;

    /**
     * A meter's reading: the snapshot for {@code reader} of the histogram of the object the
     * meter is given (so the function holds the cache, never that object).
     *
     * @param reader      0 to 63, one per meter of the cache
     * @param histogramOf the histogram of the meter's object
     */
    <T> Function<T, HistogramCounts> reader(int reader, Function<T, ? extends Histogram> histogramOf) {
        if (reader < 0 || reader >= READERS) {
            throw new IllegalArgumentException("reader " + reader + " not in 0.." + (READERS - 1));
        }
        return x -> get(histogramOf.apply(x), reader);
    }

    /** The snapshot of {@code histogram} (always the same one) for {@code reader} (0 to 63). */
    synchronized HistogramCounts get(Histogram histogram, int reader) {
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
