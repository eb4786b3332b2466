package io.github.rseq4j.bench.cli;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.PerCpuBufferPool;
import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuItem;
import io.github.rseq4j.PerCpuList;
import io.github.rseq4j.PerCpuMemory;
import io.github.rseq4j.Lease;
import io.github.rseq4j.PerCpuPool;
import io.github.rseq4j.PerCpuRingBuffer;
import io.github.rseq4j.Rseq;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The cases of {@code rseq4j bench}, by topic. Every workload builds fresh shared state;
 * every loop is its own lambda, so the JIT compiles each operation's loop separately.
 * Every case says what it is ({@link RowKind}): an rseq4j operation, an alternative from
 * the JDK or a library (the report compares each rseq4j row with the fastest of these), or
 * a control row. One alternative per group is also marked as its fixed reference, for the
 * JSON {@code baseline} and {@code ratio} fields only.
 */
public final class Suites {
    private Suites() {
    }

    /** Topics, in the order they run and print. */
    public static final List<String> TOPICS = List.of("counter", "cpu", "pool", "ring", "histogram",
            SeriesSuite.TOPIC, MicrometerSuite.TOPIC, JacksonSuite.TOPIC, "memory");

    /** Thread counts of the counter topic. */
    static final int[] COUNTER_THREADS = {1, 2, 8};

    /** Thread counts of the other throughput topics. */
    static final int[] SMALL_THREADS = {1, 2};

    /** Thread counts of the pool topic (its targets are stated at 1, 2 and 8 threads). */
    static final int[] POOL_THREADS = {1, 2, 8};

    /** Record size of the ring topic. */
    static final int RECORD = 64;

    /** The cases of the throughput topics in {@code topics}, in run order, with the default series count. */
    public static List<BenchCase> cases(List<String> topics) {
        return cases(topics, SeriesSuite.SERIES);
    }

    /** The cases of the throughput topics in {@code topics}, in run order; {@code series} series per series row. */
    public static List<BenchCase> cases(List<String> topics, int series) {
        List<BenchCase> all = new ArrayList<>();
        if (topics.contains("counter")) {
            for (boolean virtual : new boolean[] {false, true}) {
                for (int t : COUNTER_THREADS) {
                    all.add(BenchCase.rseq4j("counter", "counter", "rseq4j add", t, virtual, Suites::rseqAdd));
                    all.add(BenchCase.rseq4j("counter", "counter", "rseq4j counter", t, virtual,
                            Suites::rseqCounter));
                    all.add(BenchCase.alternative("counter", "counter", "AtomicLong", t, virtual, Suites::atomicLong)
                            .asReference());
                    all.add(BenchCase.alternative("counter", "counter", "LongAdder", t, virtual, Suites::longAdder));
                    if (!virtual) {
                        all.add(BenchCase.control("counter", "counter", CONTROL, t, false, Suites::unsharedAtomic));
                    }
                }
            }
        }
        if (topics.contains("cpu")) {
            for (int t : SMALL_THREADS) {
                all.add(BenchCase.rseq4j("cpu", "cpu", "Rseq.currentCpu()", t, false, Suites::currentCpu));
                if (NativeCpu.available()) {
                    all.add(BenchCase.alternative("cpu", "cpu", "sched_getcpu() critical", t, false,
                            Suites::schedGetcpuCritical));
                    all.add(BenchCase.alternative("cpu", "cpu", "sched_getcpu()", t, false, Suites::schedGetcpu)
                            .asReference());
                }
            }
        }
        if (topics.contains("pool")) {
            for (int t : POOL_THREADS) {
                all.add(BenchCase.rseq4j("pool", "object pool", "PerCpuPool", t, false, Suites::perCpuPool));
                all.add(BenchCase.rseq4j("pool", "object pool", "PerCpuPool lease", t, false,
                        Suites::perCpuPoolLease));
                all.add(BenchCase.rseq4j("pool", "object pool", "PerCpuList pop+push", t, false, Suites::listPool));
                all.add(BenchCase.alternative("pool", "object pool", "ArrayBlockingQueue pool", t, false,
                        () -> queuePool(new ArrayBlockingQueue<>(POOL_CAPACITY))));
                all.add(BenchCase.alternative("pool", "object pool", "ConcurrentLinkedQueue pool", t, false,
                        () -> queuePool(new ConcurrentLinkedQueue<>())).asReference());
            }
            for (int t : POOL_THREADS) {
                all.add(BenchCase.rseq4j("pool", "buffer pool", "PerCpuBufferPool", t, false,
                        Suites::perCpuBufferPool));
                all.add(BenchCase.alternative("pool", "buffer pool", "ArrayBlockingQueue buffer pool", t, false,
                        () -> bufferQueuePool(new ArrayBlockingQueue<>(POOL_CAPACITY))));
                all.add(BenchCase.alternative("pool", "buffer pool", "ConcurrentLinkedQueue buffer pool", t, false,
                        () -> bufferQueuePool(new ConcurrentLinkedQueue<>())).asReference());
            }
        }
        if (topics.contains("ring")) {
            for (int t : SMALL_THREADS) {
                all.add(BenchCase.rseq4j("ring", "ring write", "PerCpuRingBuffer", t, false,
                        Suites::perCpuRingBufferBursts));
                all.add(BenchCase.alternative("ring", "ring write", AGRONA, t, false, Suites::agronaBursts));
                all.add(BenchCase.alternative("ring", "ring write", "ConcurrentLinkedQueue", t, false,
                        Suites::queueBursts).asReference());
            }
        }
        if (topics.contains(HistogramSuite.TOPIC)) {
            all.addAll(HistogramSuite.cases());
        }
        if (topics.contains(SeriesSuite.TOPIC)) {
            all.addAll(SeriesSuite.cases(series));
        }
        if (topics.contains(MicrometerSuite.TOPIC)) {
            all.addAll(MicrometerSuite.cases());
        }
        if (topics.contains(JacksonSuite.TOPIC)) {
            all.addAll(JacksonSuite.cases());
        }
        return all;
    }

    // ---- counter ------------------------------------------------------------------------

    /** One reservation for every per-CPU item of the bench (per-CPU memory is never unmapped). */
    private static final class Shared {
        static final PerCpuMemory MEMORY = new PerCpuMemory(IndexMode.CPU_ID);
    }

    static String expect(long actual, long expected) {
        return actual == expected ? "ok" : "sum " + actual + " != " + expected + " operations";
    }

    public static Workload rseqAdd() {
        PerCpuItem item = Shared.MEMORY.newItem(8);
        return new Workload() {
            @Override
            public Loop newLoop(int index) {
                return n -> {
                    long s = 0;
                    for (long i = 0; i < n; i++) {
                        s += item.add(0, 1);
                    }
                    return s;
                };
            }

            @Override
            public String check(long totalOps) {
                return expect(item.sum(0), totalOps);
            }
        };
    }

    public static Workload rseqCounter() {
        PerCpuCounter counter = new PerCpuCounter();
        return new Workload() {
            @Override
            public Loop newLoop(int index) {
                return n -> {
                    for (long i = 0; i < n; i++) {
                        counter.increment();
                    }
                    return n;
                };
            }

            @Override
            public String check(long totalOps) {
                return expect(counter.sum(), totalOps);
            }
        };
    }

    public static Workload atomicLong() {
        AtomicLong a = new AtomicLong();
        return new Workload() {
            @Override
            public Loop newLoop(int index) {
                return n -> {
                    long s = 0;
                    for (long i = 0; i < n; i++) {
                        s += a.getAndIncrement();
                    }
                    return s;
                };
            }

            @Override
            public String check(long totalOps) {
                return expect(a.get(), totalOps);
            }
        };
    }

    /**
     * The control row: an AtomicLong per thread, on cache lines of its own. Nothing is
     * shared, so on a machine that really gives each thread a core its ns/op stays flat
     * from 1 to 2 threads; when it does not, the other rows' 2-thread figures include that
     * (other load on the machine, or two vCPUs that share a physical core).
     */
    static final String CONTROL = "unshared AtomicLong (control)";

    public static Workload unsharedAtomic() {
        AtomicLongArray words = new AtomicLongArray(16 * 64); // 128 bytes apart, up to 64 threads
        return new Workload() {
            @Override
            public Loop newLoop(int index) {
                int at = 16 * (index % 64);
                return n -> {
                    long s = 0;
                    for (long i = 0; i < n; i++) {
                        s += words.getAndIncrement(at);
                    }
                    return s;
                };
            }

            @Override
            public String check(long totalOps) {
                long sum = 0;
                for (int i = 0; i < words.length(); i++) {
                    sum += words.get(i);
                }
                return expect(sum, totalOps);
            }
        };
    }

    public static Workload longAdder() {
        LongAdder a = new LongAdder();
        return new Workload() {
            @Override
            public Loop newLoop(int index) {
                return n -> {
                    for (long i = 0; i < n; i++) {
                        a.increment();
                    }
                    return n;
                };
            }

            @Override
            public String check(long totalOps) {
                return expect(a.sum(), totalOps);
            }
        };
    }

    // ---- cpu ----------------------------------------------------------------------------

    public static Workload currentCpu() {
        return index -> n -> {
            long s = 0;
            for (long i = 0; i < n; i++) {
                s += Rseq.currentCpu();
            }
            return s;
        };
    }

    public static Workload schedGetcpuCritical() {
        return index -> n -> {
            long s = 0;
            for (long i = 0; i < n; i++) {
                s += NativeCpu.schedGetcpuCritical();
            }
            return s;
        };
    }

    public static Workload schedGetcpu() {
        return index -> n -> {
            long s = 0;
            for (long i = 0; i < n; i++) {
                s += NativeCpu.schedGetcpu();
            }
            return s;
        };
    }

    // ---- pool ---------------------------------------------------------------------------

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

    /** Objects (buffers) per pool: far more than the threads ever hold, so no pool runs dry. */
    public static final int POOL_CAPACITY = 1024;

    /** Bytes per pooled buffer. */
    static final int BUFFER_SIZE = 4096;

    /** PerCpuPool, object form: {@code acquire()} then {@code release(o)}. */
    public static Workload perCpuPool() {
        PerCpuPool<Pooled> pool = new PerCpuPool<>(Pooled::new, POOL_CAPACITY);
        return index -> n -> {
            long s = 0;
            for (long i = 0; i < n; i++) {
                Pooled p = pool.acquire();
                s += ++p.uses;
                pool.release(p);
            }
            return s;
        };
    }

    /** PerCpuPool, lease form: try-with-resources on {@code lease()}. */
    public static Workload perCpuPoolLease() {
        PerCpuPool<Pooled> pool = new PerCpuPool<>(Pooled::new, POOL_CAPACITY);
        return index -> n -> {
            long s = 0;
            for (long i = 0; i < n; i++) {
                try (Lease<Pooled> lease = pool.lease()) {
                    s += ++lease.get().uses;
                }
            }
            return s;
        };
    }

    /** PerCpuBufferPool: acquire a 4 KiB off-heap buffer, write a word, release it. */
    public static Workload perCpuBufferPool() {
        PerCpuBufferPool pool = new PerCpuBufferPool(BUFFER_SIZE, POOL_CAPACITY);
        return index -> n -> {
            long s = 0;
            for (long i = 0; i < n; i++) {
                MemorySegment b = pool.acquire();
                long v = b.get(ValueLayout.JAVA_LONG, 0) + 1;
                b.set(ValueLayout.JAVA_LONG, 0, v);
                s += v;
                pool.release(b);
            }
            return s;
        };
    }

    /**
     * A buffer pool on a JDK queue: 64 buffers of 4 KiB from one shared arena, taken with
     * poll and given back with offer (the threads never hold more than one each, so the
     * queue is never empty).
     */
    public static Workload bufferQueuePool(Queue<MemorySegment> q) {
        MemorySegment block = Arena.ofAuto().allocate((long) BUFFER_SIZE * 64, 4096);
        for (int i = 0; i < 64; i++) {
            q.offer(block.asSlice((long) i * BUFFER_SIZE, BUFFER_SIZE));
        }
        return index -> n -> {
            long s = 0;
            for (long i = 0; i < n; i++) {
                MemorySegment b = q.poll();
                long v = b.get(ValueLayout.JAVA_LONG, 0) + 1;
                b.set(ValueLayout.JAVA_LONG, 0, v);
                s += v;
                q.offer(b);
            }
            return s;
        };
    }

    /** A pool on a JDK queue: poll, or make a new object when empty; offer back (drop if full). */
    public static Workload queuePool(Queue<Pooled> q) {
        for (int i = 0; i < 64; i++) {
            q.offer(new Pooled());
        }
        return index -> n -> {
            long s = 0;
            for (long i = 0; i < n; i++) {
                Pooled p = q.poll();
                if (p == null) {
                    p = new Pooled();
                }
                s += ++p.uses;
                q.offer(p);
            }
            return s;
        };
    }

    /**
     * The pool primitive rseq4j's pools are made of: pop a node from the calling CPU's list
     * (a new node when it is empty), write its payload, push it back.
     */
    public static Workload listPool() {
        PerCpuList list = Shared.MEMORY.newList(64);
        return index -> n -> {
            long s = 0;
            for (long i = 0; i < n; i++) {
                MemorySegment node = list.pop();
                if (node == null) {
                    node = list.newNode();
                }
                long v = node.get(ValueLayout.JAVA_LONG, 0) + 1;
                node.set(ValueLayout.JAVA_LONG, 0, v);
                s += v;
                list.push(node);
            }
            return s;
        };
    }

    // ---- ring ---------------------------------------------------------------------------

    /** Records per writer per burst: two writers on one CPU still fit its 512 KiB ring. */
    static final int BURST = 2048;

    /**
     * Ring write, in bursts: every writer writes {@value #BURST} records, then one of them
     * drains everything while the others wait, untimed (see {@link Harness}). So the ring
     * never fills, no consumer competes for the CPU, and the time is the write path alone.
     */
    public abstract static class Bursts implements Workload {
        /** Records taken by {@link #betweenBursts()} so far. */
        protected long consumed;
        /** Writes that found the ring full and retried. */
        protected final LongAdder fullRetries = new LongAdder();

        @Override
        public int burst() {
            return BURST;
        }

        @Override
        public String check(long totalOps) {
            return consumed == totalOps ? "ok" : "consumed " + consumed + " of " + totalOps + " records";
        }

        @Override
        public String note() {
            long f = fullRetries.sum();
            return f == 0 ? null : f + " writes found the ring full and retried";
        }
    }

    public static Workload perCpuRingBufferBursts() {
        PerCpuRingBuffer ring = new PerCpuRingBuffer(512 * 1024,
                PerCpuRingBuffer.OverflowPolicy.DROP);
        return new Bursts() {
            long bytes;

            @Override
            public long betweenBursts() {
                long n = ring.drain((index, data, length) -> bytes += data[0] + length);
                consumed += n;
                return n;
            }

            @Override
            public Loop newLoop(int index) {
                MemorySegment record = MemorySegment.ofArray(new byte[RECORD]);
                record.fill((byte) index);
                return n -> {
                    long full = 0;
                    for (long i = 0; i < n; i++) {
                        while (!ring.write(record)) {
                            // yield now and then: a loop of only critical downcalls and
                            // spins gets no safepoint poll from C2, and would hold off
                            // every safepoint (GC) for as long as it spins
                            if ((++full & 63) == 0) {
                                Thread.yield();
                            } else {
                                Thread.onSpinWait();
                            }
                        }
                    }
                    if (full != 0) {
                        fullRetries.add(full);
                    }
                    return full;
                };
            }
        };
    }

    /** The Agrona row's name. */
    static final String AGRONA = "Agrona ManyToOneRingBuffer";

    /**
     * Agrona's ring: 1 MiB, i.e. the total capacity the per-CPU rings have on 2 CPUs (as in
     * rseq4j-bench's RingBufferBenchmark); a burst of 2 writers is 2 x 2,048 x 72 bytes
     * (8-byte header + 64), about 288 KiB.
     */
    static final int AGRONA_CAPACITY = 1 << 20;

    /** The message type of the Agrona row's records (any positive value). */
    static final int AGRONA_MSG_TYPE = 1;

    /**
     * Agrona's {@link ManyToOneRingBuffer} (a CAS on a shared tail) over a direct buffer:
     * writers write the same 64-byte record as the other rows; between bursts, worker 0
     * drains it, as the other rows' consumer does. Agrona 2.x needs
     * {@code --add-exports java.base/jdk.internal.misc=ALL-UNNAMED} (the rseq4j.jar
     * manifest and the tests give it); without it this row fails and says so.
     */
    public static Workload agronaBursts() {
        if (!Object.class.getModule().isExported("jdk.internal.misc", Suites.class.getModule())) {
            throw new IllegalStateException("Agrona 2.x needs the JVM option --add-exports "
                    + "java.base/jdk.internal.misc=ALL-UNNAMED (run the rseq4j.jar with java -jar: its manifest "
                    + "has it)");
        }
        ManyToOneRingBuffer ring = new ManyToOneRingBuffer(new UnsafeBuffer(
                ByteBuffer.allocateDirect(AGRONA_CAPACITY + RingBufferDescriptor.TRAILER_LENGTH)));
        return new Bursts() {
            long bytes;

            @Override
            public long betweenBursts() {
                // read() stops at the end of the buffer: read on until nothing is left
                MessageHandler handler = (msgTypeId, buffer, index, length) -> bytes += buffer.getByte(index) + length;
                long before = consumed;
                for (int n; (n = ring.read(handler)) > 0; ) {
                    consumed += n;
                }
                return consumed - before;
            }

            @Override
            public Loop newLoop(int index) {
                UnsafeBuffer record = new UnsafeBuffer(new byte[RECORD]);
                record.setMemory(0, RECORD, (byte) index);
                return n -> {
                    long full = 0;
                    for (long i = 0; i < n; i++) {
                        while (!ring.write(AGRONA_MSG_TYPE, record, 0, RECORD)) {
                            // as the PerCpuRingBuffer row: spin, and yield now and then
                            if ((++full & 63) == 0) {
                                Thread.yield();
                            } else {
                                Thread.onSpinWait();
                            }
                        }
                    }
                    if (full != 0) {
                        fullRetries.add(full);
                    }
                    return full;
                };
            }
        };
    }

    public static Workload queueBursts() {
        ConcurrentLinkedQueue<byte[]> q = new ConcurrentLinkedQueue<>();
        return new Bursts() {
            long bytes;

            @Override
            public long betweenBursts() {
                long before = consumed;
                for (byte[] b; (b = q.poll()) != null; consumed++) {
                    bytes += b[0] + b.length;
                }
                return consumed - before;
            }

            @Override
            public Loop newLoop(int index) {
                byte[] record = new byte[RECORD];
                java.util.Arrays.fill(record, (byte) index);
                return n -> {
                    for (long i = 0; i < n; i++) {
                        q.offer(record.clone());
                    }
                    return n;
                };
            }
        };
    }

    /** For tests and --only: whether {@code s} names a topic. */
    public static boolean isTopic(String s) {
        return TOPICS.contains(s);
    }
}
