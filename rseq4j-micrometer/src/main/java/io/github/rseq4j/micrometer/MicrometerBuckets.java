package io.github.rseq4j.micrometer;

import io.github.rseq4j.BucketLayout;
import io.micrometer.core.instrument.distribution.CountAtBucket;

import java.util.Arrays;
import java.util.NavigableSet;

/**
 * The boundaries a Micrometer meter publishes ({@code DistributionStatisticConfig.getHistogramBuckets},
 * its percentile-histogram buckets and its service-level objectives), as an rseq4j
 * {@link BucketLayout} of whole numbers, and the way back to Micrometer's cumulative
 * {@link CountAtBucket}s with the boundaries exactly as Micrometer gave them.
 *
 * <p>Values recorded into the series are whole numbers (nanoseconds for a timer, whole
 * amounts for a summary), and Micrometer counts a value in the first bucket whose boundary is
 * at or above it; a whole value {@code v} is at or below a boundary {@code b} exactly when
 * {@code v <= floor(b)}, so the layout's bound for {@code b} is {@code floor(b)}. Boundaries
 * with the same floor share one rseq4j bucket (no whole value lies between them) and export
 * the same cumulative count, as Micrometer's do. Boundaries at or above the series' limit
 * (every value the series gets is below it) hold every record of the series.
 *
 * <p>Amounts that do not go through the series (a summary's fractional or huge amounts,
 * {@code IntervalTotals#addExact}) are counted per Micrometer boundary by Micrometer's own
 * rule for doubles ({@link #boundaryIndex}): its fixed-boundary histogram counts
 * {@code (long) Math.ceil(amount)}, converted back to a double, in the first bucket whose
 * boundary is at or above that (so 1.5 counts towards boundary 2, not 1.7).
 */
final class MicrometerBuckets {
    /** Micrometer's boundaries, increasing, as exported. */
    private final double[] bounds;
    /** For {@code bounds[k]}: the last bucket of {@link #layout} whose values are at or below it. */
    private final int[] lastBucket;
    private final BucketLayout layout;

    private MicrometerBuckets(double[] bounds, int[] lastBucket, BucketLayout layout) {
        this.bounds = bounds;
        this.lastBucket = lastBucket;
        this.layout = layout;
    }

    /**
     * The buckets for a timer's boundaries (nanoseconds).
     *
     * @param boundaries what {@code getHistogramBuckets} returned: positive, increasing; may be empty
     * @return the buckets (with no boundaries: one bucket for everything, and no counts exported)
     * @throws IllegalArgumentException for a boundary below 0 or at or above 2^62
     */
    static MicrometerBuckets of(NavigableSet<Double> boundaries) {
        for (double d : boundaries) {
            if (!(d >= 0) || d >= 0x1p62) {
                throw new IllegalArgumentException("histogram boundary out of rseq4j's range (0 to 2^62): " + d);
            }
        }
        return of(boundaries, 0x1p62);
    }

    /**
     * The buckets for Micrometer's boundaries, for a series that only gets values below {@code seriesLimit}.
     *
     * @param boundaries  what {@code getHistogramBuckets} returned: non-negative, increasing; may be empty
     * @param seriesLimit every value recorded into the series is below it (at most 2^62)
     * @return the buckets (with no boundaries: one bucket for everything, and no counts exported)
     * @throws IllegalArgumentException for a negative or NaN boundary
     */
    static MicrometerBuckets of(NavigableSet<Double> boundaries, double seriesLimit) {
        double[] b = new double[boundaries.size()];
        int n = 0;
        for (double d : boundaries) {
            if (!(d >= 0)) {
                throw new IllegalArgumentException("histogram boundary below 0: " + d);
            }
            b[n++] = d;
        }
        long[] floors = new long[n];
        int[] last = new int[n];
        int distinct = 0;
        int high = 0;
        for (int k = 0; k < n; k++) {
            if (b[k] >= seriesLimit) {
                high++;
                continue;
            }
            long f = (long) Math.floor(b[k]);
            if (distinct == 0 || floors[distinct - 1] != f) {
                floors[distinct++] = f;
            }
            last[k] = distinct - 1;
        }
        BucketLayout layout = distinct == 0 ? BucketLayout.explicit(0) : BucketLayout.explicit(Arrays.copyOf(floors, distinct));
        for (int k = n - high; k < n; k++) {
            last[k] = layout.bucketCount() - 1;   // at or above every value of the series: all its buckets
        }
        return new MicrometerBuckets(b, last, layout);
    }

    /**
     * The rseq4j buckets to record into.
     *
     * @return an explicit layout with one bound per distinct floor of Micrometer's boundaries
     */
    BucketLayout layout() {
        return layout;
    }

    /**
     * Where Micrometer's fixed-boundary histogram counts {@code amount}: the index of the first
     * boundary at or above {@code (double) (long) Math.ceil(amount)}, or the number of boundaries
     * when none is (then only the count and the {@code +Inf} bucket hold it).
     *
     * @param amount a non-negative amount, as recorded
     * @return the boundary's index, 0 to the number of boundaries
     */
    int boundaryIndex(double amount) {
        double v = (double) (long) Math.ceil(amount);
        int lo = 0, hi = bounds.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (bounds[mid] < v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /**
     * The number of Micrometer's boundaries.
     *
     * @return how many boundaries are exported (0 without a published histogram)
     */
    int boundaryCount() {
        return bounds.length;
    }

    /**
     * Micrometer's cumulative counts: for each boundary, the records at or below it.
     *
     * @param perBucket   the records in each bucket of {@link #layout()} (not cumulative)
     * @param perBoundary records that did not go through the series, by {@link #boundaryIndex}
     *                    ({@link #boundaryCount()} + 1 entries), or null for none
     * @return one {@link CountAtBucket} per boundary, in order (empty when there are none)
     */
    CountAtBucket[] cumulative(long[] perBucket, long[] perBoundary) {
        CountAtBucket[] out = new CountAtBucket[bounds.length];
        long running = 0;
        int done = 0;
        for (int k = 0; k < bounds.length; k++) {
            while (done <= lastBucket[k]) {
                running += perBucket[done++];
            }
            if (perBoundary != null) {
                running += perBoundary[k];
            }
            out[k] = new CountAtBucket(bounds[k], running);
        }
        return out;
    }
}
