package io.github.rseq4j.stress;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.BitSet;

/**
 * The records of the ring scenarios (memcpy, ringbuffer) and the consumer's checks.
 *
 * <p>A record is (producer, sequence number, checksum) plus 0 to 40 pattern bytes, so
 * records have odd lengths and wrap around the ring ends; producer {@code p}'s record
 * {@code seq} is the one it writes in its operation {@code seq}. The checks: every record
 * written arrives exactly once, intact, and each producer's sequence numbers increase
 * within each ring.
 *
 * <p>One consumer thread calls {@link #accept}; {@link #report} reads the counts after it
 * ended. The received sequence numbers are kept per producer in a window that slides past
 * the numbers received without gaps, so a long timed run needs memory only for the records
 * in flight, not for every record.
 */
final class RecordCheck {
    static final int HEADER = 24;
    static final int MAX_LEN = HEADER + 40;
    /** Farther ahead than any record in flight can be: a sequence number beyond is corrupt. */
    private static final long MAX_AHEAD = 1L << 26;
    private static final VarHandle LONG_AT =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());

    private final int producers;
    private final int rings;
    private final Seen[] seen;
    private final long[][] lastSeq;
    private long received;
    private long duplicates;
    private long outOfOrder;
    private long bad;
    private String firstProblem;

    RecordCheck(int producers, int rings) {
        this.producers = producers;
        this.rings = rings;
        this.seen = new Seen[producers];
        for (int p = 0; p < producers; p++) {
            seen[p] = new Seen();
        }
        this.lastSeq = new long[rings][producers];
        for (long[] row : lastSeq) {
            Arrays.fill(row, -1);
        }
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

    /** Writes record {@code seq} of {@code producer} into {@code rec} ({@link #MAX_LEN} bytes); returns its length. */
    static int fill(MemorySegment rec, long producer, long seq) {
        int len = length(producer, seq);
        rec.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, producer);
        rec.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, seq);
        rec.set(ValueLayout.JAVA_LONG_UNALIGNED, 16, checksum(producer, seq, len));
        for (int k = HEADER; k < len; k++) {
            rec.set(ValueLayout.JAVA_BYTE, k, pattern(producer, seq, k));
        }
        return len;
    }

    /** One record read from ring {@code ring}: {@code buf[0, len)}. */
    void accept(int ring, byte[] buf, long len) {
        if (ring < 0 || ring >= rings) {
            problem("a record from ring " + ring + " of " + rings);
            return;
        }
        if (len < HEADER || len > MAX_LEN) {
            problem("ring " + ring + ": record of " + len + " bytes");
            return;
        }
        long p = (long) LONG_AT.get(buf, 0);
        long seq = (long) LONG_AT.get(buf, 8);
        long sum = (long) LONG_AT.get(buf, 16);
        if (p < 0 || p >= producers || seq < 0 || len != length(p, seq) || sum != checksum(p, seq, (int) len)
                || !patternMatches(buf, p, seq, (int) len) || seq - seen[(int) p].base >= MAX_AHEAD) {
            problem("ring " + ring + ": corrupt record (producer " + p + ", seq " + seq + ", " + len + " bytes)");
            return;
        }
        if (seen[(int) p].add(seq)) {
            received++;
        } else {
            duplicates++;
            if (firstProblem == null) {
                firstProblem = "record " + p + "/" + seq + " read twice";
            }
        }
        if (seq <= lastSeq[ring][(int) p]) {
            outOfOrder++;
            if (firstProblem == null) {
                firstProblem = "ring " + ring + ": producer " + p + " seq " + seq + " after " + lastSeq[ring][(int) p];
            }
        }
        lastSeq[ring][(int) p] = seq;
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

    /** Records received once each. */
    long received() {
        return received;
    }

    /**
     * Adds the counts and checks to {@code v}, given how many records each producer wrote
     * ({@code written[p]}: its records 0 to written[p] - 1).
     */
    void report(Scenario.Verdict.Builder v, long[] written) {
        long expected = Scenario.sum(written);
        int mismatched = 0;
        String firstMismatch = null;
        for (int p = 0; p < producers; p++) {
            Seen s = seen[p];
            if (s.count != written[p] || s.max >= written[p]) {
                mismatched++;
                if (firstMismatch == null) {
                    firstMismatch = "producer " + p + " wrote " + written[p] + ", " + s.count
                            + " received, highest seq " + s.max;
                }
            }
        }
        String first = firstProblem == null ? "" : " (first: " + firstProblem + ")";
        v.detail("records", received).detail("duplicates", duplicates).detail("out-of-order", outOfOrder)
                .detail("bad", bad)
                .check(received >= expected, (expected - received) + " of " + expected + " records missing")
                .check(received <= expected, (received - expected) + " records more than the " + expected + " written")
                .check(mismatched == 0 || received != expected, "the records of " + mismatched
                        + " producers differ from what they wrote (first: " + firstMismatch + ")")
                .check(duplicates == 0, duplicates + " records read twice" + first)
                .check(outOfOrder == 0, outOfOrder + " records out of order within a ring" + first)
                .check(bad == 0, bad + " corrupt records" + first);
    }

    /**
     * The sequence numbers received from one producer: every number below {@code base},
     * and the set bits of {@code bits} above it ({@code bits[i]} stands for
     * {@code base + i}). The window moves up once its first {@value #SLIDE} numbers are in.
     */
    private static final class Seen {
        private static final int SLIDE = 1 << 12;
        long base;
        BitSet bits = new BitSet();
        long count;
        long max = -1;

        /** Adds {@code seq} (at least 0, less than {@link #MAX_AHEAD} above base); false when it was in already. */
        boolean add(long seq) {
            if (seq < base || bits.get((int) (seq - base))) {
                return false;
            }
            bits.set((int) (seq - base));
            count++;
            max = Math.max(max, seq);
            if (seq - base < SLIDE) {
                return true;
            }
            int low = bits.nextClearBit(0);
            if (low >= SLIDE) {
                bits = bits.get(low, Math.max(low, bits.length()));
                base += low;
            }
            return true;
        }
    }
}
