package io.github.rseq4j.jackson;

import io.github.rseq4j.Rseq;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Round trips (write a document to bytes, read it back, compare) through both Jackson lines
 * on the per-CPU pool, concurrently: 8 platform threads looping, and 100,000 virtual
 * threads doing one round trip each. A checking pool marks each recycler in use while a
 * parser or generator holds it, so a recycler handed to two at once is counted; a sampler
 * checks the pool never holds more than CPUs x per-CPU capacity; at the end every recycler
 * given back is either pooled or was dropped (created = pooled + dropped, exactly).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class RecyclerPoolRoundTripTest {
    private static final int PER_CPU = 4;

    private static JacksonLine line(int version) {
        return version == 2 ? JacksonLine.jackson2(PER_CPU) : JacksonLine.jackson3(PER_CPU);
    }

    @ParameterizedTest(name = "Jackson {0}")
    @ValueSource(ints = {2, 3})
    void platformThreadsLooping(int version) throws Exception {
        JacksonLine line = line(version);
        int threads = 8, rounds = 1_500;
        run(line, threads, false, rounds);
        // In portable mode an operation that meets its slice held allocates or drops instead of waiting
        // (see below), so 8 threads on 2 CPUs reuse less: 3,269 made for 24,000 acquires in one CI run.
        long most = Rseq.isRseqMode() ? line.acquires.get() / 10 : line.acquires.get() / 4;
        assertTrue(line.cache().created() < most,
                "recyclers were reused: " + line.cache().created() + " made for " + line.acquires.get() + " acquires");
    }

    @ParameterizedTest(name = "Jackson {0}")
    @ValueSource(ints = {2, 3})
    void hundredThousandVirtualThreadsOneRoundTripEach(int version) throws Exception {
        JacksonLine line = line(version);
        run(line, 100_000, true, 1);
        // In portable mode a per-CPU operation takes its slice like a try-lock, and the cache never waits: an
        // acquire or release that meets a held slice allocates or drops, so with 100,000 virtual threads on
        // free CPUs fewer recyclers are reused (84,709 and 113,944 made for 200,000 acquires in two quiet runs):
        // there a quarter must be reused. Raising portable mode's reuse is open work (issue 21).
        long most = Rseq.isRseqMode() ? line.acquires.get() / 4 : line.acquires.get() * 3 / 4;
        assertTrue(line.cache().created() < most,
                "recyclers were reused across virtual threads: " + line.cache().created() + " made for "
                        + line.acquires.get() + " acquires");
    }

    private static void run(JacksonLine line, int threads, boolean virtual, int rounds) throws Exception {
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger peak = new AtomicInteger();
        AtomicInteger wrong = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread sampler = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                peak.accumulateAndGet(line.pooledCount(), Math::max);
                LockSupport.parkNanos(20_000); // sample often, but leave the 2 CPUs to the workers
            }
        });
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            int id = t;
            Runnable body = () -> {
                try {
                    go.await();
                    for (int r = 0; r < rounds; r++) {
                        // every 64th round trip of a platform thread is a large (~64 KB) document
                        int size = !virtual && (r & 63) == 0 ? 64 * 1024 : 1024;
                        Doc doc = Doc.ofSize(id * 100_000L + r, size);
                        byte[] json = line.write(doc);
                        if (!doc.equals(line.read(json))) {
                            wrong.incrementAndGet();
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            };
            started.add(virtual ? Thread.ofVirtual().unstarted(body) : Thread.ofPlatform().unstarted(body));
        }
        started.forEach(Thread::start);
        go.countDown();
        for (Thread t : started) {
            t.join();
        }
        done.set(true);
        sampler.join();
        if (failure.get() != null) {
            throw new AssertionError(line + ": a round trip failed", failure.get());
        }
        assertEquals(0, wrong.get(), line + ": documents that did not read back equal");
        assertEquals(0, line.violations.get(), line + ": a recycler was handed out while in use, or given back twice");
        assertTrue(line.inUse.isEmpty(), line + ": recyclers never given back: " + line.inUse.size());
        assertEquals(line.acquires.get(), line.releases.get());
        assertTrue(line.acquires.get() >= 2L * threads * rounds, line + ": each round trip takes a recycler to write and one to read");
        int bound = line.bound();
        assertTrue(peak.get() <= bound, line + ": peak pooled " + peak.get() + " > bound " + bound);
        int pooled = line.pooledCount();
        assertTrue(pooled > 0 && pooled <= bound, line + ": pooled " + pooled);
        assertEquals(line.cache().created(), pooled + line.cache().dropped(),
                line + ": created " + line.cache().created() + " = pooled " + pooled + " + dropped " + line.cache().dropped());
    }
}
