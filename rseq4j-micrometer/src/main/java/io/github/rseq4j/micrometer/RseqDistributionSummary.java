package io.github.rseq4j.micrometer;

import io.micrometer.core.instrument.AbstractDistributionSummary;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;

import java.util.Collections;

/**
 * A Micrometer {@code DistributionSummary} of {@link RseqPrometheusMeterRegistry}. Amounts
 * are doubles (already multiplied by the summary's {@code scale} when they get here); rseq4j
 * records whole numbers, so:
 * <ul>
 * <li>a whole amount from 0 to below {@value #WHOLE_LIMIT_TEXT} (bytes, counts, items: the usual
 *     case) is one record into its {@link MeterSeries}, one critical section (count, sum and
 *     bucket together), exactly as a timer's;</li>
 * <li>any other amount (one with a fraction, one at or above that limit, infinity) is counted
 *     exactly on a side path under the totals' monitor ({@link IntervalTotals#addExact}: the
 *     amount as it is in the sum and the maximum, its bucket by Micrometer's own rule), slower
 *     but never rounded.</li>
 * </ul>
 * Reads merge both. The sum is the exact sum of the whole amounts plus the side path's
 * {@code double} sum; it is Micrometer's sum whenever the {@code double} additions are exact
 * (Micrometer's {@code DoubleAdder} adds every amount in {@code double}, in an order of its own).
 *
 * <p>Configured as Micrometer's {@code PrometheusDistributionSummary}: the base class keeps
 * only what client-side percentiles need (Micrometer's own decaying-window histogram, when
 * {@code percentiles(..)} are asked for), and the published buckets are rseq4j buckets with
 * Micrometer's boundaries ({@link MicrometerBuckets}).
 */
final class RseqDistributionSummary extends AbstractDistributionSummary implements RseqMeter {
    /** The series records whole amounts below 2^53 (every whole number up to there is exactly a double). */
    static final double WHOLE_LIMIT = 0x1p53;
    private static final String WHOLE_LIMIT_TEXT = "2^53";

    private final MeterSeries series;

    RseqDistributionSummary(Meter.Id id, Clock clock, DistributionStatisticConfig config, double scale,
                            ScrapeDrain drain) {
        super(id, clock, DistributionStatisticConfig.builder().percentilesHistogram(false).serviceLevelObjectives().build()
                .merge(config), scale, false);
        MicrometerBuckets buckets = MicrometerBuckets.of(config.isPublishingHistogram()
                ? config.getHistogramBuckets(true) : Collections.emptyNavigableSet(), WHOLE_LIMIT);
        this.series = new MeterSeries(buckets, new IntervalTotals(buckets, clock, config), drain);
    }

    @Override
    protected void recordNonNegative(double amount) {
        if (amount < WHOLE_LIMIT && amount == (long) amount) {
            series.record((long) amount);
        } else {
            series.recordExact(amount);
        }
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
    public double totalAmount() {
        return series.drained().sum();
    }

    @Override
    public double max() {
        return series.drained().max();
    }

    @Override
    public HistogramSnapshot takeSnapshot() {
        return series.snapshot(histogram);
    }
}
