package io.github.rseq4j.internal.memory;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.RseqResult;
import io.github.rseq4j.internal.Ops;
import io.github.rseq4j.internal.ops.OperationSet;
import io.github.rseq4j.internal.registration.ThreadRegistrations;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.github.rseq4j.internal.memory.SliceMemory.at;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Per-CPU operations that always complete: the generated critical section first, and
 * when it cannot commit (no registration, too many aborts, slice stopped) the same
 * operation on a slice taken with the stop protocol. In portable mode only the second.
 *
 * <p>Implementation notes. A record, so that {@link #DEFAULT} (a {@code static final})
 * and its operation sets are constants to the JIT. The fast path of each method is one
 * downcall and a sign test; everything else lives in {@code slow*} methods, which the
 * stress harness also calls directly to force the fallback path on chosen threads.
 * A thread that reports NOT_REGISTERED is registered (where rseq4j owns registration)
 * and retried once before falling back.
 *
 * <p>Callers validate arguments; methods here trust offsets and node addresses.
 *
 * @param cpuId          operations for {@link IndexMode#CPU_ID} memory, or null (portable)
 * @param concurrencyId  operations for {@link IndexMode#CONCURRENCY_ID} memory, or null
 */
public record SliceOps(OperationSet cpuId, OperationSet concurrencyId) {

    /** The process's operations (portable where there is no rseq). */
    public static final SliceOps DEFAULT = new SliceOps(Ops.CPU_ID, Ops.CONCURRENCY_ID);

    /** Reason code for operations run in portable mode. */
    public static final long PORTABLE = Long.MIN_VALUE;

    /** The generated operations for {@code m}'s index mode, or null in portable mode. */
    public OperationSet set(SliceMemory m) {
        return m.mode() == IndexMode.CPU_ID ? cpuId : concurrencyId;
    }

    /** Whether an operation reached its decision: it committed, or a compare failed. */
    private static boolean decided(long r) {
        return r >= 0 || r == RseqResult.COMPARE_FAILED;
    }

    private static boolean retryable(long r) {
        return r == RseqResult.NOT_REGISTERED && ThreadRegistrations.ensureRegistered();
    }

    private static void count(long reason) {
        if (reason == PORTABLE) {
            Ops.RUNTIME.stats.recordPortable();
        } else {
            Ops.RUNTIME.stats.record(reason);
        }
    }

    /** An operation on slice {@code index}, which the caller holds stopped. */
    @FunctionalInterface
    private interface OnStoppedSlice {
        long apply(int index);
    }

    /**
     * The fallback path shared by every operation: counts why, stops a slice (the
     * caller's CPU's if free), runs {@code op} on it with plain accesses, restarts it.
     */
    private static long onStoppedSlice(SliceMemory m, long reason, OnStoppedSlice op) {
        count(reason);
        int i = m.stopForOperation();
        try {
            return op.apply(i);
        } finally {
            m.start(i);
        }
    }

    // ------------------------------------------------------------------ add

    /** *v += delta on the caller's slice; returns the index used. */
    public long add(SliceMemory m, long off, long delta) {
        OperationSet s = set(m);
        if (s != null) {
            long r = rawAdd(s, m.base(), off, delta);
            if (r >= 0 || (retryable(r) && (r = rawAdd(s, m.base(), off, delta)) >= 0)) {
                return r;
            }
            return slowAdd(m, off, delta, r);
        }
        return slowAdd(m, off, delta, PORTABLE);
    }

    /** One attempt of the generated add: index or a failure code. */
    public static long rawAdd(OperationSet s, long base, long off, long delta) {
        try {
            return (long) s.add().invokeExact(base, off, delta);
        } catch (Throwable t) {
            throw Ops.rethrow(t);
        }
    }

    public static long slowAdd(SliceMemory m, long off, long delta, long reason) {
        return onStoppedSlice(m, reason, i -> {
            MemorySegment w = m.whole();
            long a = at(i, off);
            w.set(JAVA_LONG, a, w.get(JAVA_LONG, a) + delta);
            return i;
        });
    }

    // ------------------------------------------------------------------ compare-and-store

    /** If *v == expect then *v = newValue, on the caller's slice: index or COMPARE_FAILED. */
    public long compareAndStore(SliceMemory m, long off, long expect, long newValue, boolean release) {
        OperationSet s = set(m);
        if (s != null) {
            long r = rawCompareAndStore(s, m.base(), off, expect, newValue, release);
            if (decided(r) || (retryable(r) && decided(r = rawCompareAndStore(s, m.base(), off, expect, newValue, release)))) {
                return r;
            }
            return slowCompare2AndStore(m, off, expect, off, expect, newValue, r);
        }
        return slowCompare2AndStore(m, off, expect, off, expect, newValue, PORTABLE);
    }

    public static long rawCompareAndStore(OperationSet s, long base, long off, long expect, long newValue, boolean release) {
        try {
            return release
                    ? (long) s.compareAndStoreRelease().invokeExact(base, off, expect, newValue)
                    : (long) s.compareAndStore().invokeExact(base, off, expect, newValue);
        } catch (Throwable t) {
            throw Ops.rethrow(t);
        }
    }

    /** If *v1 == e1 and *v2 == e2 then *v1 = newValue: index or COMPARE_FAILED. */
    public long compare2AndStore(SliceMemory m, long off1, long e1, long off2, long e2, long newValue) {
        OperationSet s = set(m);
        if (s != null) {
            long r = rawCompare2AndStore(s, m.base(), off1, e1, off2, e2, newValue);
            if (decided(r) || (retryable(r) && decided(r = rawCompare2AndStore(s, m.base(), off1, e1, off2, e2, newValue)))) {
                return r;
            }
            return slowCompare2AndStore(m, off1, e1, off2, e2, newValue, r);
        }
        return slowCompare2AndStore(m, off1, e1, off2, e2, newValue, PORTABLE);
    }

    public static long rawCompare2AndStore(OperationSet s, long base, long off1, long e1, long off2, long e2, long nv) {
        try {
            return (long) s.compare2AndStore().invokeExact(base, off1, e1, off2, e2, nv);
        } catch (Throwable t) {
            throw Ops.rethrow(t);
        }
    }

    /** Compare-and-store on a stopped slice (one compare when off1 == off2 and e1 == e2). */
    public static long slowCompare2AndStore(SliceMemory m, long off1, long e1, long off2, long e2, long nv, long reason) {
        return onStoppedSlice(m, reason, i -> {
            MemorySegment w = m.whole();
            if (w.get(JAVA_LONG, at(i, off1)) != e1 || w.get(JAVA_LONG, at(i, off2)) != e2) {
                return RseqResult.COMPARE_FAILED;
            }
            w.set(JAVA_LONG, at(i, off1), nv);
            return i;
        });
    }

    // ------------------------------------------------------------------ lists

    /** Pushes {@code node} on the caller's slice's list at headOff; returns the index. */
    public long push(SliceMemory m, long headOff, long node, long nextOff) {
        OperationSet s = set(m);
        if (s != null) {
            long r = rawPush(s, m.base(), headOff, node, nextOff);
            if (r >= 0 || (retryable(r) && (r = rawPush(s, m.base(), headOff, node, nextOff)) >= 0)) {
                return r;
            }
            return slowPush(m, headOff, node, nextOff, r);
        }
        return slowPush(m, headOff, node, nextOff, PORTABLE);
    }

    public static long rawPush(OperationSet s, long base, long headOff, long node, long nextOff) {
        try {
            return (long) s.push().invokeExact(base, headOff, node, nextOff);
        } catch (Throwable t) {
            throw Ops.rethrow(t);
        }
    }

    public static long slowPush(SliceMemory m, long headOff, long node, long nextOff, long reason) {
        return onStoppedSlice(m, reason, i -> {
            pushStopped(m, i, headOff, node, nextOff);
            return i;
        });
    }

    /** Pops from the caller's slice's list: the node's address, or COMPARE_FAILED when empty. */
    public long pop(SliceMemory m, long headOff, long nextOff) {
        OperationSet s = set(m);
        if (s != null) {
            long r = rawPop(s, m.base(), headOff, nextOff);
            if (decided(r) || (retryable(r) && decided(r = rawPop(s, m.base(), headOff, nextOff)))) {
                return r;
            }
            return slowPop(m, headOff, nextOff, r);
        }
        return slowPop(m, headOff, nextOff, PORTABLE);
    }

    public static long rawPop(OperationSet s, long base, long headOff, long nextOff) {
        try {
            return (long) s.pop().invokeExact(base, headOff, nextOff);
        } catch (Throwable t) {
            throw Ops.rethrow(t);
        }
    }

    public static long slowPop(SliceMemory m, long headOff, long nextOff, long reason) {
        return onStoppedSlice(m, reason, i -> popStopped(m, i, headOff, nextOff));
    }

    /** Pops from slice {@code i}, which the caller has stopped: address or COMPARE_FAILED. */
    public static long popStopped(SliceMemory m, int i, long headOff, long nextOff) {
        MemorySegment w = m.whole();
        long head = w.get(JAVA_LONG, at(i, headOff));
        if (head == 0) {
            return RseqResult.COMPARE_FAILED;
        }
        long next = MemorySegment.ofAddress(head + nextOff).reinterpret(8).get(JAVA_LONG, 0);
        w.set(JAVA_LONG, at(i, headOff), next);
        return head;
    }

    /** Pushes on slice {@code i}, which the caller has stopped. */
    public static void pushStopped(SliceMemory m, int i, long headOff, long node, long nextOff) {
        MemorySegment w = m.whole();
        long head = w.get(JAVA_LONG, at(i, headOff));
        MemorySegment.ofAddress(node + nextOff).reinterpret(8).set(JAVA_LONG, 0, head);
        w.set(JAVA_LONG, at(i, headOff), node);
    }

    // ------------------------------------------------------------------ rings

    /**
     * Appends one record to the caller's slice's ring at ringOff: index, or COMPARE_FAILED
     * when that ring has no room. {@code src} may be a heap or native segment.
     */
    public long ringWrite(SliceMemory m, long ringOff, MemorySegment src, long len) {
        OperationSet s = set(m);
        if (s != null) {
            long r = rawRingWrite(s, m.base(), ringOff, src, len);
            if (decided(r) || (retryable(r) && decided(r = rawRingWrite(s, m.base(), ringOff, src, len)))) {
                return r;
            }
            return slowRingWrite(m, ringOff, src, len, r);
        }
        return slowRingWrite(m, ringOff, src, len, PORTABLE);
    }

    public static long rawRingWrite(OperationSet s, long base, long ringOff, MemorySegment src, long len) {
        try {
            return (long) s.ringWrite().invokeExact(base, ringOff, src, len);
        } catch (Throwable t) {
            throw Ops.rethrow(t);
        }
    }

    public static long slowRingWrite(SliceMemory m, long ringOff, MemorySegment src, long len, long reason) {
        return onStoppedSlice(m, reason,
                i -> RingFormat.writeStopped(m.whole(), at(i, ringOff), src, len) ? i : RseqResult.COMPARE_FAILED);
    }

    /** Reads one 64-bit copy of an item with acquire ordering (for sums and snapshots). */
    public static long getAcquire(SliceMemory m, int index, long off) {
        return (long) ValueLayout.JAVA_LONG.varHandle().getAcquire(m.whole(), at(index, off));
    }
}
