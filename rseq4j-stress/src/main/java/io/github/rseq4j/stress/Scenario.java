package io.github.rseq4j.stress;

import io.github.rseq4j.internal.memory.SliceMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One stress scenario on the run's memory (or, for the public-structure scenarios, on a
 * structure of its own): set up, one operation per rep per worker, optionally a background
 * thread (consumer, manager, collector, rebalancer), then the checks.
 *
 * <p>The runner decides how many operations a worker does ({@link Run#another}: a rep
 * count, a duration, or whichever comes first), so totals are checked against the
 * operations actually done ({@link #operations()}), never against threads x reps.
 *
 * <p>Workers only write their own slot of the per-worker count arrays; the runner joins
 * them before {@link #verify()} reads the arrays.
 */
abstract class Scenario {
    static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    final Run run;
    final SliceMemory m;
    final MemorySegment whole;
    /** The deliberate error to make (a self-test of the checks), or null. */
    private Fault fault;

    Scenario(Run run) {
        this.run = run;
        this.m = run.memory;
        this.whole = m.whole();
    }

    /** Allocates items and fills initial contents; runs before any worker starts. */
    abstract void setUp();

    /** One operation of worker {@code w} (repetition {@code rep}), including its pause. */
    abstract void operate(Worker w, long rep);

    /**
     * A loop to run on its own thread while the workers run, or null. It must return soon
     * after {@link Run#workersDone()} or {@link Run#stopping()} becomes true.
     */
    Runnable background() {
        return null;
    }

    /**
     * The usual background loop: signals that it is ready, then repeats {@code step} (which
     * includes its own pause) after each {@link Run#check()} until the workers are done. In
     * a run limited by reps, each worker's last rep waits until the first step completed
     * ({@link Run#another}), so the checks that a step completed while the workers ran hold
     * however short the run.
     *
     * @param step one round of the background work
     * @return the loop, for {@link #background()}
     */
    final Runnable whileWorkersRun(Runnable step) {
        return () -> {
            run.firstStepStarts();
            run.backgroundReady.countDown();
            while (!run.workersDone()) {
                run.check();
                step.run();
                run.stepDone();
            }
        };
    }

    /** The checks, after every worker and the background thread ended. */
    abstract Verdict verify();

    /**
     * The exact total the run must reach: known after {@link #setUp()} (a node count), or
     * after the workers ended (a sum over the operations they did).
     */
    abstract long expected();

    /** Releases what the scenario made outside the run's memory, after {@link #verify()}. */
    void tearDown() {
    }

    /** The deliberate errors this scenario can make for a self-test of its checks. */
    Set<Fault> faults() {
        return Set.of();
    }

    final void inject(Fault f) {
        if (!faults().contains(f)) {
            throw new IllegalArgumentException(run.config.test().word() + " cannot inject " + f + ": only " + faults());
        }
        fault = f;
    }

    /** Whether worker {@code w} makes the deliberate error {@code f} now: worker 0, first operation. */
    final boolean injects(Fault f, Worker w, long rep) {
        return fault == f && w.index == 0 && rep == 0;
    }

    /** Operations the workers did (exact after they ended). */
    final long operations() {
        return run.operationsDone();
    }

    /** Operations worker {@code w} did (exact after it ended). */
    final long operations(int w) {
        return run.done.get(w);
    }

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
        return (long) LONG.getAcquire(whole, m.at(index, off));
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
