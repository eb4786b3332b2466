package io.github.rseq4j.bench;

import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuItem;
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
 * One shared counter, incremented by every benchmark thread: rseq4j's per-CPU add
 * ({@link PerCpuItem#add}: one rseq critical section through a critical downcall, no
 * atomic instruction) and {@link PerCpuCounter#increment()} (the same critical section
 * behind the LongAdder-shaped API), {@code AtomicLong.getAndIncrement()} ({@code lock xadd} on one
 * shared cache line) and {@code LongAdder.increment()} (CAS on a base, then on padded
 * per-thread-hash cells once it has seen contention).
 *
 * <p>The thread counts are nested subclasses, so one run covers them all and the names
 * say which is which: {@code CounterBenchmark.T1}, {@code .T2}, {@code .T8} (platform
 * threads; 8 threads on a 2-core machine means time-slicing, so preemption aborts the
 * rseq sections now and then), and {@code .Virtual1}, {@code .Virtual2}: the JMH worker
 * threads are virtual threads ({@code -Djmh.executor=VIRTUAL}, JMH 1.37+). Virtual threads
 * are not time-sliced: with more of them than carriers (2 here), the ones that got a
 * carrier run the whole iteration while the rest wait, so JMH's per-thread times would
 * be meaningless. That is why the virtual variants stop at the carrier count; the CLI
 * bench ({@code ./rseq4j bench}) measures 8 virtual threads with fixed per-thread work
 * instead.
 *
 * <p>The workloads are the bench command's counter topic ({@link Suites}): each
 * {@code @Benchmark} runs that topic's loop for {@value #OPS} operations (see
 * {@link WorkloadState}), and each trial checks the counter's final sum against the
 * operations of all threads. {@code unsharedAtomic} is the topic's control row.
 *
 * <p>Mode: average time per operation of each thread (JMH's avgt, averaged over threads).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public abstract class CounterBenchmark {

    static final int OPS = 1024;

    public static class RseqAdd extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.rseqAdd();
        }
    }

    public static class RseqCounter extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.rseqCounter();
        }
    }

    public static class AtomicLongCounter extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.atomicLong();
        }
    }

    public static class LongAdderCounter extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.longAdder();
        }
    }

    public static class UnsharedAtomic extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.unsharedAtomic();
        }
    }

    /** rseq4j: add 1 to the calling CPU's copy ({@link PerCpuItem#add}). */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public long rseqAdd(RseqAdd w, ThreadParams t) {
        return w.run(t);
    }

    /** rseq4j: {@link PerCpuCounter#increment()}, the LongAdder drop-in (shared slabs). */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public long rseqCounter(RseqCounter w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long atomicLong(AtomicLongCounter w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long longAdder(LongAdderCounter w, ThreadParams t) {
        return w.run(t);
    }

    /** The control: an {@code AtomicLong} per thread on a cache line of its own (nothing shared). */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public long unsharedAtomic(UnsharedAtomic w, ThreadParams t) {
        return w.run(t);
    }

    /** One platform thread. */
    @Threads(1)
    public static class T1 extends CounterBenchmark {
    }

    /** Two platform threads (one per core here). */
    @Threads(2)
    public static class T2 extends CounterBenchmark {
    }

    /** Eight platform threads (oversubscribed on 2 cores). */
    @Threads(8)
    public static class T8 extends CounterBenchmark {
    }

    /** One virtual thread. */
    @Threads(1)
    @Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
            "-Djmh.executor=VIRTUAL"})
    public static class Virtual1 extends CounterBenchmark {
    }

    /** Two virtual threads (as many as carriers, so both always run). */
    @Threads(2)
    @Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
            "-Djmh.executor=VIRTUAL"})
    public static class Virtual2 extends CounterBenchmark {
    }
}
