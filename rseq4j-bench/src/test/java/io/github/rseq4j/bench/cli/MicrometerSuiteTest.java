package io.github.rseq4j.bench.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The micrometer topic's rows: names, kinds, and that each row's timer counts every record. */
class MicrometerSuiteTest {

    @Test
    void rowsAreTheSameTimerThroughBothRegistries() {
        List<BenchCase> cases = Suites.cases(List.of(MicrometerSuite.TOPIC));
        assertEquals(6, cases.size());
        for (int t : MicrometerSuite.THREADS) {
            List<BenchCase> at = cases.stream().filter(c -> c.threads() == t).toList();
            assertEquals(List.of(MicrometerSuite.RSEQ4J, MicrometerSuite.MICROMETER), at.stream().map(BenchCase::name).toList());
            assertEquals(RowKind.RSEQ4J, at.get(0).kind());
            assertEquals(RowKind.ALTERNATIVE, at.get(1).kind());
            assertTrue(at.get(1).reference());
        }
    }

    @Test
    void everyRowCountsEveryRecord() throws Exception {
        for (BenchCase c : Suites.cases(List.of(MicrometerSuite.TOPIC)).subList(0, 2)) {
            Workload w = c.workload().get();
            HistogramSuiteTest.runOnThreads(w, 3, loop -> loop.run(5_000));
            assertEquals("ok", w.check(15_000), c.name());
            assertEquals("ok", w.check(15_000), c.name() + ", read again");
            assertTrue(!w.check(15_001).equals("ok"), c.name() + ": a wrong total is reported");
            assertTrue(w.note().contains("snapshot "), w.note());
        }
    }
}
