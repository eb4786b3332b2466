package io.github.rseq4j.internal.memory;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The per-thread attempt budget of critical sections, adaptive.
 *
 * <p><b>Implementation notes.</b> A critical section that outlives a time slice (a long record
 * copy under heavy oversubscription, a single-stepping debugger) aborts on every attempt,
 * and each aborted attempt costs the time it ran. With a fixed budget every such operation
 * pays {@code rseq4j.maxAttempts} aborted attempts before it falls back. So a thread whose
 * operation exhausted its budget is <em>cut</em>: its next operations run the one-attempt
 * variant of the generated code ({@code OperationSet.invokeOnce}) and fall back after a
 * single abort, and it gets the full budget back after {@link #RECOVERY_DECISIONS}
 * critical sections in a row reach their decision. A storm then costs about one aborted
 * attempt per operation, and ordinary runs (which never exhaust the budget) never pay
 * anything: the fast path reads one process-wide counter ({@link #anyCut()}, a plain load
 * on x86-64) and looks at the thread's state only while some thread is cut.
 *
 * <p>A thread that ends while cut is uncounted by a {@link Cleaner}, so the process-wide
 * counter returns to zero and the fast path to one load.
 */
public final class AbortBudget {
    private AbortBudget() {}

    /** Decisions in a row after which a cut thread gets its full budget back. */
    public static final int RECOVERY_DECISIONS = 64;

    private static final AtomicInteger CUT_THREADS = new AtomicInteger();
    private static final AtomicLong CUTS = new AtomicLong();
    private static final AtomicLong RESTORES = new AtomicLong();
    private static final ThreadLocal<Cut> CUT = new ThreadLocal<>();
    private static final Cleaner CLEANER = Cleaner.create();

    /** A cut thread's state. */
    static final class Cut implements Runnable {
        final AtomicBoolean active = new AtomicBoolean(true);
        int decisions;

        /** Uncounts the thread once (on recovery, or when the thread is gone). */
        @Override
        public void run() {
            if (active.compareAndSet(true, false)) {
                CUT_THREADS.decrementAndGet();
            }
        }
    }

    /** Whether any thread runs with a cut budget now (the fast path's one test). */
    static boolean anyCut() {
        return CUT_THREADS.get() != 0;
    }

    /** The calling thread's cut state, or null when it has its full budget. */
    static Cut current() {
        Cut c = CUT.get();
        return c != null && c.active.get() ? c : null;
    }

    /** The calling thread exhausted its budget: cut it to one attempt (or restart its recovery). */
    static void exhausted() {
        Cut c = current();
        if (c != null) {
            c.decisions = 0;
            return;
        }
        c = new Cut();
        CUT_THREADS.incrementAndGet();
        CUTS.incrementAndGet();
        CUT.set(c);
        CLEANER.register(Thread.currentThread(), c);
    }

    /** A cut thread's section reached its decision; after enough in a row it recovers. */
    static void decided(Cut c) {
        if (++c.decisions >= RECOVERY_DECISIONS) {
            CUT.remove();
            c.run();
            RESTORES.incrementAndGet();
        }
    }

    /** A cut thread's single attempt aborted again. */
    static void abortedAgain(Cut c) {
        c.decisions = 0;
    }

    /**
     * Times a thread was cut to one attempt, since start.
     *
     * @return the number of cuts in this process so far
     */
    public static long cuts() {
        return CUTS.get();
    }

    /**
     * Times a cut thread got its full budget back, since start.
     *
     * @return the number of restores in this process so far
     */
    public static long restores() {
        return RESTORES.get();
    }

    /**
     * Threads running with a cut budget now.
     *
     * @return how many threads are cut to one attempt at the moment of the read
     */
    public static int cutThreads() {
        return CUT_THREADS.get();
    }
}
