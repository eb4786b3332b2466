package io.github.rseq4j.bench.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The verdict and its words: pure functions. */
class ComparisonTest {

    private static String time(double ratio) {
        return Comparison.words(ratio, Comparison.Metric.TIME);
    }

    @Test
    void slowerIsALossAndSaysHowManyTimesSlower() {
        // "7.00 ns (2.94x)" used to read like a win: it is 2.94 times the time of the best
        assertEquals(Comparison.Verdict.LOSS, Comparison.verdict(2.94));
        assertEquals("2.9x slower", time(2.94));
        assertEquals("14x slower", time(14.2));
        assertEquals("1,234x slower", time(1234));
    }

    @Test
    void fasterIsAWinAndSaysTheFactorNotAFraction() {
        assertEquals(Comparison.Verdict.WIN, Comparison.verdict(1 / 1.8));
        assertEquals("1.8x faster", time(1 / 1.8));
        assertEquals("2.0x faster", time(0.5));
        assertEquals("10x faster", time(0.1));
    }

    @Test
    void withinFivePercentEitherWayIsTheSame() {
        for (double r : new double[] {1.0, 1.05, 1.049, 1 / 1.05, 0.96}) {
            assertEquals(Comparison.Verdict.SAME, Comparison.verdict(r), "ratio " + r);
            assertEquals("same (within 5%)", time(r), "ratio " + r);
        }
        // just outside: two decimals, so that 1.06 does not read as 1.1
        assertEquals(Comparison.Verdict.LOSS, Comparison.verdict(1.06));
        assertEquals("1.06x slower", time(1.06));
        assertEquals(Comparison.Verdict.WIN, Comparison.verdict(1 / 1.06));
        assertEquals("1.06x faster", time(1 / 1.06));
    }

    @Test
    void bytesUseLargerAndSmaller() {
        assertEquals("3.0x larger", Comparison.words(3, Comparison.Metric.BYTES));
        assertEquals("4.0x smaller", Comparison.words(0.25, Comparison.Metric.BYTES));
    }

    @Test
    void ofComputesTheRatioAgainstTheBest() {
        Comparison c = Comparison.of(7.0, "LongAdder", 2.5, Comparison.Metric.TIME);
        assertEquals(2.8, c.ratio(), 1e-12);
        assertEquals("LongAdder", c.bestAlternative());
        assertEquals(2.5, c.bestValue());
        assertEquals(Comparison.Verdict.LOSS, c.verdict());
        assertEquals("2.8x slower", c.words());
    }

    @Test
    void noComparisonWithoutTwoPositiveFiniteValues() {
        assertNull(Comparison.of(Double.NaN, "x", 1, Comparison.Metric.TIME));
        assertNull(Comparison.of(1, "x", Double.NaN, Comparison.Metric.TIME));
        assertNull(Comparison.of(1, "x", 0, Comparison.Metric.TIME));
        assertNull(Comparison.of(-1, "x", 1, Comparison.Metric.TIME));
        assertNull(Comparison.of(Double.POSITIVE_INFINITY, "x", 1, Comparison.Metric.TIME));
        assertThrows(IllegalArgumentException.class, () -> Comparison.verdict(0));
        assertThrows(IllegalArgumentException.class, () -> Comparison.verdict(Double.NaN));
    }
}
