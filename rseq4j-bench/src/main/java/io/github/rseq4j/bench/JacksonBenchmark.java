package io.github.rseq4j.bench;

import io.github.rseq4j.bench.cli.JacksonSuite;
import io.github.rseq4j.bench.cli.Workload;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

import java.util.concurrent.TimeUnit;

/**
 * Jackson 2 with each recycler pool: a round trip ({@code ObjectMapper.writeValueAsBytes}
 * of a POJO, then {@code readValue} of the bytes) of a small (about 1 KB) and a large
 * (about 64 KB) document, and the pool alone ({@code acquirePooled} +
 * {@code releasePooled}, no JSON work). Pools ({@code @Param pool}): {@code rseq4j}
 * ({@code new Jackson2PerCpuRecyclerPool(8)}), Jackson's {@code ThreadLocal} (the 2.x
 * default), {@code ConcurrentDeque}, {@code LockFree}, {@code Bounded} (64),
 * {@code NonRecycling}, and Vert.x's {@code HybridJacksonPool} ({@code VertxHybrid}).
 *
 * <p>Scenarios: {@code roundTrip} and {@code poolOnly} on platform threads (nested classes
 * {@code T1}, {@code T2}, {@code T8}); {@code roundTripVirtual} and {@code poolOnlyVirtual}:
 * 8 virtual threads looping, {@value #VIRTUAL_OPS} operations each per invocation
 * ({@link WorkloadState#runOnVirtualThreads});
 * {@code roundTripPerTask}: {@value #TASKS} virtual threads that each do one small round
 * trip (score per task). Bytes per operation: run with {@code -prof gc}
 * ({@code gc.alloc.rate.norm}, which counts virtual threads through their carriers). The
 * peak number of pooled recyclers is in {@code ./rseq4j bench --only jackson}.
 *
 * <p>The workloads are the bench command's jackson topic ({@link JacksonSuite}: the same
 * documents, mappers, pools and loops, one loop per pool so that each stays monomorphic);
 * each {@code @Benchmark} runs the topic's loop (see {@link WorkloadState}), and each trial
 * checks that every document read back equal. One JVM per pool ({@code @Fork}), so the
 * pool's calls inside Jackson are monomorphic, as they are in an application that uses one
 * pool.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public abstract class JacksonBenchmark {
    static final int VIRTUAL_THREADS = 8;
    static final int VIRTUAL_OPS = 1_000;
    static final int TASKS = 100_000;
    /** Round trips per invocation on a platform thread. */
    static final int ROUND_TRIPS = 16;
    /** Acquire + release pairs per invocation on a platform thread. */
    static final int POOL_OPS = 1024;

    @Param({"rseq4j", "ThreadLocal", "ConcurrentDeque", "LockFree", "Bounded", "NonRecycling", "VertxHybrid"})
    public String pool;

    @Param({"small", "large"})
    public String size;

    /** The topic's pool named by {@code @Param pool}. */
    static JacksonSuite.Pool pool(String name) {
        return switch (name) {
            case "rseq4j" -> JacksonSuite.Pool.RSEQ4J;
            case "ThreadLocal" -> JacksonSuite.Pool.THREAD_LOCAL;
            case "ConcurrentDeque" -> JacksonSuite.Pool.CONCURRENT_DEQUE;
            case "LockFree" -> JacksonSuite.Pool.LOCK_FREE;
            case "Bounded" -> JacksonSuite.Pool.BOUNDED;
            case "NonRecycling" -> JacksonSuite.Pool.NON_RECYCLING;
            case "VertxHybrid" -> JacksonSuite.Pool.VERTX;
            default -> throw new IllegalArgumentException("unknown pool " + name);
        };
    }

    /** Round trips of the {@code @Param size} document with the {@code @Param pool}. */
    abstract static class Trips extends WorkloadState {
        @Override
        protected Workload create() {
            return JacksonSuite.roundTrips(pool(param("pool")),
                    param("size").equals("small") ? JacksonSuite.SMALL : JacksonSuite.LARGE);
        }
    }

    /** Acquire + release of the {@code @Param pool}. */
    abstract static class PoolOps extends WorkloadState {
        @Override
        protected Workload create() {
            return JacksonSuite.poolOnly(pool(param("pool")));
        }
    }

    public static class RoundTrips extends Trips {
        @Override
        protected int opsPerInvocation() {
            return ROUND_TRIPS;
        }
    }

    public static class RoundTripsVirtual extends Trips {
        @Override
        protected int opsPerInvocation() {
            return VIRTUAL_THREADS * VIRTUAL_OPS;
        }

        @Override
        protected int virtualThreads() {
            return VIRTUAL_THREADS;
        }
    }

    public static class PoolOnly extends PoolOps {
        @Override
        protected int opsPerInvocation() {
            return POOL_OPS;
        }
    }

    public static class PoolOnlyVirtual extends PoolOps {
        @Override
        protected int opsPerInvocation() {
            return VIRTUAL_THREADS * VIRTUAL_OPS;
        }

        @Override
        protected int virtualThreads() {
            return VIRTUAL_THREADS;
        }
    }

    public static class PerTask extends WorkloadState {
        @Override
        protected Workload create() {
            return JacksonSuite.perTask(pool(param("pool")));
        }

        @Override
        protected int opsPerInvocation() {
            return TASKS;
        }
    }

    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    public long roundTrip(RoundTrips w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(POOL_OPS)
    public long poolOnly(PoolOnly w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(VIRTUAL_THREADS * VIRTUAL_OPS)
    public long roundTripVirtual(RoundTripsVirtual w, ThreadParams t) throws InterruptedException {
        return w.runOnVirtualThreads(t);
    }

    @Benchmark
    @OperationsPerInvocation(VIRTUAL_THREADS * VIRTUAL_OPS)
    public long poolOnlyVirtual(PoolOnlyVirtual w, ThreadParams t) throws InterruptedException {
        return w.runOnVirtualThreads(t);
    }

    /**
     * {@value #TASKS} virtual threads, one small round trip each (the topic's "per task"
     * loop; run it from {@code T1}: the pool's and size's parameters other than small do
     * not change it).
     */
    @Benchmark
    @OperationsPerInvocation(TASKS)
    public long roundTripPerTask(PerTask w, ThreadParams t) {
        return w.run(t);
    }

    @Threads(1)
    public static class T1 extends JacksonBenchmark {
    }

    @Threads(2)
    public static class T2 extends JacksonBenchmark {
    }

    @Threads(8)
    public static class T8 extends JacksonBenchmark {
    }
}
