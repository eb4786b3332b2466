package io.github.rseq4j.bench;

import io.github.rseq4j.Rseq;
import io.github.rseq4j.bench.cli.Suites;
import io.github.rseq4j.bench.cli.Workload;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

import java.util.concurrent.TimeUnit;

/**
 * "Which CPU am I on?": {@link Rseq#currentCpu()} (reads {@code cpu_id} from the thread's
 * rseq area inside one generated function, through a critical downcall) against libc's
 * {@code sched_getcpu()} bound here through FFM twice: as a normal downcall (thread state
 * transition to native and back) and as a critical downcall ({@code Linker.Option.critical},
 * no transition). glibc 2.35+ answers {@code sched_getcpu()} from the rseq area too, so the
 * difference between the last two is the FFM call path, and between the first and the
 * critical one, what rseq4j's generated code costs over a plain libc function.
 *
 * <p>The workloads are the bench command's cpu topic ({@link Suites}, the handles in its
 * {@code NativeCpu}): each {@code @Benchmark} runs that topic's loop for {@value #OPS} calls
 * (see {@link WorkloadState}).
 *
 * <p>Run: {@code java -jar benchmarks.jar CurrentCpuBenchmark}. Threads: {@code -t N}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Threads(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class CurrentCpuBenchmark {

    static final int OPS = 1024;

    public static class CurrentCpu extends WorkloadState {
        @Override
        protected Workload create() {
            if (Rseq.currentCpu() < 0) {
                throw new IllegalStateException("Rseq.currentCpu() failed");
            }
            return Suites.currentCpu();
        }
    }

    public static class SchedGetcpu extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.schedGetcpu();
        }
    }

    public static class SchedGetcpuCritical extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.schedGetcpuCritical();
        }
    }

    /** rseq4j: cpu_id from the rseq area (glibc's or rseq4j's own registration). */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public long rseqCurrentCpu(CurrentCpu w, ThreadParams t) {
        return w.run(t);
    }

    /** libc sched_getcpu() through a normal FFM downcall. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public long schedGetcpu(SchedGetcpu w, ThreadParams t) {
        return w.run(t);
    }

    /** libc sched_getcpu() through a critical FFM downcall. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public long schedGetcpuCritical(SchedGetcpuCritical w, ThreadParams t) {
        return w.run(t);
    }
}
