package io.github.rseq4j.micrometer;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.HistogramGroup;
import io.github.rseq4j.HistogramSeries;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The {@link HistogramGroup} of one {@link RseqPrometheusMeterRegistry} (every timer and summary of the
 * registry is a series of it, so a meter costs no per-CPU memory) and the ways its series'
 * intervals reach the meters' {@link IntervalTotals}.
 *
 * <p><b>Implementation notes.</b> Reading one series exactly ({@code snapshotThenReset} of
 * that series) stops every CPU once, a fence each: right for a meter's own reads
 * ({@code count()}, {@code totalTime()} or {@code totalAmount()}, {@code max()}), far too slow
 * for a scrape of thousands of timers and summaries, each of which Micrometer reads
 * separately. So:
 * <ul>
 * <li>{@link #scrape} (the registry's own {@code scrape(..)} methods) takes one interval of
 *     the whole group ({@link HistogramGroup#snapshotThenReset(java.util.function.BiConsumer)}:
 *     one stop per CPU for all series) into every meter's totals, then runs Micrometer's
 *     scrape with a thread-local mark that tells the meters' {@code takeSnapshot()} not to
 *     read again. Such a scrape includes every record completed before it began.</li>
 * <li>A {@code takeSnapshot()} without the mark (a scrape of the client_java
 *     {@code PrometheusRegistry} made directly, as an HTTP server or Spring Boot's endpoint
 *     does, whose collectors run in no fixed order) takes one interval of the whole group
 *     unless one was taken in the last {@value #COALESCE_MILLIS} ms ({@link #forScrape}). Such
 *     a scrape includes every record completed up to {@value #COALESCE_MILLIS} ms before it
 *     began; the rest are in the next one.</li>
 * </ul>
 * Every interval goes to exactly one meter's totals under that totals' monitor, so every
 * record is counted once, whole (count, sum and bucket together), whichever way it is read
 * (a summary's side-path amounts go to its totals directly, under the same monitor).
 * Lock order: the group's own locks, then a totals' monitor (the group hands intervals over
 * while it holds its fold lock); nothing holds a totals' monitor while it reads the group.
 */
final class ScrapeDrain implements AutoCloseable {
    /** A direct scrape reuses a group interval taken this recently. */
    static final long COALESCE_MILLIS = 100;

    private final HistogramGroup group = new HistogramGroup();
    private final Map<HistogramSeries, IntervalTotals> totals = new ConcurrentHashMap<>();
    private final ThreadLocal<Boolean> scraping = new ThreadLocal<>();
    /** Guards {@link #lastGroupDrain} and makes group intervals one at a time. */
    private final Object groupLock = new Object();
    private long lastGroupDrain = System.nanoTime() - TimeUnit.DAYS.toNanos(1);

    /**
     * A new series of the group whose intervals go to {@code into}.
     *
     * @param layout the buckets
     * @param into   the timer's totals
     * @return the series to record into
     */
    HistogramSeries newSeries(BucketLayout layout, IntervalTotals into) {
        HistogramSeries s = group.newSeries(layout);
        totals.put(s, into);
        return s;
    }

    /**
     * Takes {@code series}' interval into {@code into}: every record of it completed before
     * this call is in the totals afterwards. Nothing for a closed series (its totals stay).
     */
    void drain(HistogramSeries series, IntervalTotals into) {
        if (series.isClosed()) {
            return;
        }
        try {
            into.add(series.snapshotThenReset());
        } catch (IllegalStateException closedMeanwhile) {
            if (!series.isClosed()) {
                throw closedMeanwhile;
            }
        }
    }

    /**
     * Takes the series' last interval into {@code into}, then closes the series (its
     * records made after that are dropped by the group).
     */
    void close(HistogramSeries series, IntervalTotals into) {
        drain(series, into);
        totals.remove(series);
        series.close();
    }

    /**
     * Runs {@code scrape} after one interval of the whole group, with the mark that spares
     * the timers' snapshots a read of their own (see the class notes).
     *
     * @param scrape Micrometer's scrape
     * @param <T>    what it returns
     * @return what {@code scrape} returned
     */
    <T> T scrape(Supplier<T> scrape) {
        if (scraping.get() != null) {
            return scrape.get();   // a scrape method calling another: one interval is enough
        }
        drainGroup();
        scraping.set(Boolean.TRUE);
        try {
            return scrape.get();
        } finally {
            scraping.remove();
        }
    }

    /** Before a timer's snapshot: nothing inside {@link #scrape}; else a group interval unless a recent one serves. */
    void forScrape() {
        if (scraping.get() != null) {
            return;
        }
        synchronized (groupLock) {
            if (System.nanoTime() - lastGroupDrain < TimeUnit.MILLISECONDS.toNanos(COALESCE_MILLIS)) {
                return;
            }
            drainGroup();
        }
    }

    /** One interval of every series into its timer's totals. */
    private void drainGroup() {
        synchronized (groupLock) {
            lastGroupDrain = System.nanoTime();
            if (group.isClosed()) {
                return;
            }
            group.snapshotThenReset((series, counts) -> {
                IntervalTotals t = totals.get(series);
                if (t != null) {
                    t.add(counts);
                }
            });
        }
    }

    /** Closes the group: every series' records from now on are dropped. */
    @Override
    public void close() {
        synchronized (groupLock) {
            group.close();
        }
    }

    /** Per-CPU bytes of the group's logs (fixed, whatever the number of timers). */
    long bytesPerCpu() {
        return group.bytesPerCpu();
    }
}
