package io.github.rseq4j.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code rseq4j bench} without the rseq4j-bench module on the class path (this module's
 * tests, like its jar): a usage error that names the jar and the command to use instead.
 * The real command is tested in rseq4j-bench.
 */
class BenchNotHereCommandTest {

    @Test
    void benchSaysWhereTheBenchmarksAre() {
        for (String[] args : new String[][] {{"bench"}, {"bench", "--quick", "--only", "counter"}}) {
            Object[] r = DoctorCommandTest.run(args);
            String err = (String) r[2];
            assertEquals(2, r[0], err);
            assertEquals("", r[1]);
            assertTrue(err.startsWith("rseq4j bench: the benchmarks are not in this jar: run ./rseq4j bench"), err);
            assertTrue(err.contains("java -jar rseq4j-bench/target/rseq4j-bench.jar bench"), err);
        }
    }

    @Test
    void benchHelpSaysWhereTheBenchmarksAre() {
        Object[] r = DoctorCommandTest.run("bench", "--help");
        assertEquals(0, r[0]);
        assertTrue(((String) r[1]).contains("rseq4j-bench.jar"), (String) r[1]);
    }
}
