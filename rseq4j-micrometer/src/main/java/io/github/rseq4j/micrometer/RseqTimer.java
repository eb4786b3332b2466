package io.github.rseq4j.micrometer;

import io.github.rseq4j.PerCpuHistogram;
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
 * rseq4j histogram record of the duration in nanoseconds (count, sum and bucket together);
 * reads take the histogram's interval into {@link IntervalTotals}.
 *
 * <p>Configured as Micrometer's Prometheus timer: the {@code AbstractTimer} base keeps only
 * what client-side percentiles need (Micrometer's own decaying-window percentile histogram,
 * when {@code percentiles(..)} are asked for, so the quantiles are Micrometer's; a no-op
 * otherwise), and the published buckets ({@code publishPercentileHistogram()}, service-level
 * objectives) are rseq4j buckets with Micrometer's boundaries ({@link MicrometerBuckets}).
 */
final class RseqTimer extends AbstractTimer {
    private final PerCpuHistogram recorder;
    private final IntervalTotals totals;

    RseqTimer(Meter.Id id, Clock clock, DistributionStatisticConfig config, PauseDetector pauseDetector) {
        super(id, clock, DistributionStatisticConfig.builder().percentilesHistogram(false).serviceLevelObjectives().build()
                .merge(config), pauseDetector, TimeUnit.SECONDS, false);
        MicrometerBuckets buckets = MicrometerBuckets.of(config.isPublishingHistogram()
                ? config.getHistogramBuckets(true) : java.util.Collections.emptyNavigableSet());
        this.recorder = PerCpuHistogram.create(buckets.layout());
        this.totals = new IntervalTotals(buckets, clock, config);
    }

    @Override
    protected void recordNonNegative(long amount, TimeUnit unit) {
        recorder.record(unit.toNanos(amount));
    }

    /** Moves what was recorded since the last read into the totals. */
    private IntervalTotals drained() {
        synchronized (totals) {
            totals.add(recorder.snapshotThenReset());
        }
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
        IntervalTotals.View v = drained().view();
        HistogramSnapshot percentiles = histogram.takeSnapshot(v.count(), v.sum(), v.max());
        return new HistogramSnapshot(v.count(), v.sum(), v.max(), percentiles.percentileValues(), v.cumulative(),
                percentiles::outputSummary);
    }

    private static double nanosIn(double nanos, TimeUnit unit) {
        return TimeUtils.nanosToUnit(nanos, unit);
    }
}
