package io.github.rseq4j.stress;

import io.github.rseq4j.internal.structures.HistogramEngine;

/**
 * What the histogram and series scenarios record, and how they check an interval: values
 * 0..{@value #HIGHEST} in log-linear buckets of precision {@value #PRECISION}, one bucket per
 * value, so an interval's buckets determine its records exactly.
 */
final class HistogramRecipe {
    /** Values 0..HIGHEST have buckets of their own. */
    static final int HIGHEST = 127, PRECISION = 6;

    private HistogramRecipe() {
    }

    /** Where a worker's records go. */
    interface Target {
        void record(long value);

        void record(long value, long n);
    }

    /**
     * Records repetition {@code rep} of {@code worker} into {@code target}: in turn
     * {@code record(v, n)} with n from 2 to 5, a negative value (clamped to 0), a value above
     * {@value #HIGHEST} (clamped to it) and plain values; tallies per bucket in {@code tally}
     * only once the record returned.
     *
     * @return 1 when the value was clamped, else 0
     */
    static int record(Target target, long rep, int worker, long[] tally) {
        switch ((int) ((rep + worker) % 16)) {
            case 0 -> {
                int v = (int) ((rep * 31 + worker) % (HIGHEST + 1));
                long n = 2 + rep % 4;
                target.record(v, n);
                tally[v] += n;
                return 0;
            }
            case 1 -> {
                target.record(-1 - rep);
                tally[0]++;
                return 1;
            }
            case 2 -> {
                target.record(HIGHEST + 1 + rep);
                tally[HIGHEST]++;
                return 1;
            }
            default -> {
                int v = (int) ((rep * 7 + worker) % (HIGHEST + 1));
                target.record(v);
                tally[v]++;
                return 0;
            }
        }
    }

    /**
     * Adds interval {@code t}'s bucket counts to {@code collected} and checks it whole: the
     * count equals the sum of the bucket counts, the sum the sum of value x count, min and max
     * the lowest and highest non-empty buckets (0 and 0 when empty).
     *
     * @return null when whole, else what is wrong
     */
    static String addWhole(HistogramEngine.Totals t, long[] collected) {
        long inBuckets = 0, fromBuckets = 0;
        int lowest = -1, highest = -1;
        long[] c = t.bucketCounts();
        for (int v = 0; v <= HIGHEST; v++) {
            inBuckets += c[v];
            fromBuckets += c[v] * v;
            collected[v] += c[v];
            if (c[v] != 0) {
                highest = v;
                if (lowest < 0) {
                    lowest = v;
                }
            }
        }
        boolean whole = t.count() == inBuckets && t.sum() == fromBuckets
                && (t.count() == 0 ? t.min() == 0 && t.max() == 0 : t.min() == lowest && t.max() == highest);
        return whole ? null : "count " + t.count() + " (buckets " + inBuckets + "), sum " + t.sum() + " (buckets "
                + fromBuckets + "), min " + t.min() + " max " + t.max() + " (buckets " + lowest + ".." + highest + ")";
    }
}
