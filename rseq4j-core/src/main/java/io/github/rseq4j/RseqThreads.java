package io.github.rseq4j;

import java.util.Objects;
import java.util.concurrent.ThreadFactory;

/**
 * Thread factories that register each thread for rseq when it starts, for code that
 * wants registration at thread creation rather than on a thread's first per-CPU
 * operation (the default, which is lazy).
 *
 * <pre>{@code
 * ExecutorService pool = Executors.newFixedThreadPool(8,
 *         RseqThreads.registering(Thread.ofPlatform().name("worker-", 0)));
 * }</pre>
 *
 * <p>Each thread runs its task inside {@code try (Registration r = Rseq.register())}, so
 * where rseq4j owns registration the thread is registered before the task's first
 * instruction and unregistered when the task returns; under glibc's registration this
 * only counts. For virtual threads the registration belongs to the carrier (see
 * {@link Registration}).
 */
public final class RseqThreads {
    private RseqThreads() {}

    /**
     * Wraps {@code delegate} so that every thread it creates registers on start.
     *
     * @param delegate the factory that makes the threads; its tasks are wrapped, its
     *                 threads' names, priorities and so on are kept
     * @return a factory whose threads run each task inside a {@link Registration}
     */
    public static ThreadFactory registering(ThreadFactory delegate) {
        Objects.requireNonNull(delegate, "delegate");
        return task -> {
            Objects.requireNonNull(task, "task");
            return delegate.newThread(() -> {
                try (Registration ignored = Rseq.register()) {
                    task.run();
                }
            });
        };
    }

    /**
     * A factory from {@code builder} whose threads register on start.
     *
     * @param builder a platform or virtual thread builder; its {@code factory()} makes the
     *                threads
     * @return a factory whose threads run each task inside a {@link Registration}
     */
    public static ThreadFactory registering(Thread.Builder builder) {
        Objects.requireNonNull(builder, "builder");
        return registering(builder.factory());
    }
}
