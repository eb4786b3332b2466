package io.github.rseq4j;

import io.github.rseq4j.internal.runtime.JitConstants;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RseqThreadsTest {

    /** What registration a thread from a registering factory has when its task starts. */
    @Test
    void threadsAreRegisteredBeforeTheirTaskRuns() throws Exception {
        AtomicReference<RegistrationKind> seen = new AtomicReference<>();
        AtomicInteger users = new AtomicInteger(-1);
        ThreadFactory f = RseqThreads.registering(Thread.ofPlatform().name("registered-", 0));
        Thread t = f.newThread(() -> {
            seen.set(Rseq.status().thread().registration());
            users.set(JitConstants.RUNTIME.registrations().users());
        });
        t.start();
        t.join();
        RseqStatus st = Rseq.status();
        RegistrationKind expected = st.rseqMode() ? st.registrationStrategy() : (st.glibc().rseqSize() > 0 ? RegistrationKind.GLIBC : RegistrationKind.NONE);
        assertEquals(expected, seen.get(), "registration seen by the task");
        assertEquals(1, users.get(), "the factory holds one registration while the task runs");
    }

    @Test
    void theRegistrationIsClosedWhenTheTaskEnds() throws Exception {
        AtomicInteger usersAfter = new AtomicInteger(-1);
        ThreadFactory f = RseqThreads.registering(task -> new Thread(() -> {
            task.run();
            usersAfter.set(JitConstants.RUNTIME.registrations().users());
        }));
        Thread t = f.newThread(() -> { });
        t.start();
        t.join();
        assertEquals(0, usersAfter.get());
    }

    @Test
    void rejectsNull() {
        assertThrows(NullPointerException.class, () -> RseqThreads.registering((ThreadFactory) null));
        assertThrows(NullPointerException.class, () -> RseqThreads.registering((Thread.Builder) null));
        ThreadFactory f = RseqThreads.registering(Thread.ofPlatform().factory());
        assertThrows(NullPointerException.class, () -> f.newThread(null));
    }
}
