package io.github.rseq4j.bench.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Who is compared with whom: pure functions over synthetic rows (nothing is measured). */
class ComparisonsTest {

    private static BenchResult row(BenchCase c, double ns) {
        return row(c, ns, "ok");
    }

    private static BenchResult row(BenchCase c, double ns, String check) {
        Harness.Measurement m = Double.isNaN(ns) ? null : new Harness.Measurement(ns, ns, ns, ns / c.threads(),
                10_000, 3, 30_000);
        return BenchResult.measured(c, m, check, null);
    }

    private static BenchCase rseq(String name, int threads) {
        return BenchCase.rseq4j("counter", "counter", name, threads, false, null);
    }

    private static BenchCase alt(String name, int threads) {
        return BenchCase.alternative("counter", "counter", name, threads, false, null);
    }

    @Test
    void bestAlternativeIsTheFastestAlternativeNotTheReference() {
        BenchResult add = row(rseq("rseq4j add", 2), 3.0);
        BenchResult atomic = row(alt("AtomicLong", 2).asReference(), 40.0);
        BenchResult adder = row(alt("LongAdder", 2), 2.0);
        BenchResult control = row(BenchCase.control("counter", "counter", "unshared", 2, false, null), 1.0);
        List<BenchResult> group = List.of(add, atomic, adder, control);
        // the control row is faster still, and rseq4j too would be: neither is a candidate
        assertSame(adder, Comparisons.bestAlternative(group));
    }

    @Test
    void failedRowsAndFailedChecksAreNoCandidates() {
        BenchResult fast = row(alt("lost updates", 1), 1.0, "sum 9 != 10 operations");
        BenchResult failed = row(alt("failed", 1), Double.NaN);
        BenchResult slow = row(alt("slow", 1), 9.0);
        BenchResult noCheck = row(alt("no check", 1), 8.0, null);
        assertSame(noCheck, Comparisons.bestAlternative(List.of(fast, failed, slow, noCheck)));
        assertNull(Comparisons.bestAlternative(List.of(fast, failed)));
        assertNull(Comparisons.bestAlternative(List.of(row(rseq("only rseq4j", 1), 1.0))));
    }

    @Test
    void aTieGoesToTheEarlierRow() {
        BenchResult a = row(alt("a", 1), 5.0);
        BenchResult b = row(alt("b", 1), 5.0);
        assertSame(a, Comparisons.bestAlternative(List.of(a, b)));
    }

    @Test
    void eachThreadCountAndThreadKindHasItsOwnBest() {
        List<BenchResult> rows = List.of(
                row(rseq("rseq4j add", 1), 6.0),
                row(alt("AtomicLong", 1).asReference(), 5.0),
                row(alt("LongAdder", 1), 7.0),
                row(rseq("rseq4j add", 2), 6.0),
                row(alt("AtomicLong", 2).asReference(), 40.0),
                row(alt("LongAdder", 2), 12.0),
                row(BenchCase.rseq4j("counter", "counter", "rseq4j add", 2, true, null), 6.0),
                row(BenchCase.alternative("counter", "counter", "AtomicLong", 2, true, null).asReference(), 3.0));
        List<BenchResult> out = Comparisons.compare(rows);
        assertEquals(rows.size(), out.size());

        Comparison one = out.get(0).vsBest();
        assertEquals("AtomicLong", one.bestAlternative());
        assertEquals(1.2, one.ratio(), 1e-12);
        assertEquals("1.2x slower", one.words());

        Comparison two = out.get(3).vsBest();
        assertEquals("LongAdder", two.bestAlternative());
        assertEquals(0.5, two.ratio(), 1e-12);
        assertEquals("2.0x faster", two.words());

        Comparison virtual = out.get(6).vsBest();
        assertEquals("AtomicLong (virtual)", virtual.bestAlternative());
        assertEquals(Comparison.Verdict.LOSS, virtual.verdict());

        // the legacy ratio still divides by the fixed reference row
        assertEquals(6.0 / 40.0, out.get(3).ratio(), 1e-12);
        assertEquals("AtomicLong", out.get(3).baselineName());
        assertEquals(1.0, out.get(4).ratio(), 1e-12);

        // the alternatives are compared too (the best at 1), and know whether they are the best
        assertEquals(1.0, out.get(5).vsBest().ratio(), 1e-12);
        assertTrue(Comparisons.isBestAlternative(out.get(5)));
        assertFalse(Comparisons.isBestAlternative(out.get(4)));
        assertFalse(Comparisons.isBestAlternative(out.get(3)));
    }

    @Test
    void controlAndFailedRowsGetNoComparison() {
        List<BenchResult> out = Comparisons.compare(List.of(
                row(rseq("rseq4j add", 1), Double.NaN),
                row(alt("AtomicLong", 1), 5.0),
                row(BenchCase.control("counter", "counter", "unshared", 1, false, null), 1.0)));
        assertNull(out.get(0).vsBest());
        assertNull(out.get(2).vsBest());
        assertTrue(Double.isNaN(out.get(0).ratio()));
    }

    @Test
    void summaryHasALinePerGroupWithRseq4jRowsAndCountsVerdicts() {
        List<BenchResult> rows = Comparisons.compare(List.of(
                row(rseq("rseq4j add", 1), 6.0),
                row(rseq("rseq4j counter", 1), 5.1),
                row(alt("AtomicLong", 1), 5.0),
                row(rseq("rseq4j add", 2), 6.0),
                row(alt("LongAdder", 2), 12.0),
                row(BenchCase.rseq4j("cpu", "cpu", "Rseq.currentCpu()", 1, false, null), 1.0),
                // a group without rseq4j rows has no line
                row(BenchCase.alternative("ring", "ring write", "ConcurrentLinkedQueue", 1, false, null), 30.0)));
        Summary s = Comparisons.summarize(rows, List.of());
        assertEquals(3, s.lines().size());
        Summary.Line first = s.lines().get(0);
        assertEquals("counter", first.label());
        assertEquals("1 thread", first.threadsLabel());
        assertEquals("AtomicLong", first.bestAlternative());
        assertEquals(List.of("rseq4j add", "rseq4j counter"), first.entries().stream().map(Summary.Entry::name)
                .toList());
        Summary.Line cpu = s.lines().get(2);
        assertNull(cpu.bestAlternative());
        assertEquals(1, s.count(Comparison.Verdict.WIN));
        assertEquals(1, s.count(Comparison.Verdict.LOSS));
        assertEquals(1, s.count(Comparison.Verdict.SAME));
        assertEquals(1, s.notCompared());
    }

    @Test
    void memoryComparesTotalBytesWithTheSmallestAlternative() {
        List<MemorySuite.MemoryResult> mem = Comparisons.compareMemory(List.of(
                memory("AtomicLong", RowKind.ALTERNATIVE, 16, "ok"),
                memory("LongAdder", RowKind.ALTERNATIVE, 90, "ok"),
                memory("rseq4j counter", RowKind.RSEQ4J, 48, "ok")));
        Comparison c = mem.get(2).vsBest();
        assertEquals("AtomicLong", c.bestAlternative());
        assertEquals("3.0x larger", c.words());
        assertTrue(Comparisons.isBestAlternative(mem.get(0)));
        Summary s = Comparisons.summarize(List.of(), mem);
        assertEquals(1, s.lines().size());
        assertEquals("memory: bytes per counter", s.lines().get(0).label());
        assertEquals("", s.lines().get(0).threadsLabel());
        assertEquals(1, s.count(Comparison.Verdict.LOSS));
    }

    private static MemorySuite.MemoryResult memory(String name, RowKind kind, double total, String check) {
        return new MemorySuite.MemoryResult(name, MemorySuite.COUNTER, 1000, "hammered", 64, total, total, 0, total,
                List.of(), null, check, kind,
                null);
    }
}
