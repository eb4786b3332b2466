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
 *
 * <p>Besides the intervals, an exact side path ({@link #addExact}) for the amounts a series
 * cannot hold as they are (a summary's fractional amounts, amounts at or above
 * {@code RseqDistributionSummary#WHOLE_LIMIT}, infinity): each is counted at once under the
 * monitor, its amount added to a {@code double} sum in record order (Micrometer's
 * {@code DoubleAdder} adds every amount in {@code double} too), its bucket found by
 * Micrometer's own rule ({@link MicrometerBuckets#boundaryIndex}) and its amount fed to the
 * decaying maximum as it is, at once. Reads merge both: the count is the sum of both counts,
 * the sum {@code (double) wholeSum + exactSum}, the buckets both kinds of counts.
 */
final class IntervalTotals {
    private final MicrometerBuckets buckets;
    private final long[] perBucket;
    private final TimeWindowMax max;
    private long count;
    private long sum;
    /** Per Micrometer boundary (one more for none), the side path's records; null until the first. */
    private long[] exactPerBoundary;
    private double exactSum;

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
    record View(long count, double sum, double max, CountAtBucket[] cumulative) {}

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
     * Counts one amount exactly, beside the intervals (the side path: see the class notes).
     *
     * @param amount a non-negative amount (not NaN), as recorded
     */
    synchronized void addExact(double amount) {
        if (exactPerBoundary == null) {
            exactPerBoundary = new long[buckets.boundaryCount() + 1];
        }
        count++;
        exactSum += amount;
        exactPerBoundary[buckets.boundaryIndex(amount)]++;
        max.record(amount);
    }

    /**
     * The totals now.
     *
     * @return count, sum, the decaying maximum (in recorded units) and Micrometer's cumulative bucket counts
     */
    synchronized View view() {
        return new View(count, sum + exactSum, max.poll(), buckets.cumulative(perBucket, exactPerBoundary));
    }

    /** The count since the start. */
    synchronized long count() {
        return count;
    }

    /** The sum of the recorded values since the start: the intervals' (exact) and the side path's. */
    synchronized double sum() {
        return sum + exactSum;
    }

    /** The decaying maximum, in recorded units. */
    synchronized double max() {
        return max.poll();
    }
}
