package io.github.rseq4j.bench;

import io.github.rseq4j.PerCpuPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Waiting for a pooled object: 10,000 virtual threads (then 200 platform threads, 50 times
 * each) share 64 objects, each waiting up to 5 s and holding one for 1 ms; {@code PerCpuPool}
 * against {@code ArrayBlockingQueue.poll}, three rounds, wall time and timeouts. Run by hand:
 * {@code java --enable-native-access=ALL-UNNAMED -cp rseq4j-bench/target/benchmarks.jar io.github.rseq4j.bench.FairWaiting}.
 */
public final class FairWaiting {
    private FairWaiting() {}

    interface Acq { Object get() throws InterruptedException; }
    interface Rel { void put(Object o); }
    public static void main(String[] a) throws Exception {
        for (int round = 0; round < 3; round++) {
            for (boolean virtual : new boolean[]{true, false}) {
                int threads = virtual ? 10_000 : 200, repeats = virtual ? 1 : 50;
                PerCpuPool<Object> pool = new PerCpuPool<>(Object::new, 64);
                ArrayBlockingQueue<Object> abq = new ArrayBlockingQueue<>(64);
                for (int i = 0; i < 64; i++) abq.add(new Object());
                String kind = virtual ? "10000 virtual" : "200 platform x50";
                run("PerCpuPool         " + kind, threads, repeats, virtual, () -> pool.acquire(Duration.ofSeconds(5)), pool::release);
                run("ArrayBlockingQueue " + kind, threads, repeats, virtual, () -> abq.poll(5, TimeUnit.SECONDS), abq::add);
            }
        }
    }
    static void run(String name, int threads, int repeats, boolean virtual, Acq acq, Rel rel) throws Exception {
        AtomicInteger timeouts = new AtomicInteger();
        List<Thread> ts = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < threads; i++) {
            Runnable r = () -> {
                try {
                    for (int k = 0; k < repeats; k++) {
                        Object o = acq.get();
                        if (o == null) { timeouts.incrementAndGet(); continue; }
                        Thread.sleep(1);
                        rel.put(o);
                    }
                } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
            };
            ts.add(virtual ? Thread.ofVirtual().start(r) : Thread.ofPlatform().start(r));
        }
        for (Thread t : ts) t.join();
        System.out.printf("%-40s %.2f s, %d timeouts%n", name, (System.nanoTime() - t0) / 1e9, timeouts.get());
    }
}
