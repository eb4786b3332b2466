package io.github.rseq4j.internal.registration;

import io.github.rseq4j.internal.Ops;
import io.github.rseq4j.internal.RseqRuntime;

/**
 * Who registered the calling thread, lazy registration, and the per-thread user count
 * behind {@code Rseq.register()}.
 *
 * <p>Implementation notes. Users are counted per Java thread. Under glibc's registration
 * (and in fallback mode) registering only counts: rseq4j never unregisters what it did
 * not register. Under rseq4j's own registration a platform thread's first
 * {@code register()} registers it and the last {@code close()} unregisters it, unless
 * the registration was already there (made lazily by an rseq4j structure, which relies on
 * it until the thread exits). A virtual thread does not own an OS thread: its
 * {@code register()} registers the current carrier for good (carriers are shared) and
 * counts; its {@code close()} only counts.
 */
public final class ThreadRegistrations {
    private ThreadRegistrations() {}

    private static final class PerThread {
        int users;
        long ownArea; // area registered by an explicit register() on this platform thread
    }

    private static final ThreadLocal<PerThread> STATE = ThreadLocal.withInitial(PerThread::new);

    /** "glibc", "own" or "none": who registered the calling OS thread right now. */
    public static String current() {
        RseqRuntime rt = Ops.RUNTIME;
        if (!rt.rseqMode) {
            // No generated readers in fallback mode; glibc, when it registers, registers every thread.
            return rt.platform.glibc().registered() ? "glibc" : "none";
        }
        long cpu = readCpu();
        if (cpu < 0) {
            return "none";
        }
        return rt.strategy.word();
    }

    private static long readCpu() {
        try {
            return (long) Ops.READ_CPU.invokeExact();
        } catch (Throwable t) {
            throw Ops.rethrow(t);
        }
    }

    private static long readArea() {
        try {
            return (long) Ops.READ_AREA.invokeExact();
        } catch (Throwable t) {
            throw Ops.rethrow(t);
        }
    }

    /**
     * Makes sure the calling OS thread is registered, registering it lazily (for good)
     * where rseq4j owns registration. Returns whether it is registered now.
     */
    public static boolean ensureRegistered() {
        RseqRuntime rt = Ops.RUNTIME;
        if (!rt.rseqMode) {
            return false;
        }
        if (rt.own == null) {
            return readCpu() >= 0;
        }
        OwnRegistrar.Outcome o = rt.own.registerCurrentThread();
        return o != OwnRegistrar.Outcome.REFUSED;
    }

    /** One more user on the calling thread; returns the registration kind it got. */
    public static String acquire() {
        RseqRuntime rt = Ops.RUNTIME;
        PerThread st = STATE.get();
        if (rt.rseqMode && rt.own != null && st.users == 0) {
            OwnRegistrar.Outcome o = rt.own.registerCurrentThread();
            if (o == OwnRegistrar.Outcome.REGISTERED && !Thread.currentThread().isVirtual()) {
                st.ownArea = readArea();
            }
        }
        st.users++;
        return current();
    }

    /** One user less on the calling thread; unregisters when it was the last one and we registered it. */
    public static void release() {
        RseqRuntime rt = Ops.RUNTIME;
        PerThread st = STATE.get();
        if (st.users <= 0) {
            throw new IllegalStateException("no rseq4j registration is open on this thread");
        }
        st.users--;
        if (st.users == 0 && st.ownArea != 0) {
            long area = st.ownArea;
            st.ownArea = 0;
            int r = rt.own.unregisterCurrentThread(area);
            if (r != 0) {
                throw new IllegalStateException("unregistering rseq on this thread failed, errno " + -r);
            }
        }
    }

    /** Users counted on the calling thread. */
    public static int users() {
        return STATE.get().users;
    }

    /** Areas rseq4j registered that the kernel may still write (0 without own registration). */
    public static int liveOwnAreas() {
        OwnRegistrar own = Ops.RUNTIME.own;
        return own == null ? 0 : own.liveAreas();
    }
}
