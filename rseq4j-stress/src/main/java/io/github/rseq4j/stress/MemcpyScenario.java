package io.github.rseq4j.stress;

import io.github.rseq4j.RseqResult;
import io.github.rseq4j.internal.abi.RingFormat;
import io.github.rseq4j.internal.abi.SliceLayout;
import io.github.rseq4j.internal.memory.SliceMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.BitSet;

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
    private static final int HEADER = 24;
    private static final int MAX_LEN = HEADER + 40;

    private long ring;
    private MemorySegment[] scratch;
    private long[] full;
    // consumer state (consumer thread only, then verify() after it ended)
    private BitSet[] seen;
    private long[][] lastSeq;
    private long received;
    private long duplicates;
    private long outOfOrder;
    private long bad;
    private String firstProblem;
    private long drains;

    MemcpyScenario(Run run) {
        super(run);
    }

    static int length(long producer, long seq) {
        return HEADER + (int) ((seq * 31 + producer * 7) % 41);
    }

    private static byte pattern(long producer, long seq, int k) {
        return (byte) (producer * 131 + seq * 17 + k);
    }

    /** FNV-1a over the producer, the sequence number, the length and the pattern bytes. */
    private static long checksum(long producer, long seq, int len) {
        long h = 0xcbf29ce484222325L;
        h = (h ^ producer) * 0x100000001b3L;
        h = (h ^ seq) * 0x100000001b3L;
        h = (h ^ len) * 0x100000001b3L;
        for (int k = HEADER; k < len; k++) {
            h = (h ^ (pattern(producer, seq, k) & 0xff)) * 0x100000001b3L;
        }
        return h;
    }

    @Override
    void setUp() {
        ring = allocate(SliceLayout.RING_DATA + RING_CAPACITY, 64);
        for (int i = 0; i < m.slices(); i++) {
            RingFormat.init(whole, SliceMemory.at(i, ring), RING_CAPACITY);
        }
        int threads = run.config.threads();
        scratch = new MemorySegment[threads];
        for (int t = 0; t < threads; t++) {
            scratch[t] = MemorySegment.ofArray(new byte[MAX_LEN]);
        }
        full = new long[threads];
        seen = new BitSet[threads];
        for (int t = 0; t < threads; t++) {
            seen[t] = new BitSet(run.config.reps());
        }
        lastSeq = new long[m.slices()][threads];
        for (long[] row : lastSeq) {
            java.util.Arrays.fill(row, -1);
        }
    }

    @Override
    long expected() {
        return (long) run.config.threads() * run.config.reps();
    }

    @Override
    void operate(Worker w, int rep) {
        w.pauseIfDue(rep);
        long p = w.index;
        int len = length(p, rep);
        MemorySegment rec = scratch[w.index];
        rec.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, p);
        rec.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, rep);
        rec.set(ValueLayout.JAVA_LONG_UNALIGNED, 16, checksum(p, rep, len));
        for (int k = HEADER; k < len; k++) {
            rec.set(ValueLayout.JAVA_BYTE, k, pattern(p, rep, k));
        }
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
            byte[] buf = new byte[MAX_LEN];
            MemorySegment view = MemorySegment.ofArray(buf);
            run.backgroundReady.countDown();
            while (!run.workersDone()) {
                run.check();
                if (drainAll(buf, view) == 0) {
                    Thread.yield();
                }
            }
            while (!run.stopping() && drainAll(buf, view) > 0) {
                // the last records, committed before the workers ended
            }
        };
    }

    private long drainAll(byte[] buf, MemorySegment view) {
        long n = 0;
        for (int i = 0; i < m.slices(); i++) {
            int index = i;
            n += RingFormat.drain(whole, SliceMemory.at(i, ring), buf, (b, len) -> accept(index, len, buf, view));
        }
        drains++;
        return n;
    }

    private void accept(int ringIndex, long len, byte[] buf, MemorySegment view) {
        if (len < HEADER || len > MAX_LEN) {
            problem("ring " + ringIndex + ": record of " + len + " bytes");
            return;
        }
        long p = view.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        long seq = view.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
        long sum = view.get(ValueLayout.JAVA_LONG_UNALIGNED, 16);
        if (p < 0 || p >= run.config.threads() || seq < 0 || seq >= run.config.reps() || len != length(p, seq)
                || sum != checksum(p, seq, (int) len) || !patternMatches(buf, p, seq, (int) len)) {
            problem("ring " + ringIndex + ": corrupt record (producer " + p + ", seq " + seq + ", " + len + " bytes)");
            return;
        }
        if (seen[(int) p].get((int) seq)) {
            duplicates++;
            if (firstProblem == null) {
                firstProblem = "record " + p + "/" + seq + " read twice";
            }
        } else {
            seen[(int) p].set((int) seq);
            received++;
        }
        if (seq <= lastSeq[ringIndex][(int) p]) {
            outOfOrder++;
            if (firstProblem == null) {
                firstProblem = "ring " + ringIndex + ": producer " + p + " seq " + seq + " after "
                        + lastSeq[ringIndex][(int) p];
            }
        }
        lastSeq[ringIndex][(int) p] = seq;
    }

    private static boolean patternMatches(byte[] buf, long p, long seq, int len) {
        for (int k = HEADER; k < len; k++) {
            if (buf[k] != pattern(p, seq, k)) {
                return false;
            }
        }
        return true;
    }

    private void problem(String s) {
        bad++;
        if (firstProblem == null) {
            firstProblem = s;
        }
    }

    @Override
    Verdict verify() {
        long left = 0;
        for (int i = 0; i < m.slices(); i++) {
            left += RingFormat.used(whole, SliceMemory.at(i, ring));
        }
        String first = firstProblem == null ? "" : " (first: " + firstProblem + ")";
        return Verdict.builder()
                .detail("records", received).detail("duplicates", duplicates).detail("out-of-order", outOfOrder)
                .detail("bad", bad).detail("ring-full", sum(full)).detail("drains", drains)
                .check(received == expected(), (expected() - received) + " of " + expected() + " records missing")
                .check(duplicates == 0, duplicates + " records read twice" + first)
                .check(outOfOrder == 0, outOfOrder + " records out of order within a ring" + first)
                .check(bad == 0, bad + " corrupt records" + first)
                .check(left == 0, left + " bytes left unread in the rings")
                .build(received);
    }
}
