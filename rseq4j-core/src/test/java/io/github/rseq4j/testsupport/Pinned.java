package io.github.rseq4j.testsupport;

import io.github.rseq4j.internal.os.CpuSets;
import org.junit.jupiter.api.function.Executable;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs test code on a new platform thread pinned to one CPU, so the slice it uses is known. */
public final class Pinned {
    private Pinned() {}

    /**
     * Runs {@code body} on a new platform thread pinned to {@code cpu}, waits for it, and
     * rethrows what it threw (assertion failures included).
     *
     * @param cpu  the CPU to pin the thread to
     * @param body the code to run there
     * @throws Throwable whatever {@code body} threw, or a failure to pin
     */
    public static void run(int cpu, Executable body) throws Throwable {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("pinned-" + cpu).start(() -> {
            List<Integer> original = CpuSets.allowed();
            try {
                assertEquals(0, CpuSets.setAffinity(List.of(cpu)), "pin to CPU " + cpu);
                body.execute();
            } catch (Throwable e) {
                failure.set(e);
            } finally {
                CpuSets.setAffinity(original);
            }
        });
        t.join();
        if (failure.get() != null) {
            throw failure.get();
        }
    }
}
