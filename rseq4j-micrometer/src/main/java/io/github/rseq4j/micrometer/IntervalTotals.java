package io.github.rseq4j.micrometer;

import io.github.rseq4j.HistogramCounts;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.TimeWindowMax;

/**
 * What a Micrometer meter of {@link RseqPrometheusMeterRegistry} exports, built from the
 * intervals its rseq4j histogram hands over ({@code snapshotThenReset()}): the count, the
 * sum and the per-bucket counts since the start, and the maximum over Micrometer's decaying
 * window ({@link TimeWindowMax}, configured as Micrometer configures its own timers').
 *
 * <p>Micrometer's own timer feeds its {@code TimeWindowMax} at every record, which costs a
 * clock read and a compare per ring slot; here each interval's maximum is fed when the
 * interval is taken, so the record path stays one critical section. The one consequence: a
 * record counts towards the window from the moment a read (a scrape, {@code max()}) takes
 * its interval, not from the moment it was made, so it may leave the window up to one
 * scrape interval later than under Micrometer's timer. Guarded by its own monitor.
 */
final class IntervalTotals {
    private final MicrometerBuckets buckets;
    private final long[] perBucket;
    private final TimeWindowMax max;
    private long count;
    private long sum;

    /**
     * Empty totals.
     *
     * @param buckets the meter's buckets
     * @param clock   the registry's clock, for the decaying maximum
     * @param config  the meter's configuration (its expiry and buffer length shape the window)
     */
    IntervalTotals(MicrometerBuckets buckets, Clock clock, DistributionStatisticConfig config) {
        this.buckets = buckets;
        this.perBucket = new long[buckets.layout().bucketCount()];
        this.max = new TimeWindowMax(clock, config);
    }

    /** A consistent view of the totals: count, sum and buckets from the same intervals. */
    record View(long count, long sum, double max, CountAtBucket[] cumulative) {}

    /**
     * Adds one interval.
     *
     * @param interval what the histogram recorded since the previous interval
     */
    synchronized void add(HistogramCounts interval) {
        long n = interval.count();
        if (n == 0) {
            return;
        }
        count += n;
        sum += interval.sum();
        for (int i = 0; i < perBucket.length; i++) {
            perBucket[i] += interval.recordsInBucket(i);
        }
        max.record(interval.max());
    }

    /**
     * The totals now.
     *
     * @return count, sum, the decaying maximum (in recorded units) and Micrometer's cumulative bucket counts
     */
    synchronized View view() {
        return new View(count, sum, max.poll(), buckets.cumulative(perBucket));
    }

    /** The count since the start. */
    synchronized long count() {
        return count;
    }

    /** The sum of the recorded values since the start. */
    synchronized long sum() {
        return sum;
    }

    /** The decaying maximum, in recorded units. */
    synchronized double max() {
        return max.poll();
    }
}
