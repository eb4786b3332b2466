package io.github.rseq4j.bench;

import io.github.rseq4j.PerCpuBufferPool;
import io.github.rseq4j.PerCpuPool;
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

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * Acquire + use + release, one operation: rseq4j's {@link PerCpuPool} (per-CPU caches of
 * free objects, critical sections, no thread-local state) and {@link PerCpuBufferPool}
 * (4 KiB off-heap buffers) against the obvious JDK pools: {@code poll()}/{@code offer()}
 * on an {@link ArrayBlockingQueue} (one lock) and on a {@link ConcurrentLinkedQueue}
 * (lock-free, allocates a node per offer). Every pool holds far more objects than there
 * are threads, so none runs dry; each use touches the object (one increment, or one word
 * of the buffer), the same for all.
 *
 * <p>The workloads are the bench command's pool topic ({@link Suites}: the pooled object,
 * a cache line, and the capacity, {@value Suites#POOL_CAPACITY}): each {@code @Benchmark}
 * runs that topic's loop for {@value #OPS} operations (see {@link WorkloadState}).
 * {@code listPool} is the topic's {@code PerCpuList} pop + push.
 *
 * <p>Threads: nested classes {@code PoolBenchmark.T1}, {@code .T2} and {@code .T8}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public abstract class PoolBenchmark {

    static final int OPS = 1024;

    public static class PerCpuPoolObjects extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.perCpuPool();
        }
    }

    public static class PerCpuPoolLease extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.perCpuPoolLease();
        }
    }

    public static class ListPool extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.listPool();
        }
    }

    public static class ArrayBlockingQueuePool extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.queuePool(new ArrayBlockingQueue<>(Suites.POOL_CAPACITY));
        }
    }

    public static class ConcurrentLinkedQueuePool extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.queuePool(new ConcurrentLinkedQueue<>());
        }
    }

    public static class PerCpuBufferPoolBuffers extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.perCpuBufferPool();
        }
    }

    public static class ArrayBlockingQueueBufferPool extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.bufferQueuePool(new ArrayBlockingQueue<>(Suites.POOL_CAPACITY));
        }
    }

    public static class ConcurrentLinkedQueueBufferPool extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.bufferQueuePool(new ConcurrentLinkedQueue<>());
        }
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long perCpuPool(PerCpuPoolObjects w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long perCpuPoolLease(PerCpuPoolLease w, ThreadParams t) {
        return w.run(t);
    }

    /** rseq4j's pools' primitive: pop a node from the calling CPU's list, touch it, push it back. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public long listPool(ListPool w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long arrayBlockingQueuePool(ArrayBlockingQueuePool w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long concurrentLinkedQueuePool(ConcurrentLinkedQueuePool w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long perCpuBufferPool(PerCpuBufferPoolBuffers w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long arrayBlockingQueueBufferPool(ArrayBlockingQueueBufferPool w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long concurrentLinkedQueueBufferPool(ConcurrentLinkedQueueBufferPool w, ThreadParams t) {
        return w.run(t);
    }

    @Threads(1)
    public static class T1 extends PoolBenchmark {
    }

    @Threads(2)
    public static class T2 extends PoolBenchmark {
    }

    @Threads(8)
    public static class T8 extends PoolBenchmark {
    }
}
