package io.github.rseq4j.bench;

import io.github.rseq4j.bench.cli.Loop;
import io.github.rseq4j.bench.cli.Workload;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.ThreadParams;

import java.util.concurrent.locks.LockSupport;

/**
 * One workload of the bench command ({@link Workload}, defined once in
 * {@code io.github.rseq4j.bench.cli}'s suites) as a JMH state, so that JMH and
 * {@code ./rseq4j bench} time the same loops over the same shared state. A benchmark class
 * declares one subclass per workload (its {@link #create()} names the suite's factory) and a
 * {@code @Benchmark} method that calls {@link #run(ThreadParams)} under
 * {@code @OperationsPerInvocation} of the same count as {@link #opsPerInvocation()}.
 *
 * <p><b>Implementation notes.</b> A trial makes one workload (fresh shared state) and, before
 * any thread runs, one {@link Loop} per JMH thread ({@code newLoop(i)} for thread index
 * {@code i}), as the bench's harness does; each invocation runs the calling thread's loop for
 * {@link #opsPerInvocation()} operations. Every loop body is a lambda of its own in the suite,
 * and a JMH fork runs one benchmark method, so each loop stays monomorphic. The operations of
 * each thread are counted in a slot of its own (16 longs apart, so the counts share no cache
 * line); at the end of the trial, warm-up included, the workload's {@link Workload#check}
 * compares its shared state with their total (a counter's sum, a histogram's count, the
 * records a ring's consumer saw), and a failed check fails the trial. Its note, if any, is
 * printed. A workload measured in bursts ({@link Workload#burst()} &gt; 0, the ring writes)
 * gets a consumer thread instead, calling {@link Workload#betweenBursts()} while the writers
 * write: it drains again and again, and parks {@value #CONSUMER_PARK_NANOS} ns only after a
 * drain that found nothing. JMH has no pause between invocations to drain in, so here a ring
 * write competes with its consumer, as in an application, where the bench times the write
 * path alone.
 */
@State(Scope.Benchmark)
public abstract class WorkloadState {

    /** How long the consumer of a burst workload parks after a drain that found nothing. */
    static final long CONSUMER_PARK_NANOS = 10_000;

    /** Longs between two threads' operation counts: 128 bytes, no shared cache line. */
    private static final int STRIDE = 16;

    private BenchmarkParams params;
    private Workload workload;
    private Loop[] loops;
    private long[] ops;
    private volatile boolean consuming;
    private Thread consumer;

    /**
     * A fresh workload of the bench's suites.
     *
     * @return the workload
     */
    protected abstract Workload create();

    /**
     * Operations per call of {@link #run}: what the {@code @Benchmark} method's
     * {@code @OperationsPerInvocation} says. 1,024 unless a subclass says otherwise.
     *
     * @return the operations per invocation
     */
    protected int opsPerInvocation() {
        return 1024;
    }

    /**
     * Virtual threads that {@link #runOnVirtualThreads} starts per invocation, each with a
     * loop of its own; 0 (the default) where the benchmark does not call it.
     *
     * @return the virtual threads per invocation
     */
    protected int virtualThreads() {
        return 0;
    }

    /**
     * The value of one of the trial's {@code @Param}s, for {@link #create()}.
     *
     * @param name the parameter's name
     * @return its value in this trial
     */
    protected final String param(String name) {
        return params.getParam(name);
    }

    /**
     * Makes the workload and one loop per thread of the trial.
     *
     * @param params the trial's parameters (its thread count)
     */
    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        // JMH runs a Scope.Benchmark @Setup on a worker thread: check that the virtual
        // variants (-Djmh.executor=VIRTUAL) really run on virtual threads
        if ("VIRTUAL".equals(System.getProperty("jmh.executor")) && !Thread.currentThread().isVirtual()) {
            throw new IllegalStateException("-Djmh.executor=VIRTUAL given, but the worker is a platform thread");
        }
        this.params = params;
        int threads = Math.max(params.getThreads(), virtualThreads());
        workload = create();
        loops = new Loop[threads];
        for (int i = 0; i < threads; i++) {
            loops[i] = workload.newLoop(i);
        }
        ops = new long[threads * STRIDE];
        workload.beforeCase();
        if (workload.burst() > 0) {
            consuming = true;
            consumer = Thread.ofPlatform().daemon().name("consumer").start(this::consume);
        }
    }

    private void consume() {
        while (consuming) {
            if (workload.betweenBursts() == 0) {
                LockSupport.parkNanos(CONSUMER_PARK_NANOS);
            }
        }
        workload.betweenBursts();
    }

    /**
     * Runs the calling thread's loop for {@link #opsPerInvocation()} operations.
     *
     * @param thread the calling thread's JMH parameters (its index)
     * @return the loop's result, for JMH to consume
     */
    public final long run(ThreadParams thread) {
        int i = thread.getThreadIndex();
        int n = opsPerInvocation();
        ops[i * STRIDE] += n;
        return loops[i].run(n);
    }

    /**
     * Runs {@link #virtualThreads()} new virtual threads, each running its own loop for
     * {@link #opsPerInvocation()} / {@link #virtualThreads()} operations, and waits for them:
     * the bench's virtual-thread rows, started per invocation (JMH's own virtual executor
     * stops at the carrier count, see {@link CounterBenchmark}).
     *
     * @param thread the calling thread's JMH parameters (its index)
     * @return the sum of the loops' results, for JMH to consume
     * @throws InterruptedException if interrupted while waiting for the threads
     */
    public final long runOnVirtualThreads(ThreadParams thread) throws InterruptedException {
        int v = virtualThreads();
        int each = opsPerInvocation() / v;
        long[] results = new long[v];
        Thread[] threads = new Thread[v];
        for (int k = 0; k < v; k++) {
            int id = k;
            threads[k] = Thread.ofVirtual().start(() -> results[id] = loops[id].run(each));
        }
        long sum = 0;
        for (int k = 0; k < v; k++) {
            threads[k].join();
            sum += results[k];
        }
        ops[thread.getThreadIndex() * STRIDE] += (long) each * v;
        return sum;
    }

    /** Stops the consumer, checks the shared state against the operations run, prints the note. */
    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        try {
            if (consumer != null) {
                consuming = false;
                consumer.join();
            }
            long total = 0;
            for (int i = 0; i < ops.length; i += STRIDE) {
                total += ops[i];
            }
            String check = workload.check(total);
            if (check != null && !check.equals("ok")) {
                throw new IllegalStateException(params.getBenchmark() + ": " + check);
            }
            String note = workload.note();
            if (note != null) {
                System.out.println(params.getBenchmark() + ": " + note);
            }
        } finally {
            workload.afterCase();
        }
    }
}
