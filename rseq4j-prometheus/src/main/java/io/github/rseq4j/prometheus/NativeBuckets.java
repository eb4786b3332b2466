package io.github.rseq4j.prometheus;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.HistogramCounts;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.NativeHistogramBuckets;

import java.util.Arrays;

/**
 * How the buckets of an exponential {@link BucketLayout} become the buckets of a Prometheus
 * native histogram, for one exported unit: the schema, the zero bucket and, for each
 * rseq4j bucket, the native bucket index it is counted in.
 *
 * <p><b>Implementation notes.</b> An exponential layout's bucket {@code i >= 1} is the
 * native bucket {@link BucketLayout#exponentialIndex(int)} of schema
 * {@link BucketLayout#scale()}: both hold {@code base^(index-1) < x <= base^index}, so the
 * counts are carried over as they are, never re-bucketed from values. Two things need care.
 * <ul>
 * <li><b>Unit.</b> The boundaries are powers of the base in the layout's bound unit
 * ({@link BucketLayout#boundUnit()}: 1, or 10^9 for the {@code exponentialSeconds} layouts
 * of nanoseconds). A native histogram's boundaries are powers of the base in the exported
 * unit, so the two units must be the same: a timer (exported in seconds) needs an
 * {@code exponentialSeconds} layout, a histogram (exported in its own unit) a plain
 * {@code exponential} one. Anything else is refused when the metric is defined.</li>
 * <li><b>Schema.</b> Prometheus accepts schemas -4 to 8; a layout of scale 9 to 20 is
 * exported at schema 8 by merging each run of {@code 2^(scale-8)} buckets: since every
 * boundary of the coarser schema is one of the finer one's, bucket {@code i} of scale
 * {@code s} lies wholly inside bucket {@code ceil(i / 2^(s-8))} of schema 8, so merging is
 * exact. Scales below -4 are refused (no schema is coarse enough to hold them).</li>
 * </ul>
 * The zero bucket (rseq4j bucket 0: 0, and everything below the first exponential bucket)
 * is the native zero bucket, with the layout's zero threshold {@code base^(first-1)}.
 * Values above the layout's highest value are clamped into its last bucket, as for every
 * rseq4j histogram.
 */
final class NativeBuckets {
    /** Prometheus' range of native-histogram schemas. */
    static final int MIN_SCHEMA = -4, MAX_SCHEMA = 8;

    private final int schema;
    private final double zeroThreshold;
    /** For rseq4j bucket {@code i >= 1}: {@code nativeIndex[i - 1]}, non-decreasing. */
    private final int[] nativeIndex;
    private final long divisor;

    private NativeBuckets(int schema, double zeroThreshold, int[] nativeIndex, long divisor) {
        this.schema = schema;
        this.zeroThreshold = zeroThreshold;
        this.nativeIndex = nativeIndex;
        this.divisor = divisor;
    }

    /**
     * The native buckets of histograms laid out like {@code layout}, exported in units of
     * {@code divisor} recorded values.
     *
     * @throws IllegalArgumentException when the layout is not exponential, its bound unit is
     *                                  not {@code divisor}, or its scale is below -4
     */
    static NativeBuckets of(BucketLayout layout, long divisor) {
        if (!layout.isExponential()) {
            throw new IllegalArgumentException("a native histogram needs an exponential layout"
                    + " (BucketLayout.exponential or exponentialSeconds), not " + layout);
        }
        if (layout.boundUnit() != divisor) {
            throw new IllegalArgumentException(divisor == BucketLayout.NANOS_PER_SECOND
                    ? "a timer is exported in seconds: its native buckets must be powers of the base in seconds"
                    + " (BucketLayout.exponentialSeconds), not " + layout
                    : "a histogram is exported in its own unit: its native buckets must be powers of the base in"
                    + " that unit (BucketLayout.exponential), not " + layout);
        }
        int scale = layout.scale();
        if (scale < MIN_SCHEMA) {
            throw new IllegalArgumentException("Prometheus native histograms have schemas " + MIN_SCHEMA + " to "
                    + MAX_SCHEMA + ": scale " + scale + " of " + layout + " is too coarse");
        }
        int schema = Math.min(scale, MAX_SCHEMA);
        int shift = scale - schema;
        int[] index = new int[layout.bucketCount() - 1];
        for (int i = 1; i < layout.bucketCount(); i++) {
            int e = layout.exponentialIndex(i);
            // ceil(e / 2^shift), for negative e too (an arithmetic shift is a floor)
            index[i - 1] = shift == 0 ? e : (int) (((long) e + (1L << shift) - 1) >> shift);
        }
        return new NativeBuckets(schema, layout.upperBound(0, divisor), index, divisor);
    }

    /** The native schema: the layout's scale, or 8 when it is finer. */
    int schema() {
        return schema;
    }

    /** Sets the native histogram of {@code s} (schema, zero bucket, positive buckets) on {@code b}. */
    HistogramDataPointSnapshot.Builder apply(HistogramCounts s, HistogramDataPointSnapshot.Builder b) {
        int[] indexes = new int[nativeIndex.length];
        long[] counts = new long[nativeIndex.length];
        int n = 0;
        for (int i = 0; i < nativeIndex.length; i++) {
            long c = s.recordsInBucket(i + 1);
            if (c == 0) {
                continue;
            }
            if (n > 0 && indexes[n - 1] == nativeIndex[i]) {
                counts[n - 1] += c;
            } else {
                indexes[n] = nativeIndex[i];
                counts[n++] = c;
            }
        }
        return b.nativeSchema(schema)
                .nativeZeroThreshold(zeroThreshold)
                .nativeZeroCount(s.recordsInBucket(0))
                .nativeBucketsForPositiveValues(NativeHistogramBuckets.of(Arrays.copyOf(indexes, n),
                        Arrays.copyOf(counts, n)))
                .nativeBucketsForNegativeValues(NativeHistogramBuckets.EMPTY)
                .sum(divisor == 1 ? (double) s.sum() : (double) s.sum() / divisor);
    }
}
