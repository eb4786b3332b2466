package io.github.rseq4j.bench.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The measurement loop of {@code rseq4j bench}: no JMH, just threads, a start gate and
 * {@link System#nanoTime()}.
 *
 * <p>For one case (a {@link Workload} at a thread count, platform or virtual threads):
 * <ol>
 * <li><b>Warm-up</b>: the workers run their loop in chunks of {@value #CHUNK} operations
 *     ({@value #CHUNK} / {@link Workload#opWeight()} for workloads whose operation is long)
 *     for at least {@link Settings#warmupNanos}, and on until the rate settles (three
 *     samples {@value #SAMPLE_MS} ms apart within 5%; at most {@value #MAX_WARMUP_FACTOR}
 *     times the nominal warm-up), so that every loop is compiled by C2 as a normal method
 *     before timing starts. The last sample estimates the time per operation.</li>
 * <li><b>Calibration</b>: a fixed number of operations per thread is chosen from that
 *     estimate so that one timed run takes about {@link Settings#runNanos}, and at least
 *     {@value #MIN_TIMED_OPS} / {@link Workload#opWeight()}.</li>
 * <li><b>Timed runs</b> ({@link Settings#runs} of them): fresh threads of the requested
 *     kind each wait at a start gate (a latch opened once all of them are ready), read
 *     {@code nanoTime}, run the loop for the fixed count, read {@code nanoTime} again.
 *     A run's elapsed time is from the earliest start to the latest end. The rows of one
 *     comparison group take their runs in turn (see {@link #measureGroup}).</li>
 * </ol>
 *
 * <p><b>Definition</b>: ns/op = elapsed / operations per thread, i.e. how long each
 * thread took per operation while all of them ran at once (a per-thread latency, as JMH's
 * avgt mode reports). With more threads than cores the threads take turns, so this grows
 * with the oversubscription; {@link Measurement#aggregateNsPerOp} = elapsed / operations of
 * all threads is the matching throughput figure. The reported value is the median over
 * the runs; min and max are kept.
 *
 * <p>Workloads that must not fill up (rings drained between bursts) are measured in
 * bursts instead; see {@code measureBursts}.
 */
public final class Harness {

    /** Operations per loop call during warm-up. */
    static final int CHUNK = 2_000;

    /**
     * Smallest number of operations per loop call in a timed run: runs call the loop in
     * steps (at most 64 of them) rather than once, so that a run never stays in code
     * compiled for on-stack replacement; one call per step costs nothing measurable.
     */
    static final int TIMED_CHUNK = 16_384;

    /**
     * Fewest operations per thread in a timed run (divided by {@link Workload#opWeight()}),
     * whatever the warm-up estimated.
     */
    static final int MIN_TIMED_OPS = 10_000;

    /** Warm-up rate sampling interval. */
    static final int SAMPLE_MS = 20;

    /** The warm-up ends after this many times its nominal length even if the rate still moves. */
    static final int MAX_WARMUP_FACTOR = 4;

    /** Where loop results go, so the JIT must compute them. */
    @SuppressWarnings("unused")
    private static volatile long sink;

    private Harness() {
    }

    /** How long to warm up and to run. */
    public record Settings(long warmupNanos, long runNanos, int runs) {
        public Settings {
            if (warmupNanos <= 0 || runNanos <= 0 || runs < 1) {
                throw new IllegalArgumentException("bad settings: " + warmupNanos + ", " + runNanos + ", " + runs);
            }
        }

        /** The default run: 0.3 s warm-up and 5 runs of about 60 ms per case. */
        public static Settings standard() {
            return new Settings(TimeUnit.MILLISECONDS.toNanos(300), TimeUnit.MILLISECONDS.toNanos(60), 5);
        }

        /** {@code --quick}: 40 ms warm-up and 3 runs of about 10 ms per case. */
        public static Settings quick() {
            return new Settings(TimeUnit.MILLISECONDS.toNanos(40), TimeUnit.MILLISECONDS.toNanos(10), 3);
        }

        public Settings withRuns(int n) {
            return new Settings(warmupNanos, runNanos, n);
        }
    }

    /**
     * The outcome of one case.
     *
     * @param nsPerOp          median over runs of elapsed / operations per thread
     * @param minNsPerOp       fastest run
     * @param maxNsPerOp       slowest run
     * @param aggregateNsPerOp median over runs of elapsed / operations of all threads
     * @param opsPerThread     operations each thread ran per timed run
     * @param runs             timed runs
     * @param totalOps         operations run by all threads, warm-up included (for checks)
     */
    public record Measurement(double nsPerOp, double minNsPerOp, double maxNsPerOp, double aggregateNsPerOp,
                              long opsPerThread, int runs, long totalOps) {
    }

    /** Measures {@code w} with {@code threads} workers, virtual threads if {@code virtual}. */
    public static Measurement measure(Workload w, int threads, boolean virtual, Settings s) {
        Outcome o = measureGroup(List.of(w), threads, virtual, s, null).get(0);
        if (o.failure() != null) {
            rethrow(o.failure());
        }
        return o.measurement();
    }

    /** Called around every phase (warm-up, timed run, burst series) of case {@code index} of a group. */
    public interface Listener {
        void before(int index);

        void after(int index);
    }

    /** A case's measurement, or why it failed. */
    public record Outcome(Measurement measurement, Throwable failure) {
    }

    /**
     * Measures the workloads of one comparison group (same thread count and kind) with
     * <b>interleaved runs</b>: every workload is warmed up and calibrated first, then run
     * {@code r} of each workload is taken in turn, for r = 1 .. runs. On a machine whose
     * load drifts (other processes, frequency changes) the rows of a group then see the
     * same conditions, so their ratios hold up better than if each row ran all its runs
     * in one block. Workloads in burst mode ({@link Workload#burst()}) are measured one
     * after the other. A workload that throws gets a failed outcome; the others go on.
     */
    public static List<Outcome> measureGroup(List<Workload> ws, int threads, boolean virtual, Settings s,
                                             Listener listener) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1: " + threads);
        }
        Listener l = listener != null ? listener : new Listener() {
            @Override
            public void before(int index) {
            }

            @Override
            public void after(int index) {
            }
        };
        int n = ws.size();
        Outcome[] out = new Outcome[n];
        Loop[][] loops = new Loop[n][];
        long[] ops = new long[n];
        long[] total = new long[n];
        double[][] perOp = new double[n][s.runs()];
        Thread.Builder builder = virtual ? Thread.ofVirtual().name("bench-v", 0)
                : Thread.ofPlatform().daemon().name("bench-", 0);
        for (int c = 0; c < n; c++) {
            Workload w = ws.get(c);
            l.before(c);
            try {
                if (w.burst() > 0) {
                    out[c] = new Outcome(measureBursts(w, threads, virtual, s), null);
                    continue;
                }
                loops[c] = new Loop[threads];
                for (int i = 0; i < threads; i++) {
                    loops[c][i] = w.newLoop(i);
                }
                int weight = w.opWeight();
                if (weight < 1) {
                    throw new IllegalArgumentException("opWeight must be >= 1: " + weight);
                }
                WarmUp warm = warmUp(loops[c], builder, s.warmupNanos(), Math.max(1, CHUNK / weight));
                total[c] = warm.ops();
                long k = (long) Math.ceil(s.runNanos() / Math.max(warm.nsPerOp(), 0.1));
                ops[c] = Math.max(Math.max(1, MIN_TIMED_OPS / weight), Math.min(k, 2_000_000_000L));
            } catch (RuntimeException | Error e) {
                out[c] = new Outcome(null, e);
            } finally {
                l.after(c);
            }
        }
        for (int r = 0; r < s.runs(); r++) {
            for (int c = 0; c < n; c++) {
                if (out[c] != null) {
                    continue; // burst mode, or failed
                }
                l.before(c);
                try {
                    long elapsed = timedRun(loops[c], builder, ops[c]);
                    perOp[c][r] = (double) elapsed / ops[c];
                    total[c] += ops[c] * threads;
                } catch (RuntimeException | Error e) {
                    out[c] = new Outcome(null, e);
                } finally {
                    l.after(c);
                }
            }
        }
        List<Outcome> result = new ArrayList<>(n);
        for (int c = 0; c < n; c++) {
            if (out[c] == null) {
                double[] sorted = perOp[c].clone();
                Arrays.sort(sorted);
                double med = median(perOp[c]);
                out[c] = new Outcome(new Measurement(med, sorted[0], sorted[sorted.length - 1], med / threads,
                        ops[c], s.runs(), total[c]), null);
            }
            result.add(out[c]);
        }
        return result;
    }

    /**
     * Burst mode, for workloads that must not fill up (rings without a concurrent
     * consumer): the workers run bursts of {@link Workload#burst()} operations, all
     * released together by a spin barrier; after each burst, with every worker waiting at
     * the barrier, worker 0 calls {@link Workload#betweenBursts()} (untimed). A burst's time
     * is the longest of the workers' own times (each from its start to its end, so a
     * worker the OS released late does not stretch it); a run is as many bursts as fill about
     * {@link Settings#runNanos}, and its ns/op is the sum of its bursts' times over the
     * operations per thread. Warm-up: bursts for {@link Settings#warmupNanos}.
     */
    private static Measurement measureBursts(Workload w, int threads, boolean virtual, Settings s) {
        int burst = w.burst();
        Loop[] loops = new Loop[threads];
        for (int i = 0; i < threads; i++) {
            loops[i] = w.newLoop(i);
        }
        SpinBarrier barrier = new SpinBarrier(threads);
        long[] t0 = new long[threads];
        long[] t1 = new long[threads];
        double[] perOp = new double[s.runs()];
        long[] total = new long[1];
        long[] opsPerRun = new long[1];
        Throwable[] failure = new Throwable[1];
        // written by the leader before it reaches the barrier, read by the others after it
        AtomicBoolean stop = new AtomicBoolean();
        Thread.Builder builder = virtual ? Thread.ofVirtual().name("bench-v", 0)
                : Thread.ofPlatform().daemon().name("bench-", 0);
        Thread[] ts = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            int index = i;
            ts[i] = builder.unstarted(() -> {
                boolean leader = index == 0;
                // leader state: phase -1 warm-up, then run r = 0 .. runs-1
                int run = -1;
                long warmStart = System.nanoTime(), warmBursts = 0, warmNanos = 0;
                long burstsInRun = 0, burstsDone = 0, runNanos = 0;
                long acc = 0;
                try {
                    while (true) {
                        barrier.await();
                        if (stop.get()) {
                            break;
                        }
                        long a = System.nanoTime();
                        acc += loops[index].run(burst);
                        long b = System.nanoTime();
                        t0[index] = a;
                        t1[index] = b;
                        barrier.await();
                        if (!leader) {
                            continue;
                        }
                        // the slowest worker's own time: a worker that the OS ran late
                        // (the barrier spins, so on a busy machine one may wait for a
                        // time slice) does not add its delay to the others' time
                        long elapsed = 1;
                        for (int k = 0; k < threads; k++) {
                            elapsed = Math.max(elapsed, t1[k] - t0[k]);
                        }
                        total[0] += (long) burst * threads;
                        w.betweenBursts();
                        if (run < 0) {
                            warmBursts++;
                            warmNanos += elapsed;
                            if (System.nanoTime() - warmStart >= s.warmupNanos() && warmBursts >= 10) {
                                double est = (double) warmNanos / warmBursts; // per burst
                                burstsInRun = Math.max(4, (long) Math.ceil(s.runNanos() / est));
                                opsPerRun[0] = burstsInRun * burst;
                                run = 0;
                            }
                        } else {
                            runNanos += elapsed;
                            if (++burstsDone == burstsInRun) {
                                perOp[run] = (double) runNanos / opsPerRun[0];
                                runNanos = 0;
                                burstsDone = 0;
                                if (++run == s.runs()) {
                                    stop.set(true);
                                }
                            }
                        }
                    }
                } catch (Throwable t) {
                    fail(failure, t);
                    stop.set(true);
                    barrier.breakIt();
                }
                sink = acc;
            });
        }
        for (Thread t : ts) {
            t.start();
        }
        joinAll(ts);
        rethrow(failure[0]);
        double[] sorted = perOp.clone();
        Arrays.sort(sorted);
        double med = median(perOp);
        return new Measurement(med, sorted[0], sorted[sorted.length - 1], med / threads, opsPerRun[0], s.runs(),
                total[0]);
    }

    /** A reusable barrier that spins (yielding after a while): burst starts line up within a few ns. */
    static final class SpinBarrier {
        private final int parties;
        private final java.util.concurrent.atomic.AtomicInteger arrived = new java.util.concurrent.atomic.AtomicInteger();
        private volatile int generation;
        private volatile boolean broken;

        SpinBarrier(int parties) {
            this.parties = parties;
        }

        void await() {
            int g = generation;
            if (arrived.incrementAndGet() == parties) {
                arrived.set(0);
                generation = g + 1;
                return;
            }
            int spins = 0;
            while (generation == g) {
                if (broken) {
                    throw new IllegalStateException("another worker failed");
                }
                if (++spins < 100_000) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
        }

        void breakIt() {
            broken = true;
        }
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        int n = c.length;
        return n % 2 == 1 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    }

    /**
     * Runs the loops in chunks until at least {@code nanos} have passed and the rate has
     * settled (the last three samples, {@value #SAMPLE_MS} ms apart, within 5% of each
     * other), or {@value #MAX_WARMUP_FACTOR} times {@code nanos} have passed. Returns the
     * estimated per-thread ns/op of the last sample and the operations run.
     */
    private static WarmUp warmUp(Loop[] loops, Thread.Builder builder, long nanos, int chunk) {
        int n = loops.length;
        // per-worker operation counts, 16 longs apart so that workers do not share a line
        AtomicLongArray counts = new AtomicLongArray(16 * n);
        Throwable[] failure = new Throwable[1];
        AtomicBoolean done = new AtomicBoolean();
        Thread[] ts = new Thread[n];
        for (int i = 0; i < n; i++) {
            int index = i;
            ts[i] = builder.unstarted(() -> {
                long count = 0, acc = 0;
                try {
                    do {
                        acc += loops[index].run(chunk);
                        count += chunk;
                        counts.setOpaque(16 * index, count);
                    } while (!done.get());
                } catch (Throwable t) {
                    fail(failure, t);
                    done.set(true);
                }
                sink = acc;
            });
        }
        long t0 = System.nanoTime();
        for (Thread t : ts) {
            t.start();
        }
        double[] rates = new double[3]; // ns per op per thread, most recent last
        int samples = 0;
        long lastTime = t0, lastOps = 0;
        while (!done.get()) {
            sleepNanos(TimeUnit.MILLISECONDS.toNanos(SAMPLE_MS));
            long now = System.nanoTime();
            long ops = 0;
            for (int i = 0; i < n; i++) {
                ops += counts.getOpaque(16 * i);
            }
            if (ops > lastOps) {
                // from the last sample that saw progress: a chunk longer than the sampling
                // interval must not be credited to the last interval alone
                double perThread = (double) (ops - lastOps) / n;
                System.arraycopy(rates, 1, rates, 0, 2);
                rates[2] = (now - lastTime) / perThread;
                samples++;
                lastTime = now;
                lastOps = ops;
            }
            long elapsed = now - t0;
            if (elapsed >= MAX_WARMUP_FACTOR * nanos) {
                break;
            }
            if (elapsed >= nanos && samples >= 3) {
                double lo = Math.min(rates[0], Math.min(rates[1], rates[2]));
                double hi = Math.max(rates[0], Math.max(rates[1], rates[2]));
                if (hi <= lo * 1.05) {
                    break;
                }
            }
        }
        done.set(true);
        joinAll(ts);
        rethrow(failure[0]);
        long total = 0;
        for (int i = 0; i < n; i++) {
            total += counts.get(16 * i);
        }
        return new WarmUp(samples == 0 ? 1_000 : rates[2], total);
    }

    private record WarmUp(double nsPerOp, long ops) {
    }

    private static void fail(Throwable[] failure, Throwable t) {
        synchronized (failure) {
            if (failure[0] == null) {
                failure[0] = t;
            }
        }
    }

    /** One timed run; returns the elapsed nanoseconds from the first start to the last end. */
    private static long timedRun(Loop[] loops, Thread.Builder builder, long ops) {
        int n = loops.length;
        long[] start = new long[n];
        long[] end = new long[n];
        Throwable[] failure = new Throwable[1];
        CountDownLatch ready = new CountDownLatch(n);
        CountDownLatch gate = new CountDownLatch(1);
        Thread[] ts = new Thread[n];
        for (int i = 0; i < n; i++) {
            int index = i;
            ts[i] = builder.unstarted(() -> {
                try {
                    ready.countDown();
                    gate.await();
                    Loop loop = loops[index];
                    long step = Math.max(TIMED_CHUNK, ops / 64), acc = 0;
                    long t0 = System.nanoTime();
                    for (long left = ops; left > 0; left -= step) {
                        acc += loop.run(Math.min(step, left));
                    }
                    long t1 = System.nanoTime();
                    start[index] = t0;
                    end[index] = t1;
                    sink = acc;
                } catch (Throwable t) {
                    fail(failure, t);
                }
            });
        }
        for (Thread t : ts) {
            t.start();
        }
        try {
            ready.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        gate.countDown();
        joinAll(ts);
        rethrow(failure[0]);
        long first = Long.MAX_VALUE, last = Long.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            first = Math.min(first, start[i]);
            last = Math.max(last, end[i]);
        }
        return Math.max(1, last - first);
    }

    private static void joinAll(Thread[] ts) {
        for (Thread t : ts) {
            boolean interrupted = false;
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void sleepNanos(long nanos) {
        long deadline = System.nanoTime() + nanos;
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            try {
                TimeUnit.NANOSECONDS.sleep(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void rethrow(Throwable t) {
        if (t == null) {
            return;
        }
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("benchmark worker failed: " + t, t);
    }
}
