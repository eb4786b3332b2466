package io.github.rseq4j;

import io.github.rseq4j.internal.runtime.JitConstants;


/**
 * A counted use of the calling thread's rseq registration, from {@link Rseq#register()}.
 *
 * <p>Registrations nest and are counted per thread. Where rseq4j registers threads itself
 * (no glibc registration), the first one registers a platform thread and closing the last
 * one unregisters it, unless rseq4j structures had already registered the thread lazily,
 * in which case it stays registered until it exits. Under glibc's registration, opening
 * and closing only count: rseq4j never unregisters a registration it did not make.
 *
 * <p>Close it on the thread that opened it, once: {@code try (var r = Rseq.register()) { ... }}.
 */
public final class Registration implements AutoCloseable {
    private final Thread owner;
    private final RegistrationKind kind;
    private boolean closed;

    Registration(Thread owner, RegistrationKind kind) {
        this.owner = owner;
        this.kind = kind;
    }

    /**
     * Who registered the thread when this registration was opened: {@link RegistrationKind#GLIBC}
     * where glibc registers every thread (even in portable mode, where rseq4j does not use
     * it), {@link RegistrationKind#OWN} where rseq4j did, {@link RegistrationKind#NONE}
     * when nobody did (portable mode without glibc's registration, or the kernel refused:
     * operations on this thread then take the fallback path).
     *
     * @return who had registered the thread for rseq when this registration was opened
     */
    public RegistrationKind kind() {
        return kind;
    }

    /**
     * The thread this registration belongs to.
     *
     * @return the thread that opened it, the only one that may close it
     */
    public Thread owner() {
        return owner;
    }

    /**
     * Releases this use.
     *
     * @throws IllegalStateException when called on another thread than the one that
     *                               opened it, or a second time
     */
    @Override
    public void close() {
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("a Registration must be closed on the thread that opened it ("
                    + owner + "), not on " + Thread.currentThread());
        }
        if (closed) {
            throw new IllegalStateException("this Registration is already closed");
        }
        closed = true;
        JitConstants.RUNTIME.registrations().release();
    }

    @Override
    public String toString() {
        return "Registration[" + kind + (closed ? ", closed" : "") + "]";
    }
}
