package io.github.rseq4j.micrometer;

import io.micrometer.core.instrument.AbstractTimer;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.pause.PauseDetector;
import io.micrometer.core.instrument.util.TimeUtils;

import java.util.Collections;
import java.util.concurrent.TimeUnit;

/**
 * A Micrometer {@code Timer} of {@link RseqPrometheusMeterRegistry}: each record is one
 * record of the duration in nanoseconds into its {@link MeterSeries} (one critical section:
 * count, sum and bucket together); reads take the series' interval into its
 * {@link IntervalTotals}.
 *
 * <p>Configured as Micrometer's Prometheus timer: the {@code AbstractTimer} base keeps only
 * what client-side percentiles need (Micrometer's own decaying-window percentile histogram,
 * when {@code percentiles(..)} are asked for, so the quantiles are Micrometer's; a no-op
 * otherwise), and the published buckets ({@code publishPercentileHistogram()}, service-level
 * objectives) are rseq4j buckets with Micrometer's boundaries ({@link MicrometerBuckets}).
 */
final class RseqTimer extends AbstractTimer implements RseqMeter {
    private final MeterSeries series;

    RseqTimer(Meter.Id id, Clock clock, DistributionStatisticConfig config, PauseDetector pauseDetector,
              ScrapeDrain drain) {
        super(id, clock, DistributionStatisticConfig.builder().percentilesHistogram(false).serviceLevelObjectives().build()
                .merge(config), pauseDetector, TimeUnit.SECONDS, false);
        MicrometerBuckets buckets = MicrometerBuckets.of(config.isPublishingHistogram()
                ? config.getHistogramBuckets(true) : Collections.emptyNavigableSet());
        this.series = new MeterSeries(buckets, new IntervalTotals(buckets, clock, config), drain);
    }

    @Override
    protected void recordNonNegative(long amount, TimeUnit unit) {
        series.record(unit.toNanos(amount));
    }

    @Override
    public void detach() {
        series.detach();
    }

    @Override
    public long count() {
        return series.drained().count();
    }

    @Override
    public double totalTime(TimeUnit unit) {
        return TimeUtils.nanosToUnit(series.drained().sum(), unit);
    }

    @Override
    public double max(TimeUnit unit) {
        return TimeUtils.nanosToUnit(series.drained().max(), unit);
    }

    @Override
    public HistogramSnapshot takeSnapshot() {
        return series.snapshot(histogram);
    }
}
