package io.github.rseq4j.bench;

import io.github.rseq4j.PerCpuBufferPool;
import io.github.rseq4j.Lease;
import io.github.rseq4j.PerCpuPool;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Queue;
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
 * <p>Threads: nested classes {@code PoolBenchmark.T1} and {@code .T2}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public abstract class PoolBenchmark {

    static final int CAPACITY = 1024;
    static final int BUFFER_SIZE = 4096;

    /**
     * What the object pools hand out: a mutable object the size of a cache line, touched
     * once per use. The padding matters: the collector packs small objects side by side, so
     * with a 16-byte object two threads on two CPUs holding neighbouring objects write one
     * cache line (that made this row's 2- and 8-thread figures jump by 2x from run to run,
     * in the pools and the queues alike). Real pooled objects (builders, buffers, parsers)
     * are larger than a line anyway.
     */
    public static final class Pooled {
        long uses;
        long p1, p2, p3, p4, p5, p6, p7;
    }

    @State(Scope.Benchmark)
    public static class Objects {
        PerCpuPool<Pooled> perCpu;
        Queue<Pooled> abq;
        Queue<Pooled> clq;

        @Setup(Level.Trial)
        public void setup() {
            perCpu = new PerCpuPool<>(Pooled::new, CAPACITY);
            abq = new ArrayBlockingQueue<>(CAPACITY);
            clq = new ConcurrentLinkedQueue<>();
            for (int i = 0; i < 64; i++) {
                abq.offer(new Pooled());
                clq.offer(new Pooled());
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            perCpu.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Buffers {
        PerCpuBufferPool perCpu;
        Queue<MemorySegment> abq;
        Queue<MemorySegment> clq;
        Arena arena;

        @Setup(Level.Trial)
        public void setup() {
            perCpu = new PerCpuBufferPool(BUFFER_SIZE, CAPACITY);
            arena = Arena.ofShared();
            abq = new ArrayBlockingQueue<>(CAPACITY);
            clq = new ConcurrentLinkedQueue<>();
            MemorySegment block = arena.allocate(2L * 64 * BUFFER_SIZE, 4096);
            for (int i = 0; i < 64; i++) {
                abq.offer(block.asSlice((long) i * BUFFER_SIZE, BUFFER_SIZE));
                clq.offer(block.asSlice((long) (64 + i) * BUFFER_SIZE, BUFFER_SIZE));
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            perCpu.close();
            arena.close();
        }
    }

    private static Pooled orNew(Pooled p) {
        return p != null ? p : new Pooled();
    }

    @Benchmark
    public long perCpuPool(Objects s) {
        Pooled p = s.perCpu.acquire();
        long v = ++p.uses;
        s.perCpu.release(p);
        return v;
    }

    @Benchmark
    public long perCpuPoolLease(Objects s) {
        try (Lease<Pooled> lease = s.perCpu.lease()) {
            return ++lease.get().uses;
        }
    }

    @Benchmark
    public long arrayBlockingQueuePool(Objects s) {
        Pooled p = orNew(s.abq.poll());
        long v = ++p.uses;
        s.abq.offer(p);
        return v;
    }

    @Benchmark
    public long concurrentLinkedQueuePool(Objects s) {
        Pooled p = orNew(s.clq.poll());
        long v = ++p.uses;
        s.clq.offer(p);
        return v;
    }

    private static long touch(MemorySegment b) {
        long v = b.get(ValueLayout.JAVA_LONG, 0) + 1;
        b.set(ValueLayout.JAVA_LONG, 0, v);
        return v;
    }

    @Benchmark
    public long perCpuBufferPool(Buffers s) {
        MemorySegment b = s.perCpu.acquire();
        long v = touch(b);
        s.perCpu.release(b);
        return v;
    }

    @Benchmark
    public long arrayBlockingQueueBufferPool(Buffers s) {
        MemorySegment b = s.abq.poll();
        long v = touch(b);
        s.abq.offer(b);
        return v;
    }

    @Benchmark
    public long concurrentLinkedQueueBufferPool(Buffers s) {
        MemorySegment b = s.clq.poll();
        long v = touch(b);
        s.clq.offer(b);
        return v;
    }

    @Threads(1)
    public static class T1 extends PoolBenchmark {
    }

    @Threads(2)
    public static class T2 extends PoolBenchmark {
    }
}
