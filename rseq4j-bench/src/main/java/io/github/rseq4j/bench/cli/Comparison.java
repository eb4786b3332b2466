package io.github.rseq4j.bench.cli;

import java.util.Locale;

/**
 * How an rseq4j row compares with the best alternative of its group, in a number and in
 * words. Pure: no measuring, no machine state.
 *
 * @param bestAlternative the name of the best (fastest, smallest) alternative
 * @param bestValue       its value (ns/op, bytes per counter or per series)
 * @param ratio           the rseq4j row's value / bestValue: above 1 the rseq4j row is
 *                        slower (larger), below 1 faster (smaller)
 * @param verdict         win, loss or same (within {@link #SAME_WITHIN})
 * @param metric          what was compared: time or bytes
 */
public record Comparison(String bestAlternative, double bestValue, double ratio, Verdict verdict, Metric metric) {

    /** Two values closer than this (the larger over the smaller, minus 1) are reported as the same. */
    public static final double SAME_WITHIN = 0.05;

    /** The outcome for the rseq4j row. */
    public enum Verdict {
        WIN("win"), LOSS("loss"), SAME("same");

        private final String label;

        Verdict(String label) {
            this.label = label;
        }

        /** As written in the JSON {@code verdict} field. */
        public String label() {
            return label;
        }
    }

    /** What a comparison is about; lower is better for both. */
    public enum Metric {
        TIME("faster", "slower", "ns/op"), BYTES("smaller", "larger", "bytes per counter"),
        BYTES_PER_SERIES("smaller", "larger", "bytes per series");

        private final String better;
        private final String worse;
        private final String unit;

        Metric(String better, String worse, String unit) {
            this.better = better;
            this.worse = worse;
            this.unit = unit;
        }

        public String better() {
            return better;
        }

        public String worse() {
            return worse;
        }

        public String unit() {
            return unit;
        }
    }

    /**
     * Compares {@code value} (an rseq4j row's) with {@code bestValue} (the best
     * alternative's); null when either is not a positive finite number.
     */
    public static Comparison of(double value, String bestAlternative, double bestValue, Metric metric) {
        if (!(value > 0) || !(bestValue > 0) || !Double.isFinite(value) || !Double.isFinite(bestValue)) {
            return null;
        }
        double ratio = value / bestValue;
        return new Comparison(bestAlternative, bestValue, ratio, verdict(ratio), metric);
    }

    /** The verdict for {@code ratio} = value / best value (lower is better). */
    public static Verdict verdict(double ratio) {
        if (!(ratio > 0) || !Double.isFinite(ratio)) {
            throw new IllegalArgumentException("ratio must be positive and finite: " + ratio);
        }
        double factor = ratio >= 1 ? ratio : 1 / ratio;
        if (factor <= 1 + SAME_WITHIN) {
            return Verdict.SAME;
        }
        return ratio > 1 ? Verdict.LOSS : Verdict.WIN;
    }

    /**
     * {@code ratio} in words: "2.9x slower", "1.8x faster", "same (within 5%)" (with
     * "larger", "smaller" for bytes). The factor is always at least 1: a row that takes
     * half the time is "2.0x faster", never "0.50x".
     */
    public static String words(double ratio, Metric metric) {
        return switch (verdict(ratio)) {
            case SAME -> String.format(Locale.ROOT, "same (within %.0f%%)", SAME_WITHIN * 100);
            case LOSS -> factor(ratio) + " " + metric.worse();
            case WIN -> factor(1 / ratio) + " " + metric.better();
        };
    }

    /** "1.06x", "2.9x", "14x": two decimals just above 1, where one would hide the difference. */
    static String factor(double f) {
        String format = f < 1.1 ? "%.2fx" : f < 10 ? "%.1fx" : "%,.0fx";
        return String.format(Locale.ROOT, format, f);
    }

    /** This comparison in words, e.g. "2.9x slower". */
    public String words() {
        return words(ratio, metric);
    }
}
