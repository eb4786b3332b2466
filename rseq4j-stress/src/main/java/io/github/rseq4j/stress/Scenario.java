package io.github.rseq4j.stress;

import io.github.rseq4j.internal.memory.SliceMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * One stress scenario on the run's memory: set up, one operation per rep per worker,
 * optionally a background thread (consumer, manager), then the checks.
 *
 * <p>Workers only write their own slot of the per-worker count arrays; the runner joins
 * them before {@link #verify()} reads the arrays.
 */
abstract class Scenario {
    static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    final Run run;
    final SliceMemory m;
    final MemorySegment whole;

    Scenario(Run run) {
        this.run = run;
        this.m = run.memory;
        this.whole = m.whole();
    }

    /** Allocates items and fills initial contents; runs before any worker starts. */
    abstract void setUp();

    /** One operation of worker {@code w} (repetition {@code rep}), including its pause. */
    abstract void operate(Worker w, int rep);

    /**
     * A loop to run on its own thread while the workers run, or null. It must return soon
     * after {@link Run#workersDone()} or {@link Run#stopping()} becomes true.
     */
    Runnable background() {
        return null;
    }

    /** The checks, after every worker and the background thread ended. */
    abstract Verdict verify();

    /** The exact total the run must reach (known after {@link #setUp()}). */
    abstract long expected();

    /** An item's offset; fails the run when the memory is full. */
    final long allocate(long bytes, long alignment) {
        long off = m.allocate(bytes, alignment);
        if (off < 0) {
            throw new IllegalStateException("per-CPU memory full: no room for " + bytes + " bytes per slice");
        }
        return off;
    }

    /** The word at {@code off} of slice {@code index}, with acquire ordering. */
    final long get(int index, long off) {
        return (long) LONG.getAcquire(whole, SliceMemory.at(index, off));
    }

    static long sum(long[] values) {
        long s = 0;
        for (long v : values) {
            s += v;
        }
        return s;
    }

    /** The result of the checks. */
    record Verdict(long actual, String details, List<String> problems) {
        static Builder builder() {
            return new Builder();
        }

        static final class Builder {
            private final List<String> problems = new ArrayList<>();
            private final StringBuilder details = new StringBuilder();

            Builder detail(String key, Object value) {
                if (!details.isEmpty()) {
                    details.append(' ');
                }
                details.append(key).append('=').append(value);
                return this;
            }

            /** Records a problem when {@code ok} is false. */
            Builder check(boolean ok, String problem) {
                if (!ok) {
                    problems.add(problem);
                }
                return this;
            }

            Verdict build(long actual) {
                return new Verdict(actual, details.toString(), problems);
            }
        }
    }
}
