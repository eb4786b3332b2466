package io.github.rseq4j.bench;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.util.Collection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * JMH runs the bench command's workloads ({@link WorkloadState}): a short in-process run of
 * shared-state benchmarks at 2 threads, whose trials end with the workload's exact check
 * (the counter's sum, the histogram's count, the ring's consumed records against every
 * operation JMH ran, warm-up included); a lost or miscounted operation fails the run
 * ({@code shouldFailOnError}). Not a measurement.
 */
class WorkloadStateTest {

    @Test
    void jmhRunsTheSharedWorkloadsAndTheirChecksHold() throws Exception {
        Options options = new OptionsBuilder()
                .include("CounterBenchmark\\.T2\\.(rseqAdd|atomicLong)$")
                .include("HistogramBenchmark\\.T2\\.rseq4jHistogram$")
                .include("RingBufferBenchmark\\.T2\\.perCpuRingBuffer$")
                .forks(0)
                .warmupIterations(1)
                .warmupTime(TimeValue.milliseconds(100))
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(100))
                .shouldFailOnError(true)
                .build();
        Collection<RunResult> results = new Runner(options).run();
        assertEquals(4, results.size(), results::toString);
        for (RunResult r : results) {
            double score = r.getPrimaryResult().getScore();
            assertTrue(Double.isFinite(score) && score > 0, r.getParams().getBenchmark() + ": " + score);
            assertEquals(2, r.getParams().getThreads());
        }
    }
}
