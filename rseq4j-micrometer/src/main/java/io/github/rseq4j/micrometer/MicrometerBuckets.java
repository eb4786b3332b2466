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
 * <p>Recorded values are whole numbers (nanoseconds for a timer), and Micrometer counts a
 * value in the first bucket whose boundary is at or above it; a whole value {@code v} is at
 * or below a boundary {@code b} exactly when {@code v <= floor(b)}, so the layout's bound for
 * {@code b} is {@code floor(b)}. Boundaries with the same floor share one rseq4j bucket (no
 * whole value lies between them) and export the same cumulative count, as Micrometer's do.
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
     * The buckets for Micrometer's boundaries.
     *
     * @param boundaries what {@code getHistogramBuckets} returned: positive, increasing; may be empty
     * @return the buckets (with no boundaries: one bucket for everything, and no counts exported)
     */
    static MicrometerBuckets of(NavigableSet<Double> boundaries) {
        double[] b = new double[boundaries.size()];
        int n = 0;
        for (double d : boundaries) {
            if (!(d >= 0) || d >= 0x1p62) {
                throw new IllegalArgumentException("histogram boundary out of rseq4j's range (0 to 2^62): " + d);
            }
            b[n++] = d;
        }
        long[] floors = new long[n];
        int[] last = new int[n];
        int distinct = 0;
        for (int k = 0; k < n; k++) {
            long f = (long) Math.floor(b[k]);
            if (distinct == 0 || floors[distinct - 1] != f) {
                floors[distinct++] = f;
            }
            last[k] = distinct - 1;
        }
        BucketLayout layout = distinct == 0 ? BucketLayout.explicit(0) : BucketLayout.explicit(Arrays.copyOf(floors, distinct));
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
     * Micrometer's cumulative counts: for each boundary, the records at or below it.
     *
     * @param perBucket the records in each bucket of {@link #layout()} (not cumulative)
     * @return one {@link CountAtBucket} per boundary, in order (empty when there are none)
     */
    CountAtBucket[] cumulative(long[] perBucket) {
        CountAtBucket[] out = new CountAtBucket[bounds.length];
        long running = 0;
        int done = 0;
        for (int k = 0; k < bounds.length; k++) {
            while (done <= lastBucket[k]) {
                running += perBucket[done++];
            }
            out[k] = new CountAtBucket(bounds[k], running);
        }
        return out;
    }
}
