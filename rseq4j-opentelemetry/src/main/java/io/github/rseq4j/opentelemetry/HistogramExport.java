package io.github.rseq4j.opentelemetry;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.HistogramCounts;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramBuckets;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.PointData;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How the snapshots of histograms of one {@link BucketLayout} become OpenTelemetry
 * histogram points, in an exported unit of {@code divisor} recorded values (1, or 10^9 for
 * timers exported in seconds). Everything that reads a {@link HistogramCounts} for export
 * is here.
 *
 * <p><b>Implementation notes.</b>
 * <ul>
 * <li><b>Exponential layouts</b> ({@link BucketLayout#exponential},
 * {@link BucketLayout#exponentialSeconds}) become exponential histograms of the same
 * scale: the layout's bucket {@code k >= 1} holds {@code base^(e-1) < x <= base^e} with
 * {@code e = exponentialIndex(k)}, which is OpenTelemetry's bucket {@code e - 1}
 * ({@code (base^i, base^(i+1)]}), so counts are carried over as they are; the positive
 * buckets' offset is the index of the first non-empty bucket and the list runs to the
 * last non-empty one. The boundaries must be powers of the base in the exported unit
 * ({@link BucketLayout#boundUnit()} equal to {@code divisor}), and the layout's zero
 * bucket must hold only 0 (its first exponential bucket starts at 1 recorded unit):
 * OpenTelemetry's zero bucket holds exactly 0 (the SDK's data model has no zero
 * threshold), so a layout that counts small values in its zero bucket would be exported
 * as if they were 0. Both are checked when the metric is defined.</li>
 * <li><b>Other layouts</b> become explicit-bucket histograms with one bucket per bucket of
 * the layout: boundary {@code i} is bucket {@code i}'s upper bound as the layout gives it
 * in the exported unit ({@link BucketLayout#upperBound(int, long)}), inclusive like
 * OpenTelemetry's; the layout's last bucket is the overflow bucket. Buckets whose bounds
 * are the same double (buckets without an integer of their own) are merged, since
 * boundaries must increase.</li>
 * </ul>
 * Sum, min and max are the snapshot's, divided by the unit; min and max are present when
 * the snapshot has records.
 */
final class HistogramExport {
    private final BucketLayout layout;
    private final long divisor;
    private final boolean exponential;
    /** Explicit layouts: the boundaries, and for each rseq4j bucket the exported bucket it is counted in. */
    private final List<Double> boundaries;
    private final int[] target;

    private HistogramExport(BucketLayout layout, long divisor, boolean exponential, List<Double> boundaries,
                            int[] target) {
        this.layout = layout;
        this.divisor = divisor;
        this.exponential = exponential;
        this.boundaries = boundaries;
        this.target = target;
    }

    /**
     * The export of histograms laid out like {@code layout}, in units of {@code divisor} recorded values.
     *
     * @throws IllegalArgumentException for an exponential layout whose boundaries are not in
     *                                  the exported unit, or whose zero bucket holds more than 0
     */
    static HistogramExport of(BucketLayout layout, long divisor) {
        if (layout.isExponential()) {
            if (layout.boundUnit() != divisor) {
                throw new IllegalArgumentException(divisor == BucketLayout.NANOS_PER_SECOND
                        ? "a timer is exported in seconds: an exponential layout's boundaries must be powers of the"
                        + " base in seconds (BucketLayout.exponentialSeconds), not " + layout
                        : "a histogram is exported in its own unit: an exponential layout's boundaries must be powers"
                        + " of the base in that unit (BucketLayout.exponential), not " + layout);
            }
            if (layout.bucketCount() < 2 || layout.lowerBound(1) != 1) {
                throw new IllegalArgumentException("OpenTelemetry's zero bucket holds only 0, but the zero bucket of "
                        + layout + " holds every value up to " + layout.upperBound(0)
                        + ": give the layout a lowest value of 1 (1 ns for exponentialSeconds)");
            }
            return new HistogramExport(layout, divisor, true, null, null);
        }
        int n = layout.bucketCount();
        List<Double> bounds = new ArrayList<>();
        int[] target = new int[n];
        for (int i = 0; i < n - 1; i++) {
            double b = layout.upperBound(i, divisor);
            if (bounds.isEmpty() || b > bounds.get(bounds.size() - 1)) {
                bounds.add(b);
            }
            target[i] = bounds.size() - 1;
        }
        target[n - 1] = bounds.size();       // the overflow bucket
        return new HistogramExport(layout, divisor, false, List.copyOf(bounds), target);
    }

    /** Whether the points are exponential-histogram points (else explicit-bucket ones). */
    boolean exponential() {
        return exponential;
    }

    /** The layout this export was made for. */
    BucketLayout layout() {
        return layout;
    }

    /** The point of one snapshot. */
    PointData point(HistogramCounts s, long startEpochNanos, long epochNanos, Attributes attributes) {
        double sum = toUnit(s.sum());
        boolean any = s.count() > 0;
        double min = any ? toUnit(s.min()) : 0, max = any ? toUnit(s.max()) : 0;
        if (!exponential) {
            long[] counts = new long[boundaries.size() + 1];
            for (int i = 0; i < target.length; i++) {
                counts[target[i]] += s.recordsInBucket(i);
            }
            List<Long> c = new ArrayList<>(counts.length);
            for (long x : counts) {
                c.add(x);
            }
            return HistogramPointData.create(startEpochNanos, epochNanos, attributes, sum, any, min, any, max,
                    boundaries, c);
        }
        int n = s.bucketCount();
        int first = 1, last = n - 1;
        while (first <= last && s.recordsInBucket(first) == 0) {
            first++;
        }
        while (last >= first && s.recordsInBucket(last) == 0) {
            last--;
        }
        int scale = layout.scale();
        ExponentialHistogramBuckets positive;
        if (first > last) {
            positive = ExponentialHistogramBuckets.create(scale, 0, List.of());
        } else {
            Long[] c = new Long[last - first + 1];
            for (int k = first; k <= last; k++) {
                c[k - first] = s.recordsInBucket(k);
            }
            positive = ExponentialHistogramBuckets.create(scale, layout.exponentialIndex(first) - 1, Arrays.asList(c));
        }
        return ExponentialHistogramPointData.create(scale, sum, s.recordsInBucket(0), any, min, any, max, positive,
                ExponentialHistogramBuckets.create(scale, 0, List.of()), startEpochNanos, epochNanos, attributes,
                List.of());
    }

    private double toUnit(long v) {
        return divisor == 1 ? (double) v : (double) v / divisor;
    }
}
