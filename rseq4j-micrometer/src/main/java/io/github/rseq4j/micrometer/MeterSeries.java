package io.github.rseq4j.micrometer;

import io.github.rseq4j.HistogramSeries;
import io.micrometer.core.instrument.distribution.Histogram;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;

/**
 * The rseq4j side of one meter of {@link RseqPrometheusMeterRegistry} (a timer or a
 * distribution summary): its {@link HistogramSeries} of the registry's group, the
 * {@link IntervalTotals} it exports, and the ways to read them (the meter's own reads exactly,
 * scrapes through the registry's {@link ScrapeDrain}).
 *
 * <p>A meter removed from its registry (or whose registry was closed) is <em>detached</em>:
 * its series is closed and what is recorded into it afterwards is ignored, as Micrometer's
 * removed meters record into nothing anyone exports; its reads keep the totals it had.
 */
final class MeterSeries {
    private final HistogramSeries series;
    private final IntervalTotals totals;
    private final ScrapeDrain drain;
    private volatile boolean detached;

    /**
     * A new series of {@code drain}'s group, exporting into {@code totals}.
     *
     * @param buckets the meter's buckets
     * @param totals  the meter's totals
     * @param drain   the registry's drain
     */
    MeterSeries(MicrometerBuckets buckets, IntervalTotals totals, ScrapeDrain drain) {
        this.totals = totals;
        this.drain = drain;
        this.series = drain.newSeries(buckets.layout(), totals);
    }

    /**
     * Records {@code value}: one critical section (count, sum and bucket together); ignored once detached.
     *
     * @param value a whole, non-negative value in the meter's recorded unit
     */
    void record(long value) {
        try {
            series.record(value);
        } catch (IllegalStateException closed) {
            if (!detached) {
                throw closed;
            }
        }
    }

    /**
     * Counts {@code amount} on the totals' exact side path ({@link IntervalTotals#addExact}); ignored once detached.
     *
     * @param amount a non-negative amount the series cannot hold as it is
     */
    void recordExact(double amount) {
        if (!detached) {
            totals.addExact(amount);
        }
    }

    /** Closes the series: from now on records are ignored and reads return the totals so far. */
    void detach() {
        detached = true;
        drain.close(series, totals);
    }

    /**
     * The totals with everything recorded before this call (exactly: the series' own interval).
     *
     * @return the totals
     */
    IntervalTotals drained() {
        drain.drain(series, totals);
        return totals;
    }

    /**
     * The snapshot a scrape exports: count, sum, decaying maximum and buckets from the totals
     * (after a group interval, see {@link ScrapeDrain#forScrape}), quantiles from Micrometer's
     * own {@code percentiles} histogram.
     *
     * @param percentiles the meter's client-side percentile histogram (a no-op one without percentiles)
     * @return the snapshot, in recorded units
     */
    HistogramSnapshot snapshot(Histogram percentiles) {
        drain.forScrape();
        IntervalTotals.View v = totals.view();
        HistogramSnapshot p = percentiles.takeSnapshot(v.count(), v.sum(), v.max());
        return new HistogramSnapshot(v.count(), v.sum(), v.max(), p.percentileValues(), v.cumulative(),
                p::outputSummary);
    }
}
