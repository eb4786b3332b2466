package io.github.rseq4j.stress;

import io.github.rseq4j.PerCpuRingBuffer;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Set;

/**
 * {@link PerCpuRingBuffer} through its public API, policy {@code WAIT}: the memcpy
 * scenario's records ({@link RecordCheck}: producer, sequence number, checksum, odd
 * lengths) written by the workers while one consumer thread drains. Checks as memcpy's:
 * every record received exactly once, intact, and in order per producer within each ring;
 * nothing left pending, nothing dropped.
 *
 * <p>A write waits for room at most {@value #MAX_WAIT_MILLIS} ms, then the worker counts a
 * wait timeout and tries again (a write that throws wrote nothing), so that workers see the
 * end of a failed or timed-out run.
 */
final class RingBufferScenario extends Scenario {
    static final int RING_CAPACITY = 1 << 14;
    static final long MAX_WAIT_MILLIS = 200;

    private PerCpuRingBuffer rings;
    private MemorySegment[] scratch;
    private long[] waitTimeouts;
    // consumer state (consumer thread only, then verify() after it ended)
    private RecordCheck records;
    private long drains;

    RingBufferScenario(Run run) {
        super(run);
    }

    @Override
    void setUp() {
        rings = new PerCpuRingBuffer(RING_CAPACITY, PerCpuRingBuffer.OverflowPolicy.WAIT,
                Duration.ofMillis(MAX_WAIT_MILLIS));
        int threads = run.config.threads();
        scratch = new MemorySegment[threads];
        for (int t = 0; t < threads; t++) {
            scratch[t] = MemorySegment.ofArray(new byte[RecordCheck.MAX_LEN]);
        }
        waitTimeouts = new long[threads];
        records = new RecordCheck(threads, rings.rings());
    }

    @Override
    Set<Fault> faults() {
        return Set.of(Fault.DUPLICATE_RECORD);
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
        write(w, rec.asSlice(0, len));
        if (injects(Fault.DUPLICATE_RECORD, w, rep)) {
            write(w, rec.asSlice(0, len));
        }
    }

    private void write(Worker w, MemorySegment record) {
        while (true) {
            try {
                if (!rings.write(record)) {
                    throw run.abort("worker " + w.index + ": a WAIT write returned false");
                }
                return;
            } catch (IllegalStateException e) {
                if (rings.isClosed()) {
                    throw e;
                }
                waitTimeouts[w.index]++; // no room within the wait; nothing was written
                run.check();
            }
        }
    }

    @Override
    Runnable background() {
        return () -> {
            run.backgroundReady.countDown();
            while (!run.workersDone()) {
                run.check();
                if (drain() == 0) {
                    Thread.yield();
                }
            }
            while (!run.stopping() && drain() > 0) {
                // the last records, committed before the workers ended
            }
        };
    }

    private long drain() {
        drains++;
        return rings.drain((ring, bytes, length) -> records.accept(ring, bytes, length));
    }

    @Override
    Verdict verify() {
        long pending = rings.pending();
        long[] written = new long[run.config.threads()];
        for (int p = 0; p < written.length; p++) {
            written[p] = operations(p);
        }
        Verdict.Builder v = Verdict.builder();
        records.report(v, written);
        return v.detail("wait-timeouts", sum(waitTimeouts)).detail("drains", drains)
                .check(pending == 0, pending + " bytes left unread in the rings")
                .check(rings.dropped() == 0, rings.dropped() + " records dropped by WAIT writes")
                .build(records.received());
    }

    @Override
    void tearDown() {
        rings.close();
    }
}
