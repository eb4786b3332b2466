package io.github.rseq4j.bench.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Paired runs of two rows of the bench's jackson topic in one JVM (run by {@code dev/ab-jackson};
 * compiled against the bench jar, in the bench command's package to reach {@link JacksonSuite}).
 * Arguments: scenario ({@code small}, {@code large}, {@code task}, {@code pool}), threads,
 * {@code virtual} or {@code platform}, pool A, pool B ({@link JacksonSuite.Pool} names), pairs,
 * operations per thread per run. After 10 warm-up runs of each, every pair is one timed run of
 * A and one of B, the order alternating; a run is timed from the first thread's start to the
 * last one's end, as in the bench. Prints the medians and the median ratio A/B with its
 * interquartile range: the ratio of each pair cancels the load's drift, which one run per row
 * cannot.
 */
public final class JacksonPaired {
    private static volatile long sink;

    public static void main(String[] a) throws Exception {
        String scenario = a[0];
        int threads = Integer.parseInt(a[1]);
        boolean virtual = switch (a[2]) {
            case "virtual" -> true;
            case "platform" -> false;
            default -> throw new IllegalArgumentException("virtual or platform: " + a[2]);
        };
        JacksonSuite.Pool pa = JacksonSuite.Pool.valueOf(a[3]);
        JacksonSuite.Pool pb = JacksonSuite.Pool.valueOf(a[4]);
        int pairs = Integer.parseInt(a[5]);
        long ops = Long.parseLong(a[6]);
        Workload wa = make(scenario, pa), wb = make(scenario, pb);
        Loop[] la = loops(wa, threads), lb = loops(wb, threads);
        // warm-up: 10 runs each
        for (int i = 0; i < 10; i++) {
            run(la, virtual, ops);
            run(lb, virtual, ops);
        }
        double[] ra = new double[pairs], rb = new double[pairs], ratio = new double[pairs];
        for (int p = 0; p < pairs; p++) {
            long ta, tb;
            if ((p & 1) == 0) {
                ta = run(la, virtual, ops);
                tb = run(lb, virtual, ops);
            } else {
                tb = run(lb, virtual, ops);
                ta = run(la, virtual, ops);
            }
            ra[p] = (double) ta / ops;
            rb[p] = (double) tb / ops;
            ratio[p] = (double) ta / tb;
        }
        System.out.printf("%s %d %s %s/%s pairs=%d ops=%d: A median %.0f ns, B median %.0f ns, A/B median %.3f (IQR %.3f..%.3f), A faster in %d of %d%n",
                scenario, threads, virtual ? "virtual" : "platform", pa.row, pb.row, pairs, ops, q(ra, .5), q(rb, .5),
                q(ratio, .5), q(ratio, .25), q(ratio, .75), Arrays.stream(ratio).filter(r -> r < 1).count(), pairs);
    }

    static double q(double[] v, double f) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c[(int) Math.floor(f * (c.length - 1))];
    }

    static Workload make(String s, JacksonSuite.Pool p) {
        return switch (s) {
            case "small" -> JacksonSuite.roundTrips(p, JacksonSuite.SMALL);
            case "large" -> JacksonSuite.roundTrips(p, JacksonSuite.LARGE);
            case "task" -> JacksonSuite.perTask(p);
            case "pool" -> JacksonSuite.poolOnly(p);
            default -> throw new IllegalArgumentException(s);
        };
    }

    static Loop[] loops(Workload w, int n) {
        Loop[] l = new Loop[n];
        for (int i = 0; i < n; i++) {
            l[i] = w.newLoop(i);
        }
        return l;
    }

    static long run(Loop[] loops, boolean virtual, long ops) throws InterruptedException {
        int n = loops.length;
        CountDownLatch ready = new CountDownLatch(n), gate = new CountDownLatch(1);
        long[] s = new long[n], e = new long[n];
        Thread.Builder b = virtual ? Thread.ofVirtual() : Thread.ofPlatform();
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            ts.add(b.start(() -> {
                ready.countDown();
                try {
                    gate.await();
                } catch (InterruptedException x) {
                    throw new RuntimeException(x);
                }
                long step = Math.max(1, ops / 16), acc = 0;
                long t0 = System.nanoTime();
                for (long left = ops; left > 0; left -= step) {
                    acc += loops[k].run(Math.min(step, left));
                }
                sink += acc;
                e[k] = System.nanoTime();
                s[k] = t0;
            }));
        }
        ready.await();
        gate.countDown();
        for (Thread t : ts) {
            t.join();
        }
        long first = Long.MAX_VALUE, last = Long.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            first = Math.min(first, s[i]);
            last = Math.max(last, e[i]);
        }
        return last - first;
    }
}
