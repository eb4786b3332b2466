package io.github.rseq4j.micrometer;

import io.github.rseq4j.HistogramSeries;
import io.micrometer.core.instrument.AbstractTimer;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.pause.PauseDetector;
import io.micrometer.core.instrument.util.TimeUtils;

import java.util.concurrent.TimeUnit;

/**
 * A Micrometer {@code Timer} of {@link RseqPrometheusMeterRegistry}: each record is one
 * record of the duration in nanoseconds into a {@link HistogramSeries} of the registry's
 * group (one critical section: count, sum and bucket together); reads take the series'
 * interval into {@link IntervalTotals} (its own reads exactly, scrapes through the
 * registry's {@link ScrapeDrain}).
 *
 * <p>A timer removed from its registry (or whose registry was closed) is <em>detached</em>:
 * its series is closed and what is recorded into it afterwards is ignored, as Micrometer's
 * removed meters record into nothing anyone exports; its reads keep the totals it had.
 *
 * <p>Configured as Micrometer's Prometheus timer: the {@code AbstractTimer} base keeps only
 * what client-side percentiles need (Micrometer's own decaying-window percentile histogram,
 * when {@code percentiles(..)} are asked for, so the quantiles are Micrometer's; a no-op
 * otherwise), and the published buckets ({@code publishPercentileHistogram()}, service-level
 * objectives) are rseq4j buckets with Micrometer's boundaries ({@link MicrometerBuckets}).
 */
final class RseqTimer extends AbstractTimer {
    private final HistogramSeries series;
    private final IntervalTotals totals;
    private final ScrapeDrain drain;
    private volatile boolean detached;

    RseqTimer(Meter.Id id, Clock clock, DistributionStatisticConfig config, PauseDetector pauseDetector,
              ScrapeDrain drain) {
        super(id, clock, DistributionStatisticConfig.builder().percentilesHistogram(false).serviceLevelObjectives().build()
                .merge(config), pauseDetector, TimeUnit.SECONDS, false);
        MicrometerBuckets buckets = MicrometerBuckets.of(config.isPublishingHistogram()
                ? config.getHistogramBuckets(true) : java.util.Collections.emptyNavigableSet());
        this.totals = new IntervalTotals(buckets, clock, config);
        this.drain = drain;
        this.series = drain.newSeries(buckets.layout(), totals);
    }

    @Override
    protected void recordNonNegative(long amount, TimeUnit unit) {
        try {
            series.record(unit.toNanos(amount));
        } catch (IllegalStateException closed) {
            if (!detached) {
                throw closed;
            }
        }
    }

    /** Closes the series: from now on records are ignored and reads return the totals so far. */
    void detach() {
        detached = true;
        drain.close(series, totals);
    }

    /** Moves what this timer recorded since the last read into the totals (exactly: its own series' interval). */
    private IntervalTotals drained() {
        drain.drain(series, totals);
        return totals;
    }

    @Override
    public long count() {
        return drained().count();
    }

    @Override
    public double totalTime(TimeUnit unit) {
        return nanosIn(drained().sum(), unit);
    }

    @Override
    public double max(TimeUnit unit) {
        return nanosIn(drained().max(), unit);
    }

    @Override
    public HistogramSnapshot takeSnapshot() {
        drain.forScrape();
        IntervalTotals.View v = totals.view();
        HistogramSnapshot percentiles = histogram.takeSnapshot(v.count(), v.sum(), v.max());
        return new HistogramSnapshot(v.count(), v.sum(), v.max(), percentiles.percentileValues(), v.cumulative(),
                percentiles::outputSummary);
    }

    private static double nanosIn(double nanos, TimeUnit unit) {
        return TimeUtils.nanosToUnit(nanos, unit);
    }
}
