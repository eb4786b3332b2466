package io.github.rseq4j;

import io.github.rseq4j.internal.structures.HistogramEngine;

import java.util.Objects;

/**
 * An immutable, exact snapshot of a {@link PerCpuHistogram}: the count equals the sum of the
 * bucket counts, and the sum, min and max belong to the same records.
 */
public final class HistogramCounts {
    private final BucketLayout buckets;
    private final long count, sum, min, max, clamped;
    private final long[] counts;

    HistogramCounts(BucketLayout buckets, HistogramEngine.Totals t) {
        this.buckets = buckets;
        this.count = t.count();
        this.sum = t.sum();
        this.min = t.min();
        this.max = t.max();
        this.clamped = t.clamped();
        this.counts = t.bucketCounts();
    }

    /** Receives the buckets of a snapshot, in increasing order of values. */
    @FunctionalInterface
    public interface BucketVisitor {
        /**
         * One bucket.
         *
         * @param lowerBound smallest value of the bucket
         * @param upperBound largest value of the bucket, inclusive ({@link Long#MAX_VALUE} for an unbounded last bucket)
         * @param count      records in the bucket
         */
        void bucket(long lowerBound, long upperBound, long count);
    }

    /**
     * The histogram's bucket layout: each bucket's bounds, as given for export
     * ({@link BucketLayout#upperBound(int, long)}), and for an exponential layout its scale
     * and each bucket's exponential index.
     *
     * @return the layout of the histogram this snapshot was taken of
     */
    public BucketLayout layout() {
        return buckets;
    }

    /**
     * Records in the snapshot.
     *
     * @return how many values were recorded, the sum of the bucket counts
     */
    public long count() {
        return count;
    }

    /**
     * Sum of the recorded values (each clamped as recorded).
     *
     * @return the total of the values, wrapping around on overflow as {@code long} arithmetic does
     */
    public long sum() {
        return sum;
    }

    /**
     * Smallest recorded value, or 0 when empty.
     *
     * @return the minimum of the (clamped) values, or 0
     */
    public long min() {
        return min;
    }

    /**
     * Largest recorded value, or 0 when empty.
     *
     * @return the maximum of the (clamped) values, or 0
     */
    public long max() {
        return max;
    }

    /**
     * Mean of the recorded values, or 0 when empty.
     *
     * @return {@link #sum()} divided by {@link #count()}, or 0
     */
    public double mean() {
        return count == 0 ? 0 : (double) sum / count;
    }

    /**
     * Records whose value was out of range and clamped (negative, or above the highest trackable value).
     *
     * @return how many of the records were clamped; they are included in {@link #count()}
     */
    public long clamped() {
        return clamped;
    }

    /**
     * Number of buckets.
     *
     * @return how many buckets the histogram has, empty ones included
     */
    public int bucketCount() {
        return counts.length;
    }

    /**
     * Records in bucket {@code i}.
     *
     * @param i the bucket's index, from 0 to {@link #bucketCount()} - 1
     * @return how many records fell in that bucket
     * @throws IndexOutOfBoundsException when {@code i} is not a bucket index
     */
    public long recordsInBucket(int i) {
        Objects.checkIndex(i, counts.length);
        return counts[i];
    }

    /**
     * Smallest value of bucket {@code i}.
     *
     * @param i the bucket's index, from 0 to {@link #bucketCount()} - 1
     * @return the bucket's inclusive lower bound
     * @throws IndexOutOfBoundsException when {@code i} is not a bucket index
     */
    public long bucketLowerBound(int i) {
        Objects.checkIndex(i, counts.length);
        return buckets.lowerBound(i);
    }

    /**
     * Largest value of bucket {@code i}, inclusive ({@link Long#MAX_VALUE} for an unbounded last bucket).
     *
     * @param i the bucket's index, from 0 to {@link #bucketCount()} - 1
     * @return the bucket's inclusive upper bound
     * @throws IndexOutOfBoundsException when {@code i} is not a bucket index
     */
    public long bucketUpperBound(int i) {
        Objects.checkIndex(i, counts.length);
        return buckets.upperBound(i);
    }

    /**
     * Visits every bucket, empty ones included, in increasing order of values.
     *
     * @param visitor called once per bucket with its bounds and count
     */
    public void forEachBucket(BucketVisitor visitor) {
        Objects.requireNonNull(visitor, "visitor");
        for (int i = 0; i < counts.length; i++) {
            visitor.bucket(buckets.lowerBound(i), buckets.upperBound(i), counts[i]);
        }
    }

    /**
     * The value at {@code quantile}, a fraction of the records from 0 to 1 (0.99 for the 99th
     * percentile; the scale of Prometheus's quantiles and of Micrometer's percentiles, and of
     * every rseq4j API that takes one): the upper bound of the bucket that holds the record of
     * that rank, capped at {@link #max()} (and at least {@link #min()}); the minimum for 0; 0
     * when empty.
     *
     * @param quantile the rank as a fraction of the records, 0 to 1 (for example 0.999)
     * @return the value at that rank, to the precision of the buckets
     * @throws IllegalArgumentException for a quantile outside [0, 1], such as a percentage (99)
     */
    public long valueAtQuantile(double quantile) {
        if (!(quantile >= 0 && quantile <= 1)) {
            throw new IllegalArgumentException("quantile must be 0 to 1 (0.99 for the 99th percentile): " + quantile);
        }
        if (count == 0) {
            return 0;
        }
        if (quantile == 0) {
            return min;
        }
        long rank = Math.max(1, (long) Math.ceil(quantile * count));
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return Math.max(min, Math.min(max, buckets.upperBound(i)));
            }
        }
        return max;
    }

    @Override
    public String toString() {
        return "HistogramCounts[count=" + count + ", sum=" + sum + ", min=" + min + ", max=" + max
                + (count == 0 ? "" : ", p50=" + valueAtQuantile(0.5) + ", p99=" + valueAtQuantile(0.99))
                + (clamped == 0 ? "" : ", clamped=" + clamped) + "]";
    }
}
