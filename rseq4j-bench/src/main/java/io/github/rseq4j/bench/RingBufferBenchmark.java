package io.github.rseq4j.bench;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.PerCpuMemory;
import io.github.rseq4j.PerCpuRing;
import io.github.rseq4j.PerCpuRingBuffer;
import io.github.rseq4j.bench.cli.Loop;
import io.github.rseq4j.bench.cli.Suites;
import io.github.rseq4j.bench.cli.Workload;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
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

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * Writing a 64-byte record for one consumer, from 1 or 2 threads
 * ({@code RingBufferBenchmark.T1}, {@code .T2}):
 * <ul>
 * <li>{@code perCpuRingBuffer}: {@link PerCpuRingBuffer} (DROP policy), 512 KiB per CPU;</li>
 * <li>{@code perCpuRing}: the raw {@link PerCpuRing} underneath, same size (JMH only: the
 *     bench command has no row for it);</li>
 * <li>{@code agronaManyToOne}: Agrona's {@link ManyToOneRingBuffer} (CAS on a shared tail)
 *     of 1 MiB over an {@code UnsafeBuffer}, i.e. the same total capacity on 2 CPUs;</li>
 * <li>{@code concurrentLinkedQueue}: {@code offer(record.clone())}, the JDK hand-off.</li>
 * </ul>
 *
 * <p>The workloads are the bench command's ring topic ({@link Suites}: the same structures,
 * the same write loops), run for {@value #OPS} records per invocation (see
 * {@link WorkloadState}).
 *
 * <p><b>Keeping it fair.</b> Each structure has its own consumer thread, started with the
 * trial and run the same way for all four ({@link WorkloadState}): drain everything there
 * is, again and again; only when a drain found nothing, park. So while writers write, the
 * consumer drains as fast as it can (with one writer on this 2-core machine it has a core of
 * its own; with two it competes with them for the CPU, equally for every structure). The
 * consumer does the same trivial work per record everywhere (reads a byte and the length).
 * A write that finds its ring full spins and retries (yielding every 64th retry); the
 * trial's output counts these retries (the topic's note), so a consumer that falls behind
 * is visible instead of silently inflating the score: a bounded ring pushes back when its
 * single consumer is slower than the writers, and then the score is the consumer's speed,
 * not the write path's. Record framing is the same size in the three rings (an 8-byte
 * header + 64 bytes). The queue never fills and never pushes back: when its consumer falls
 * behind the queue (and the GC's work) grows instead, so its score is the writers' side
 * only; its cost is the allocation of a copy and a node per record, which is what a JDK
 * hand-off of a reused buffer costs. At the end of each trial every record written must
 * have been consumed, or the trial fails. {@code ./rseq4j bench --only ring} runs the same
 * loops in bursts that fit in the rings, drained between bursts (untimed): the write path
 * alone.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// Agrona 2.x uses jdk.internal.misc.Unsafe: it needs the package exported to it.
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public abstract class RingBufferBenchmark {

    static final int OPS = 1024;

    /** Bytes per record, as in the bench's ring topic. */
    static final int RECORD = 64;

    public static class RingBufferWrites extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.perCpuRingBufferBursts();
        }
    }

    public static class RingWrites extends WorkloadState {
        @Override
        protected Workload create() {
            return perCpuRing();
        }
    }

    public static class AgronaWrites extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.agronaBursts();
        }
    }

    public static class QueueWrites extends WorkloadState {
        @Override
        protected Workload create() {
            return Suites.queueBursts();
        }
    }

    /**
     * The raw {@link PerCpuRing} (512 KiB per CPU), written as the ring topic writes
     * {@code PerCpuRingBuffer} (its bursts, check and note): JMH only, the bench command has
     * no row for it.
     */
    static Workload perCpuRing() {
        PerCpuRing ring = new PerCpuMemory(IndexMode.CPU_ID).newRing(512 * 1024);
        return new Suites.Bursts() {
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
                        while (ring.write(record) < 0) {
                            // spin, and yield now and then: C2 drops the safepoint poll of a
                            // loop of only critical downcalls and spins
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

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long perCpuRingBuffer(RingBufferWrites w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long perCpuRing(RingWrites w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long agronaManyToOne(AgronaWrites w, ThreadParams t) {
        return w.run(t);
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public long concurrentLinkedQueue(QueueWrites w, ThreadParams t) {
        return w.run(t);
    }

    @Threads(1)
    public static class T1 extends RingBufferBenchmark {
    }

    @Threads(2)
    public static class T2 extends RingBufferBenchmark {
    }
}
