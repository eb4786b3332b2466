package io.github.rseq4j.internal.registration;

import io.github.rseq4j.internal.codegen.AreaReaders;

/**
 * Who registered the calling thread, lazy registration, and the per-thread user count
 * behind {@code Rseq.register()}.
 *
 * <p><b>Implementation notes.</b> Users are counted per Java thread. Under glibc's registration
 * (and in portable mode) registering only counts: rseq4j never unregisters what it did
 * not register. Under rseq4j's own registration a platform thread's first
 * {@code register()} registers it and the last {@code close()} unregisters it, unless
 * the registration was already there (made lazily by an rseq4j structure, which relies on
 * it until the thread exits). A virtual thread does not own an OS thread: its
 * {@code register()} registers the current carrier for good (carriers are shared) and
 * counts; its {@code close()} only counts.
 */
public final class ThreadRegistrations {

    /** Who registered a thread. */
    public enum Kind { GLIBC, OWN, NONE }

    private static final class PerThread {
        int users;
        long ownArea; // area registered by an explicit register() on this platform thread
    }

    private final RegistrationStrategy strategy;
    private final boolean glibcRegistersThreads;
    private final OwnRegistrar own;
    private final AreaReaders readers;
    private final ThreadLocal<PerThread> state = ThreadLocal.withInitial(PerThread::new);

    /**
     * @param strategy              how areas are found ({@code NONE} in portable mode)
     * @param glibcRegistersThreads whether glibc registered threads (reported even in portable mode)
     * @param own                   rseq4j's own registrar under {@code OWN}, else null
     * @param readers               the area readers, or null in portable mode
     */
    public ThreadRegistrations(RegistrationStrategy strategy, boolean glibcRegistersThreads, OwnRegistrar own,
                               AreaReaders readers) {
        if ((strategy == RegistrationStrategy.OWN) != (own != null)
                || (strategy == RegistrationStrategy.NONE) != (readers == null)) {
            throw new IllegalArgumentException("inconsistent registration setup: " + strategy);
        }
        this.strategy = strategy;
        this.glibcRegistersThreads = glibcRegistersThreads;
        this.own = own;
        this.readers = readers;
    }

    public RegistrationStrategy strategy() {
        return strategy;
    }

    /** Who registered the calling OS thread right now; never registers it. */
    public Kind current() {
        if (strategy == RegistrationStrategy.NONE) {
            // No generated readers in portable mode; glibc, when it registers, registers every thread.
            return glibcRegistersThreads ? Kind.GLIBC : Kind.NONE;
        }
        if (readers.readCpu() < 0) {
            return Kind.NONE;
        }
        return strategy == RegistrationStrategy.GLIBC ? Kind.GLIBC : Kind.OWN;
    }

    /**
     * Makes sure the calling OS thread is registered, registering it lazily (for good)
     * where rseq4j owns registration. Returns whether it is registered now.
     */
    public boolean ensureRegistered() {
        return switch (strategy) {
            case NONE -> false;
            case GLIBC -> readers.readCpu() >= 0;
            case OWN -> own.registerCurrentThread() != OwnRegistrar.Outcome.REFUSED;
        };
    }

    /** One more user on the calling thread; returns the registration kind it got. */
    public Kind acquire() {
        PerThread st = state.get();
        if (own != null && st.users == 0) {
            OwnRegistrar.Outcome o = own.registerCurrentThread();
            if (o == OwnRegistrar.Outcome.REGISTERED && !Thread.currentThread().isVirtual()) {
                st.ownArea = readers.readArea();
            }
        }
        st.users++;
        return current();
    }

    /** One user less on the calling thread; unregisters when it was the last one and we registered it. */
    public void release() {
        PerThread st = state.get();
        if (st.users <= 0) {
            throw new IllegalStateException("no rseq4j registration is open on this thread");
        }
        st.users--;
        if (st.users == 0 && st.ownArea != 0) {
            long area = st.ownArea;
            st.ownArea = 0;
            int r = own.unregisterCurrentThread(area);
            if (r != 0) {
                throw new IllegalStateException("unregistering rseq on this thread failed, errno " + -r);
            }
        }
    }

    /** Users counted on the calling thread. */
    public int users() {
        return state.get().users;
    }

    /** Areas rseq4j registered that the kernel may still write (0 without own registration). */
    public int liveOwnAreas() {
        return own == null ? 0 : own.liveAreas();
    }

    /** Threads the kernel refused to register for rseq4j. */
    public long refusals() {
        return own == null ? 0 : own.refusals();
    }

    /** errno of the last refusal, or 0. */
    public int lastRefusalErrno() {
        return own == null ? 0 : own.lastRefusalErrno();
    }
}
