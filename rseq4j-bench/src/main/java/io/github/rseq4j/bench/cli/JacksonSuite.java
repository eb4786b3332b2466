package io.github.rseq4j.bench.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.core.util.RecyclerPool;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.rseq4j.jackson.Jackson2PerCpuRecyclerPool;
import io.github.rseq4j.jackson.PerCpuRecyclerPools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * The {@code jackson} topic: Jackson 2 round trips (an {@code ObjectMapper} writes a
 * document to bytes and reads it back) with each recycler pool, and the pools on their own.
 *
 * <p><b>Rows.</b> Named {@code <pool>: <scenario>}. Pools: {@code rseq4j}
 * ({@code new Jackson2PerCpuRecyclerPool(8)}), Jackson's {@code ThreadLocal} (the 2.x
 * default), {@code ConcurrentDeque}, {@code LockFree}, {@code Bounded} (capacity
 * {@value #BOUNDED_CAPACITY}) and {@code NonRecycling}, and Vert.x's
 * {@code HybridJacksonPool} ({@code Vert.x Hybrid}, when vertx-core is on the class path).
 * Every row gets a fresh pool, except the two that exist once per process
 * ({@code ThreadLocal}, Vert.x's). Scenarios:
 * <ul>
 * <li>{@code round trip small}, {@code round trip large}: a document of about 1 KB and
 *     64 KB, on 1, 2 and 8 platform threads looping;</li>
 * <li>{@code round trip small virtual}, {@code round trip large virtual}: the same on
 *     {@value #VIRTUAL_THREADS} virtual threads looping;</li>
 * <li>{@code round trip small per task}: one thread starts a new virtual thread per
 *     operation, each does one small round trip, and joins them all (the thread-per-task
 *     shape of servers); ns/op is elapsed time / tasks, and {@code virtual_threads} in
 *     the JSON says how many tasks one loop call started at most (the harness sizes runs
 *     by time);</li>
 * <li>{@code pool only}, {@code pool only virtual}: {@code acquirePooled} +
 *     {@code releasePooled} of a recycler with no JSON work, on 1, 2 and 8 platform threads
 *     and {@value #VIRTUAL_THREADS} virtual threads. Each pool has a loop of its own
 *     (a lambda per pool), so each loop's calls are monomorphic.</li>
 * </ul>
 *
 * <p><b>Fields.</b> Beside ns/op, each row's JSON has {@code bytes_per_op}: heap
 * allocated by all threads ({@code ThreadMXBean.getTotalThreadAllocatedBytes}, which
 * counts virtual threads through their carriers) while this row's loops ran, warm-up
 * included, divided by their operations; and {@code peak_pooled}: the most recyclers the
 * pool reported holding ({@code pooledCount()}, sampled every {@value #SAMPLE_MS} ms and
 * at the end; null for pools that do not count, {@code ThreadLocal} and Vert.x's).
 */
public final class JacksonSuite {
    private JacksonSuite() {
    }

    static final String TOPIC = "jackson";

    /** Platform thread counts. */
    static final int[] THREADS = {1, 2, 8};
    /** Virtual threads of the looping virtual scenarios. */
    static final int VIRTUAL_THREADS = 8;
    /** Approximate sizes of the two documents, in bytes of JSON. */
    public static final int SMALL = 1024, LARGE = 64 * 1024;
    static final int BOUNDED_CAPACITY = 64;
    static final int SAMPLE_MS = 5;
    static final String VERTX_POOL = "io.vertx.core.json.jackson.HybridJacksonPool";

    /** The pools compared, by row name. */
    public enum Pool {
        RSEQ4J("rseq4j"),
        THREAD_LOCAL("ThreadLocal"),
        CONCURRENT_DEQUE("ConcurrentDeque"),
        LOCK_FREE("LockFree"),
        BOUNDED("Bounded"),
        NON_RECYCLING("NonRecycling"),
        VERTX("Vert.x Hybrid");

        final String row;

        Pool(String row) {
            this.row = row;
        }

        /** A pool of this kind: a fresh one where the pool can be made more than once. */
        RecyclerPool<BufferRecycler> create() {
            return switch (this) {
                case RSEQ4J -> new Jackson2PerCpuRecyclerPool(PerCpuRecyclerPools.DEFAULT_PER_CPU_CAPACITY);
                case THREAD_LOCAL -> JsonRecyclerPools.threadLocalPool();
                case CONCURRENT_DEQUE -> JsonRecyclerPools.newConcurrentDequePool();
                case LOCK_FREE -> JsonRecyclerPools.newLockFreePool();
                case BOUNDED -> JsonRecyclerPools.newBoundedPool(BOUNDED_CAPACITY);
                case NON_RECYCLING -> JsonRecyclerPools.nonRecyclingPool();
                case VERTX -> vertx();
            };
        }

        /** Whether the pool reports a meaningful {@code pooledCount()}. */
        boolean counts() {
            return this != THREAD_LOCAL && this != VERTX;
        }
    }

    @SuppressWarnings("unchecked")
    private static RecyclerPool<BufferRecycler> vertx() {
        try {
            return (RecyclerPool<BufferRecycler>) Class.forName(VERTX_POOL).getMethod("getInstance").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Vert.x's HybridJacksonPool is not available: " + e, e);
        }
    }

    static boolean vertxAvailable() {
        try {
            Class.forName(VERTX_POOL, false, JacksonSuite.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** The cases of the topic, in run order. */
    static List<BenchCase> cases() {
        List<Pool> pools = new ArrayList<>(List.of(Pool.values()));
        if (!vertxAvailable()) {
            pools.remove(Pool.VERTX);
        }
        List<BenchCase> all = new ArrayList<>();
        for (int size : new int[] {SMALL, LARGE}) {
            String scenario = "round trip " + (size == SMALL ? "small" : "large");
            for (int t : THREADS) {
                for (Pool p : pools) {
                    all.add(row(p, scenario, t, false, () -> roundTrips(p, size)));
                }
            }
            for (Pool p : pools) {
                all.add(row(p, scenario + " virtual", VIRTUAL_THREADS, true, () -> roundTrips(p, size)));
            }
        }
        for (Pool p : pools) {
            all.add(row(p, "round trip small per task", 1, false, () -> perTask(p)));
        }
        for (int t : THREADS) {
            for (Pool p : pools) {
                all.add(row(p, "pool only", t, false, () -> poolOnly(p)));
            }
        }
        for (Pool p : pools) {
            all.add(row(p, "pool only virtual", VIRTUAL_THREADS, true, () -> poolOnly(p)));
        }
        return all;
    }

    private static BenchCase row(Pool p, String scenario, int threads, boolean virtual, Supplier<Workload> w) {
        String name = p.row + ": " + scenario;
        return p == Pool.RSEQ4J
                ? BenchCase.rseq4j(TOPIC, scenario, name, threads, virtual, w)
                : BenchCase.alternative(TOPIC, scenario, name, threads, virtual, w);
    }

    // ---- documents ------------------------------------------------------------------------

    /** The document: a POJO of numbers, strings, a map and a list of children. */
    public record Doc(long id, String name, List<Long> values, Map<String, String> tags, List<Doc> children) {

        /** A document of about {@code bytes} bytes of JSON. */
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

    // ---- measurement of bytes and pooled recyclers ----------------------------------------

    /**
     * Heap allocated by all threads while any loop of one workload runs: the first loop in
     * opens a window, the last one out closes it. The rows of a group run one after
     * another, so no other row's work falls in a window.
     */
    static final class Allocation {
        private static final com.sun.management.ThreadMXBean MX =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        private int inside;
        private long openedAt;
        private long bytes;
        private long ops;

        synchronized void enter() {
            if (inside++ == 0) {
                openedAt = MX.getTotalThreadAllocatedBytes();
            }
        }

        synchronized void exit(long n) {
            ops += n;
            if (--inside == 0) {
                bytes += MX.getTotalThreadAllocatedBytes() - openedAt;
            }
        }

        synchronized Double perOp() {
            return ops == 0 ? null : (double) bytes / ops;
        }
    }

    /** The common part of every workload: a pool, the allocation window, the pooled-count sampler. */
    abstract static class PoolWorkload implements Workload {
        final Pool kind;
        final RecyclerPool<BufferRecycler> pool;
        final Allocation allocation = new Allocation();
        final AtomicInteger peak = new AtomicInteger(-1);
        private volatile boolean sampling;
        private Thread sampler;

        PoolWorkload(Pool kind) {
            this.kind = kind;
            this.pool = kind.create();
        }

        /** The loop's operations, between the allocation window's enter and exit. */
        abstract long ops(int index, long n);

        @Override
        public Loop newLoop(int index) {
            return n -> {
                allocation.enter();
                try {
                    return ops(index, n);
                } finally {
                    allocation.exit(n);
                }
            };
        }

        private void sample() {
            peak.accumulateAndGet(pool.pooledCount(), Math::max);
        }

        @Override
        public void beforeCase() {
            if (!kind.counts()) {
                return;
            }
            sampling = true;
            sampler = Thread.ofPlatform().daemon().name("jackson-pooled-sampler").start(() -> {
                while (sampling) {
                    sample();
                    LockSupport.parkNanos(SAMPLE_MS * 1_000_000L);
                }
            });
        }

        @Override
        public void afterCase() {
            if (sampler != null) {
                sampling = false;
                LockSupport.unpark(sampler);
                try {
                    sampler.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                sample();
            }
        }

        @Override
        public Map<String, Object> fields() {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("pool", kind.row);
            f.put("bytes_per_op", allocation.perOp());
            f.put("peak_pooled", kind.counts() && peak.get() >= 0 ? peak.get() : null);
            return f;
        }

        @Override
        public String note() {
            Double b = allocation.perOp();
            return String.format(Locale.ROOT, "%s B/op, peak pooled %s", b == null ? "?" : String.format(Locale.ROOT, "%,.0f", b),
                    kind.counts() ? Integer.toString(peak.get()) : "n/a");
        }
    }

    // ---- round trips ----------------------------------------------------------------------

    /** A mapper over the pool that writes {@code doc} and reads it back. */
    static final class RoundTrip {
        final ObjectMapper mapper;
        final Doc doc;
        final int bytes;
        final LongAdder wrong = new LongAdder();

        RoundTrip(RecyclerPool<BufferRecycler> pool, int size) {
            this.mapper = new ObjectMapper(JsonFactory.builder().recyclerPool(pool).build());
            this.doc = Doc.ofSize(size);
            this.bytes = once().length;
        }

        byte[] once() {
            try {
                byte[] json = mapper.writeValueAsBytes(doc);
                Doc back = mapper.readValue(json, Doc.class);
                if (back.id() != doc.id() || back.children().size() != doc.children().size()) {
                    wrong.increment();
                }
                return json;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        String check() {
            return wrong.sum() == 0 ? "ok" : wrong.sum() + " documents did not read back equal";
        }
    }

    public static Workload roundTrips(Pool kind, int size) {
        return new PoolWorkload(kind) {
            final RoundTrip rt = new RoundTrip(pool, size);

            @Override
            long ops(int index, long n) {
                long s = 0;
                for (long i = 0; i < n; i++) {
                    s += rt.once().length;
                }
                return s;
            }

            @Override
            public int opWeight() {
                return size / SMALL;
            }

            @Override
            public String check(long totalOps) {
                return rt.check();
            }

            @Override
            public Map<String, Object> fields() {
                Map<String, Object> f = super.fields();
                f.put("document_bytes", rt.bytes);
                return f;
            }
        };
    }

    public static Workload perTask(Pool kind) {
        return new PoolWorkload(kind) {
            final RoundTrip rt = new RoundTrip(pool, SMALL);
            final AtomicInteger most = new AtomicInteger();

            @Override
            long ops(int index, long n) {
                Thread[] tasks = new Thread[Math.toIntExact(n)];
                most.accumulateAndGet(tasks.length, Math::max);
                Runnable task = rt::once;
                for (int i = 0; i < tasks.length; i++) {
                    tasks[i] = Thread.ofVirtual().start(task);
                }
                for (Thread t : tasks) {
                    join(t);
                }
                return n;
            }

            @Override
            public String check(long totalOps) {
                return rt.check();
            }

            @Override
            public Map<String, Object> fields() {
                Map<String, Object> f = super.fields();
                f.put("document_bytes", rt.bytes);
                f.put("virtual_threads", most.get());
                return f;
            }
        };
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while joining a task", e);
        }
    }

    // ---- pool only --------------------------------------------------------------------------

    /** Acquire + release with no JSON work; one lambda per pool, so each loop is monomorphic. */
    public static Workload poolOnly(Pool kind) {
        return new PoolWorkload(kind) {
            final Loop loop = poolLoop(kind, pool);

            @Override
            long ops(int index, long n) {
                return loop.run(n);
            }

            @Override
            public String check(long totalOps) {
                return "ok";
            }
        };
    }

    private static Loop poolLoop(Pool kind, RecyclerPool<BufferRecycler> p) {
        return switch (kind) {
            case RSEQ4J -> n -> {
                long s = 0;
                for (long i = 0; i < n; i++) {
                    BufferRecycler r = p.acquirePooled();
                    s += r != null ? 1 : 0;
                    p.releasePooled(r);
                }
                return s;
            };
            case THREAD_LOCAL -> n -> {
                long s = 0;
                for (long i = 0; i < n; i++) {
                    BufferRecycler r = p.acquirePooled();
                    s += r != null ? 1 : 0;
                    p.releasePooled(r);
                }
                return s;
            };
            case CONCURRENT_DEQUE -> n -> {
                long s = 0;
                for (long i = 0; i < n; i++) {
                    BufferRecycler r = p.acquirePooled();
                    s += r != null ? 1 : 0;
                    p.releasePooled(r);
                }
                return s;
            };
            case LOCK_FREE -> n -> {
                long s = 0;
                for (long i = 0; i < n; i++) {
                    BufferRecycler r = p.acquirePooled();
                    s += r != null ? 1 : 0;
                    p.releasePooled(r);
                }
                return s;
            };
            case BOUNDED -> n -> {
                long s = 0;
                for (long i = 0; i < n; i++) {
                    BufferRecycler r = p.acquirePooled();
                    s += r != null ? 1 : 0;
                    p.releasePooled(r);
                }
                return s;
            };
            case NON_RECYCLING -> n -> {
                long s = 0;
                for (long i = 0; i < n; i++) {
                    BufferRecycler r = p.acquirePooled();
                    s += r != null ? 1 : 0;
                    p.releasePooled(r);
                }
                return s;
            };
            case VERTX -> n -> {
                long s = 0;
                for (long i = 0; i < n; i++) {
                    BufferRecycler r = p.acquirePooled();
                    s += r != null ? 1 : 0;
                    p.releasePooled(r);
                }
                return s;
            };
        };
    }
}
