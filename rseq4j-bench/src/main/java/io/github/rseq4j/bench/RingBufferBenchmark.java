package io.github.rseq4j.bench;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.PerCpuMemory;
import io.github.rseq4j.PerCpuRing;
import io.github.rseq4j.PerCpuRingBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.openjdk.jmh.annotations.AuxCounters;
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

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Writing a 64-byte record for one consumer, from 1 or 2 threads
 * ({@code RingBufferBenchmark.T1}, {@code .T2}):
 * <ul>
 * <li>{@code perCpuRingBuffer}: {@link PerCpuRingBuffer} (DROP policy), 512 KiB per CPU;</li>
 * <li>{@code perCpuRing}: the raw {@link PerCpuRing} underneath, same size;</li>
 * <li>{@code agronaManyToOne}: Agrona's {@link ManyToOneRingBuffer} (CAS on a shared tail)
 *     of 1 MiB over an {@link UnsafeBuffer}, i.e. the same total capacity on 2 CPUs;</li>
 * <li>{@code concurrentLinkedQueue}: {@code offer(record.clone())}, the JDK hand-off.</li>
 * </ul>
 *
 * <p><b>Keeping it fair.</b> Each structure has its own consumer thread, started with the
 * trial and run the same way for all four: drain everything there is, again and again;
 * only when a drain found nothing, park {@value #PARK_NANOS} ns. So while writers write,
 * the consumer drains as fast as it can (with one writer on this 2-core machine it has a
 * core of its own; with two it competes with them for the CPU, equally for every
 * structure). The consumer does the same trivial work per record everywhere (reads a
 * byte and the length).
 * A write that finds its ring full spins and retries; retries are counted in the
 * {@code fullRetries} secondary result (per benchmark op, so 0.01 means 1% of writes
 * waited for the consumer), so a consumer that falls behind is visible instead of
 * silently inflating the score: a bounded ring pushes back when its single consumer is
 * slower than the writers, and then the score is the consumer's speed, not the write
 * path's. Record framing is the same size in the three rings (an 8-byte header + 64
 * bytes). The queue never fills and never pushes back: when its consumer falls behind the
 * queue (and the GC's work) grows instead, so its score is the writers' side only; its
 * cost is the allocation of a copy and a node per record, which is what a JDK hand-off of
 * a reused buffer costs. {@code ./rseq4j bench --only ring} measures the write path alone
 * (bursts that fit in the rings, drained between bursts, untimed).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// Agrona 2.x uses jdk.internal.misc.Unsafe: it needs the package exported to it.
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public abstract class RingBufferBenchmark {

    static final int RECORD = 64;
    static final long PARK_NANOS = 10_000;

    /** A background consumer thread with the drain policy described in the class notes. */
    abstract static class Consumed {
        private volatile boolean running;
        private Thread thread;
        long consumed;
        long checksum;

        abstract long drainOnce();

        void startConsumer(String name) {
            running = true;
            thread = Thread.ofPlatform().daemon().name(name).start(() -> {
                while (running) {
                    long n = drainOnce();
                    consumed += n;
                    if (n == 0) {
                        LockSupport.parkNanos(PARK_NANOS);
                    }
                }
                consumed += drainOnce();
            });
        }

        /** Every state's consumer stops (and drains what is left) at the end of the trial. */
        @TearDown(Level.Trial)
        public void stopConsumer() throws InterruptedException {
            running = false;
            thread.join();
        }
    }

    @State(Scope.Benchmark)
    public static class RingBufferState extends Consumed {
        PerCpuRingBuffer ring;

        @Setup(Level.Trial)
        public void setup() {
            ring = new PerCpuRingBuffer(512 * 1024, PerCpuRingBuffer.OverflowPolicy.DROP);
            startConsumer("consumer-PerCpuRingBuffer");
        }

        @Override
        long drainOnce() {
            return ring.drain((index, bytes, length) -> checksum += bytes[0] + length);
        }
    }

    @State(Scope.Benchmark)
    public static class RingState extends Consumed {
        PerCpuRing ring;

        @Setup(Level.Trial)
        public void setup() {
            ring = PerCpuMemory.create(IndexMode.CPU_ID).newRing(512 * 1024);
            startConsumer("consumer-PerCpuRing");
        }

        @Override
        long drainOnce() {
            return ring.drain((index, bytes, length) -> checksum += bytes[0] + length);
        }
    }

    @State(Scope.Benchmark)
    public static class AgronaState extends Consumed {
        ManyToOneRingBuffer ring;

        @Setup(Level.Trial)
        public void setup() {
            int capacity = 1 << 20;
            ring = new ManyToOneRingBuffer(new UnsafeBuffer(
                    ByteBuffer.allocateDirect(capacity + RingBufferDescriptor.TRAILER_LENGTH)));
            startConsumer("consumer-Agrona");
        }

        @Override
        long drainOnce() {
            return ring.read((msgTypeId, buffer, index, length) -> checksum += buffer.getByte(index) + length);
        }
    }

    @State(Scope.Benchmark)
    public static class QueueState extends Consumed {
        final ConcurrentLinkedQueue<byte[]> queue = new ConcurrentLinkedQueue<>();

        @Setup(Level.Trial)
        public void setup() {
            startConsumer("consumer-ConcurrentLinkedQueue");
        }

        @Override
        long drainOnce() {
            long n = 0;
            for (byte[] b; (b = queue.poll()) != null; n++) {
                checksum += b[0] + b.length;
            }
            return n;
        }
    }

    /** Each writer thread's record, in the shapes the structures take. */
    @State(Scope.Thread)
    public static class Record {
        final byte[] bytes = new byte[RECORD];
        final MemorySegment segment = MemorySegment.ofArray(bytes);
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);

        @Setup(Level.Trial)
        public void setup() {
            Arrays.fill(bytes, (byte) Thread.currentThread().threadId());
        }
    }

    /** Writes that found the structure full and were retried (per op: fraction of writes that waited). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Full {
        public long fullRetries;
    }

    /**
     * A writer waiting for room spins, and yields every 64th retry. The yield matters: C2
     * drops the safepoint poll of a loop whose body is only critical downcalls and spins,
     * so a loop that only spins on a full ring holds off every safepoint (measured: 3.8 s
     * to reach one) while the consumer, once it needs a safepoint (a GC), waits for it:
     * a deadlock. {@code Thread.yield()} is a VM call, where the thread can be stopped.
     */
    static void backOff(long retries) {
        if ((retries & 63) == 0) {
            Thread.yield();
        } else {
            Thread.onSpinWait();
        }
    }

    @Benchmark
    public void perCpuRingBuffer(RingBufferState s, Record r, Full f) {
        while (!s.ring.write(r.segment)) {
            backOff(++f.fullRetries);
        }
    }

    @Benchmark
    public void perCpuRing(RingState s, Record r, Full f) {
        while (s.ring.write(r.segment) < 0) {
            backOff(++f.fullRetries);
        }
    }

    @Benchmark
    public void agronaManyToOne(AgronaState s, Record r, Full f) {
        while (!s.ring.write(1, r.buffer, 0, RECORD)) {
            backOff(++f.fullRetries);
        }
    }

    @Benchmark
    public void concurrentLinkedQueue(QueueState s, Record r) {
        s.queue.offer(r.bytes.clone());
    }

    @Threads(1)
    public static class T1 extends RingBufferBenchmark {
    }

    @Threads(2)
    public static class T2 extends RingBufferBenchmark {
    }
}
