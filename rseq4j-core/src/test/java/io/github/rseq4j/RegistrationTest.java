package io.github.rseq4j;

import io.github.rseq4j.internal.registration.RegistrationStrategy;

import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.runtime.RseqRuntime;
import io.github.rseq4j.internal.registration.ThreadRegistrations;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicReference;

import static io.github.rseq4j.CurrentCpuTest.onPlatformThread;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Rseq#register()} and {@link Registration}: counting, nesting, unregistration on
 * the last close where rseq4j registered the thread, and misuse.
 *
 * <p>Expected registration kinds follow the process's strategy: {@code own} (rseq4j
 * registers; the own-registration execution), {@code glibc} (glibc registered every
 * thread; closing never unregisters), or, in portable mode, {@code glibc} when glibc
 * registered the thread and {@code none} otherwise.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RegistrationTest {

    private static final RseqRuntime RT = JitConstants.RUNTIME;

    /** Who registered the calling thread, as rseq4j's registration layer sees it. */
    private static RegistrationKind current() {
        return RegistrationKind.valueOf(RT.registrations().current().name());
    }

    /** The kind a registered thread reports in this process. */
    private static RegistrationKind registeredKind() {
        if (!RT.rseqMode()) {
            return RT.platform().glibc().registered() ? RegistrationKind.GLIBC : RegistrationKind.NONE;
        }
        return RegistrationKind.valueOf(RT.strategy().name());
    }

    private static boolean own() {
        return RT.rseqMode() && RT.strategy() == RegistrationStrategy.OWN;
    }

    @Test
    void nestedRegistrationsOnAFreshPlatformThread() throws Throwable {
        onPlatformThread(() -> {
            RegistrationKind kind = registeredKind();
            RegistrationKind before = own() ? RegistrationKind.NONE : kind;
            assertEquals(before, current(), "a fresh thread");
            assertEquals(before, Rseq.status().thread().registration(), "status() observes without registering");
            assertEquals(before, current(), "still, after status()");
            assertEquals(0, RT.registrations().users());

            Registration outer = Rseq.register();
            assertEquals(kind, outer.kind());
            assertSame(Thread.currentThread(), outer.owner());
            assertEquals(kind, current());
            assertEquals(1, RT.registrations().users());

            Registration inner = Rseq.register();
            assertEquals(kind, inner.kind());
            assertEquals(2, RT.registrations().users());

            inner.close();
            assertEquals(kind, current(), "an outer registration is still open");
            assertEquals(kind, Rseq.status().thread().registration());
            assertEquals(1, RT.registrations().users());
            assertTrue(inner.toString().contains("closed"), inner.toString());

            outer.close();
            assertEquals(0, RT.registrations().users());
            // rseq4j unregisters only what it registered: under glibc the thread stays registered.
            assertEquals(before, Rseq.status().thread().registration(), "right after the last close");
            assertEquals(before, current());

            // Open and close again: the same again (a thread can be registered twice in its life).
            try (Registration again = Rseq.register()) {
                assertEquals(kind, again.kind());
                assertEquals(kind, Rseq.status().thread().registration());
            }
            assertEquals(before, Rseq.status().thread().registration());
        });
    }

    @Test
    void lazyRegistrationOutlivesRegisterAndClose() throws Throwable {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            PerCpuItem item = mem.newItem(8);
            onPlatformThread(() -> {
                item.add(0, 1); // registers lazily where rseq4j owns registration, for good
                RegistrationKind kind = registeredKind();
                assertEquals(kind, Rseq.status().thread().registration());
                try (Registration r = Rseq.register()) {
                    assertEquals(kind, r.kind());
                }
                assertEquals(kind, Rseq.status().thread().registration(), "close() must not undo a lazy registration");
                item.add(0, 1);
            });
            assertEquals(2, item.sum(0));
        }
    }

    @Test
    void closingOnAnotherThreadIsRefused() throws Throwable {
        AtomicReference<Registration> ref = new AtomicReference<>();
        onPlatformThread(() -> {
            Registration r = Rseq.register();
            ref.set(r);
            AtomicReference<Throwable> other = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    r.close();
                } catch (Throwable e) {
                    other.set(e);
                }
            });
            t.join();
            assertTrue(other.get() instanceof IllegalStateException, "close on another thread: " + other.get());
            assertTrue(other.get().getMessage().contains("thread that opened it"), other.get().getMessage());
            assertEquals(1, RT.registrations().users(), "the failed close did not count");
            assertEquals(registeredKind(), current(), "nor unregister");
            r.close();
            assertEquals(0, RT.registrations().users());
            IllegalStateException twice = assertThrows(IllegalStateException.class, r::close);
            assertTrue(twice.getMessage().contains("already closed"), twice.getMessage());
            assertEquals(0, RT.registrations().users(), "a second close does not count either");
        });
        // The owner is gone: closing from here is still the wrong thread.
        assertThrows(IllegalStateException.class, ref.get()::close);
    }

    @Test
    void releaseWithoutRegisterIsRefused() throws Throwable {
        onPlatformThread(() -> {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> RT.registrations().release());
            assertTrue(e.getMessage().contains("no rseq4j registration is open"), e.getMessage());
            assertEquals(0, RT.registrations().users());
        });
    }

    @Test
    void virtualThreadsRegisterTheirCarrierAndOnlyCount() throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread vt = Thread.ofVirtual().start(() -> {
            try {
                Registration r = Rseq.register();
                assertEquals(registeredKind(), r.kind());
                assertEquals(1, RT.registrations().users());
                AtomicReference<Throwable> other = new AtomicReference<>();
                Thread.ofVirtual().start(() -> {
                    try {
                        r.close();
                    } catch (Throwable e) {
                        other.set(e);
                    }
                }).join();
                assertTrue(other.get() instanceof IllegalStateException, String.valueOf(other.get()));
                r.close();
                assertEquals(0, RT.registrations().users());
                assertThrows(IllegalStateException.class, r::close);
                // The carrier stays registered (carriers are shared): the next use needs nothing new.
                assertTrue(Rseq.currentCpu() >= 0);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        vt.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }
}
