package io.github.rseq4j.stress;

import io.github.rseq4j.RseqResult;
import io.github.rseq4j.internal.abi.RingFormat;
import io.github.rseq4j.internal.abi.SliceLayout;
import io.github.rseq4j.internal.memory.SliceMemory;

import java.lang.foreign.MemorySegment;

/**
 * param_test's "memcpy buffer": producers copy records into the per-CPU ring of the CPU
 * they run on (the ring write critical section: check room, copy, commit the write
 * position), while one consumer drains every ring concurrently. A record is
 * (producer, sequence number, checksum) plus 0 to 40 pattern bytes, so records have odd
 * lengths and wrap around the ring end. Checks: every record arrives exactly once, intact,
 * and each producer's sequence numbers increase within each ring.
 */
final class MemcpyScenario extends Scenario {
    static final int RING_CAPACITY = 1 << 14;

    private long ring;
    private MemorySegment[] scratch;
    private long[] full;
    // consumer state (consumer thread only, then verify() after it ended)
    private RecordCheck records;
    private long drains;

    MemcpyScenario(Run run) {
        super(run);
    }

    @Override
    void setUp() {
        ring = allocate(SliceLayout.RING_DATA + RING_CAPACITY, 64);
        for (int i = 0; i < m.slices(); i++) {
            RingFormat.init(whole, m.at(i, ring), RING_CAPACITY);
        }
        int threads = run.config.threads();
        scratch = new MemorySegment[threads];
        for (int t = 0; t < threads; t++) {
            scratch[t] = MemorySegment.ofArray(new byte[RecordCheck.MAX_LEN]);
        }
        full = new long[threads];
        records = new RecordCheck(threads, m.slices());
    }

    @Override
    long expected() {
        return operations();
    }

    @Override
    void operate(Worker w, long rep) {
        w.pauseIfDue(rep);
        MemorySegment rec = scratch[w.index];
        int len = RecordCheck.fill(rec, w.index, rep);
        for (int attempt = 0; ; attempt++) {
            long r = w.ringWrite(ring, rec, len);
            if (r >= 0) {
                return;
            }
            if (r != RseqResult.FULL) {
                throw run.abort("worker " + w.index + ": ring write returned " + RseqResult.describe(r));
            }
            full[w.index]++;
            w.backoff(attempt);
        }
    }

    @Override
    Runnable background() {
        return () -> {
            byte[] buf = new byte[RecordCheck.MAX_LEN];
            run.backgroundReady.countDown();
            while (!run.workersDone()) {
                run.check();
                if (drainAll(buf) == 0) {
                    Thread.yield();
                }
            }
            while (!run.stopping() && drainAll(buf) > 0) {
                // the last records, committed before the workers ended
            }
        };
    }

    private long drainAll(byte[] buf) {
        long n = 0;
        for (int i = 0; i < m.slices(); i++) {
            int index = i;
            n += RingFormat.drain(whole, m.at(i, ring), buf, (b, len) -> records.accept(index, buf, len));
        }
        drains++;
        return n;
    }

    @Override
    Verdict verify() {
        long left = 0;
        for (int i = 0; i < m.slices(); i++) {
            left += RingFormat.used(whole, m.at(i, ring));
        }
        long[] written = new long[run.config.threads()];
        for (int p = 0; p < written.length; p++) {
            written[p] = operations(p);
        }
        Verdict.Builder v = Verdict.builder();
        records.report(v, written);
        return v.detail("ring-full", sum(full)).detail("drains", drains)
                .check(left == 0, left + " bytes left unread in the rings")
                .build(records.received());
    }
}
