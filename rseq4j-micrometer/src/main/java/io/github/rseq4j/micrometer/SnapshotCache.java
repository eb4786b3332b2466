package io.github.rseq4j.micrometer;

import io.github.rseq4j.HistogramCounts;
import io.github.rseq4j.Histogram;

import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * One histogram snapshot shared by the meters of one timer or histogram, so that what a registry reads
 * in one publication (count, total time, percentiles) comes from the same records.
 *
 * <p>Each meter reading is a <i>reader</i> (a bit). A reader gets the cached snapshot
 * unless it has already read that one, or no reader has read the cache for
 * {@link #MAX_IDLE_NANOS}; then it takes a new snapshot. Within one publication every reader
 * reads once, so they all share the snapshot the first of them took; the next publication
 * starts a new one. Two publications running at the same moment may mix their snapshots
 * (each value is still exact and cumulative).
 *
 * <p>Why idle time and not the snapshot's age: a publication may be slow (a registry of many
 * meters on a loaded machine: 7 s between a histogram's count and its total was seen in a
 * test at load 20). An age rule took a new snapshot in the middle of such a publication, so
 * its count and total differed, and so did those of the <em>next</em> publication (the
 * count reader had not read the mid-publication snapshot, the total reader had). Reads of
 * one publication follow each other; a cache nobody read for {@link #MAX_IDLE_NANOS} is
 * between publications, and a reader that missed the last one (a meter some registry reads
 * only now) must not get that old snapshot.
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

    /** A snapshot is not reused once no reader has read the cache for this long. */
    static final long MAX_IDLE_NANOS = 10_000_000_000L;

    private final LongSupplier clock;
    private HistogramCounts snapshot;
    private long lastRead;
    private long readers;

    /** A cache on {@link System#nanoTime()}. */
    SnapshotCache() {
        this(System::nanoTime);
    }

    /** A cache on {@code clock} (nanoseconds; tests). */
    SnapshotCache(LongSupplier clock) {
        this.clock = clock;
    }

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
        long now = clock.getAsLong();
        if (snapshot == null || (readers & bit) != 0 || now - lastRead > MAX_IDLE_NANOS) {
            snapshot = histogram.snapshot();
            readers = 0;
        }
        readers |= bit;
        lastRead = now;
        return snapshot;
    }
}
