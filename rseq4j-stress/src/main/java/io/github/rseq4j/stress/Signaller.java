package io.github.rseq4j.stress;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.os.Libc;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Interrupts the workers with signals, as the kernel's param_test and the aarch64 harness
 * do: a signal delivered to a thread inside a critical section aborts it. Workers publish
 * the kernel id of the OS thread they run on ({@link #publish}: a virtual worker's carrier
 * at that moment); the signaller sends each SIGPIPE with {@code tgkill} every period. The
 * JVM installs a handler for SIGPIPE and ignores the signal, so the delivery (and the rseq
 * abort it causes) is all that happens; a thread that has exited makes {@code tgkill} fail
 * with ESRCH, which is ignored.
 */
final class Signaller {
    private static final int SIGPIPE = 13;
    /** Publish the worker's thread id every this many operations (a system call). */
    private static final long PUBLISH_EVERY = 64;
    /** How long a worker waits for the first signal before its first operation. */
    private static final long FIRST_SIGNAL_WAIT_NANOS = 10_000_000_000L;

    private final AtomicIntegerArray tids;
    private final long periodNanos;
    private final long tgkill;
    private final long pid = ProcessHandle.current().pid();
    /** Written by the signaller's thread only; read by workers waiting for the first signal. */
    private volatile long sent;

    /** Signals for {@code workers} workers every {@code micros} microseconds. */
    Signaller(int workers, long micros) {
        this.tids = new AtomicIntegerArray(workers);
        this.periodNanos = micros * 1000;
        this.tgkill = switch (Arch.current()) {
            case X86_64 -> 234;
            case AARCH64 -> 131;
            default -> -1;
        };
    }

    /** Why this process cannot send the signals, or null when it can. */
    String unavailableReason() {
        if (!Libc.AVAILABLE) {
            return "signals need the C library (Linux): " + Libc.UNAVAILABLE_REASON;
        }
        return tgkill < 0 ? "signals need tgkill's number for " + Arch.current().displayName() : null;
    }

    /**
     * Called by worker {@code index} before operation {@code rep}: publishes its OS thread's id
     * now and then. Before its first operation a worker also waits (at most
     * {@link #FIRST_SIGNAL_WAIT_NANOS}) until a signal was sent: on a loaded machine the
     * signaller's thread could otherwise be left unscheduled until every worker was done, and
     * a run asked to be signalled was not (HistogramScenarioTest saw signals=0 at load 18).
     */
    void publish(int index, long rep) {
        if (rep % PUBLISH_EVERY == 0) {
            tids.lazySet(index, Libc.gettid());
            if (rep == 0) {
                long deadline = System.nanoTime() + FIRST_SIGNAL_WAIT_NANOS;
                while (sent == 0 && System.nanoTime() < deadline) {
                    Thread.yield();
                }
            }
        }
    }

    /** Signals every published worker thread each period until {@code run}'s workers are done. */
    void loop(Run run) {
        while (!run.workersDone() && !run.stopping()) {
            for (int i = 0; i < tids.length(); i++) {
                int tid = tids.get(i);
                if (tid > 0 && Libc.syscall(tgkill, pid, tid, SIGPIPE) == 0) {
                    sent = sent + 1;    // one writer: this thread
                }
            }
            LockSupport.parkNanos(periodNanos);
        }
    }

    /** Signals delivered to worker threads (read after {@link #loop} ended). */
    long sent() {
        return sent;
    }
}
