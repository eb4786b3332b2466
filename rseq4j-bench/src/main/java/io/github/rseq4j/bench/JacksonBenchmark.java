package io.github.rseq4j.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.core.util.RecyclerPool;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.rseq4j.jackson.PerCpuRecyclerPools;
import io.vertx.core.json.jackson.HybridJacksonPool;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Jackson 2 with each recycler pool: a round trip ({@code ObjectMapper.writeValueAsBytes}
 * of a POJO, then {@code readValue} of the bytes) of a small (about 1 KB) and a large
 * (about 64 KB) document, and the pool alone ({@code acquirePooled} +
 * {@code releasePooled}, no JSON work). Pools ({@code @Param pool}): {@code rseq4j}
 * ({@code PerCpuRecyclerPools.forJackson2(8)}), Jackson's {@code ThreadLocal} (the 2.x
 * default), {@code ConcurrentDeque}, {@code LockFree}, {@code Bounded} (64),
 * {@code NonRecycling}, and Vert.x's {@code HybridJacksonPool} ({@code VertxHybrid}).
 *
 * <p>Scenarios: {@code roundTrip} and {@code poolOnly} on platform threads (nested classes
 * {@code T1}, {@code T2}, {@code T8}); {@code roundTripVirtual} and {@code poolOnlyVirtual}:
 * 8 virtual threads looping, {@value #VIRTUAL_OPS} operations each per invocation;
 * {@code roundTripPerTask}: {@value #TASKS} virtual threads that each do one small round
 * trip (score per task). Bytes per operation: run with {@code -prof gc}
 * ({@code gc.alloc.rate.norm}, which counts virtual threads through their carriers). The
 * peak number of pooled recyclers is in {@code ./rseq4j bench --only jackson}.
 *
 * <p>One JVM per pool ({@code @Fork}), so the pool's calls inside Jackson are
 * monomorphic, as they are in an application that uses one pool.
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

    @Param({"rseq4j", "ThreadLocal", "ConcurrentDeque", "LockFree", "Bounded", "NonRecycling", "VertxHybrid"})
    public String pool;

    @Param({"small", "large"})
    public String size;

    RecyclerPool<BufferRecycler> recyclers;
    ObjectMapper mapper;
    Doc doc;

    /** The document: numbers, strings, a map and a list of children. */
    public record Doc(long id, String name, List<Long> values, Map<String, String> tags, List<Doc> children) {
        static Doc ofSize(int bytes) {
            List<Long> values = new ArrayList<>();
            Map<String, String> tags = new LinkedHashMap<>();
            for (int i = 0; i < 8; i++) {
                values.add(1_000_003L * i);
                tags.put("key" + i, "value " + i);
            }
            List<Doc> children = new ArrayList<>();
            Doc root = new Doc(42, "document", values, tags, children);
            int approx = 300;
            for (int c = 0; approx < bytes; c++) {
                children.add(new Doc(c, "child \"" + c + "\" \u00fc", List.of((long) c, 7L * c), Map.of("c", "" + c),
                        List.of()));
                approx += 95;
            }
            return root;
        }
    }

    static RecyclerPool<BufferRecycler> pool(String name) {
        return switch (name) {
            case "rseq4j" -> PerCpuRecyclerPools.forJackson2(PerCpuRecyclerPools.DEFAULT_PER_CPU_CAPACITY);
            case "ThreadLocal" -> JsonRecyclerPools.threadLocalPool();
            case "ConcurrentDeque" -> JsonRecyclerPools.newConcurrentDequePool();
            case "LockFree" -> JsonRecyclerPools.newLockFreePool();
            case "Bounded" -> JsonRecyclerPools.newBoundedPool(64);
            case "NonRecycling" -> JsonRecyclerPools.nonRecyclingPool();
            case "VertxHybrid" -> HybridJacksonPool.getInstance();
            default -> throw new IllegalArgumentException("unknown pool " + name);
        };
    }

    @Setup(Level.Trial)
    public void setup() {
        recyclers = pool(pool);
        mapper = new ObjectMapper(JsonFactory.builder().recyclerPool(recyclers).build());
        doc = Doc.ofSize(size.equals("small") ? 1024 : 64 * 1024);
    }

    long roundTripOnce() {
        try {
            byte[] json = mapper.writeValueAsBytes(doc);
            return mapper.readValue(json, Doc.class).id() + json.length;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    long poolOnce() {
        BufferRecycler r = recyclers.acquirePooled();
        recyclers.releasePooled(r);
        return r != null ? 1 : 0;
    }

    @Benchmark
    public long roundTrip() {
        return roundTripOnce();
    }

    @Benchmark
    public long poolOnly() {
        return poolOnce();
    }

    @Benchmark
    @OperationsPerInvocation(VIRTUAL_THREADS * VIRTUAL_OPS)
    public long roundTripVirtual() throws InterruptedException {
        return onVirtualThreads(this::roundTripOnce);
    }

    @Benchmark
    @OperationsPerInvocation(VIRTUAL_THREADS * VIRTUAL_OPS)
    public long poolOnlyVirtual() throws InterruptedException {
        return onVirtualThreads(this::poolOnce);
    }

    /**
     * {@value #TASKS} virtual threads, one round trip each (run it from {@code T1} with
     * {@code -p size=small}: that is the scenario; the large document makes each task
     * allocate about 500 KB).
     */
    @Benchmark
    @OperationsPerInvocation(TASKS)
    public long roundTripPerTask() throws InterruptedException {
        Thread[] tasks = new Thread[TASKS];
        Runnable task = this::roundTripOnce;
        for (int i = 0; i < TASKS; i++) {
            tasks[i] = Thread.ofVirtual().start(task);
        }
        for (Thread t : tasks) {
            t.join();
        }
        return TASKS;
    }

    private static long onVirtualThreads(java.util.function.LongSupplier op) throws InterruptedException {
        long[] sums = new long[VIRTUAL_THREADS];
        Thread[] threads = new Thread[VIRTUAL_THREADS];
        for (int t = 0; t < VIRTUAL_THREADS; t++) {
            int id = t;
            threads[t] = Thread.ofVirtual().start(() -> {
                long s = 0;
                for (int i = 0; i < VIRTUAL_OPS; i++) {
                    s += op.getAsLong();
                }
                sums[id] = s;
            });
        }
        long s = 0;
        for (int t = 0; t < VIRTUAL_THREADS; t++) {
            threads[t].join();
            s += sums[t];
        }
        return s;
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
