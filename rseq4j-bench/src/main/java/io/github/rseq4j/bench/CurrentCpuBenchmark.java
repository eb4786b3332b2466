package io.github.rseq4j.bench;

import io.github.rseq4j.Rseq;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
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
 * <p>Run: {@code java -jar benchmarks.jar CurrentCpuBenchmark}. Threads: {@code -t N}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Threads(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class CurrentCpuBenchmark {

    // static final: the JIT treats the handles as constants, as rseq4j does for its own.
    private static final MethodHandle SCHED_GETCPU = bind(false);
    private static final MethodHandle SCHED_GETCPU_CRITICAL = bind(true);

    @SuppressWarnings("restricted") // run with --enable-native-access
    private static MethodHandle bind(boolean critical) {
        Linker linker = Linker.nativeLinker();
        var symbol = linker.defaultLookup().find("sched_getcpu")
                .orElseThrow(() -> new UnsupportedOperationException("libc has no sched_getcpu"));
        FunctionDescriptor fd = FunctionDescriptor.of(ValueLayout.JAVA_INT);
        return critical
                ? linker.downcallHandle(symbol, fd, Linker.Option.critical(false))
                : linker.downcallHandle(symbol, fd);
    }

    @Setup
    public void setup() {
        if (Rseq.currentCpu() < 0) {
            throw new IllegalStateException("Rseq.currentCpu() failed");
        }
    }

    /** rseq4j: cpu_id from the rseq area (glibc's or rseq4j's own registration). */
    @Benchmark
    public int rseqCurrentCpu() {
        return Rseq.currentCpu();
    }

    /** libc sched_getcpu() through a normal FFM downcall. */
    @Benchmark
    public int schedGetcpu() throws Throwable {
        return (int) SCHED_GETCPU.invokeExact();
    }

    /** libc sched_getcpu() through a critical FFM downcall. */
    @Benchmark
    public int schedGetcpuCritical() throws Throwable {
        return (int) SCHED_GETCPU_CRITICAL.invokeExact();
    }
}
