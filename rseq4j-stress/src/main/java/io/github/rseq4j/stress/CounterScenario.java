package io.github.rseq4j.stress;

import io.github.rseq4j.PerCpuCounter;

import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * {@link PerCpuCounter} through its public API: each operation adds to one counter
 * ({@code increment()}, {@code decrement()} or {@code add(k)}, k from 2 to 33, in turn)
 * and counts what it added; meanwhile a collector calls {@code sumThenReset()} over and
 * over, as a metrics reporter would, and adds up the intervals. Check: the intervals plus
 * a final {@code sumThenReset()} equal everything the workers added, exactly (an add lost
 * or counted in two intervals shows), and the counter then reads zero.
 */
final class CounterScenario extends Scenario {
    /** The collector's pause between two {@code sumThenReset()} calls. */
    private static final long COLLECT_PAUSE_NANOS = 100_000;

    private PerCpuCounter counter;
    private long[] added;
    // collector state (collector thread, then verify())
    private long intervals;
    private long collected;
    private long nonZero;

    CounterScenario(Run run) {
        super(run);
    }

    @Override
    void setUp() {
        counter = new PerCpuCounter();
        added = new long[run.config.threads()];
    }

    @Override
    Set<Fault> faults() {
        return Set.of(Fault.EXTRA_ADD);
    }

    @Override
    long expected() {
        return sum(added);
    }

    @Override
    void operate(Worker w, long rep) {
        w.pauseIfDue(rep);
        long delta;
        switch ((int) (rep % 3)) {
            case 0 -> {
                counter.increment();
                delta = 1;
            }
            case 1 -> {
                counter.decrement();
                delta = -1;
            }
            default -> {
                delta = 2 + (rep + w.index) % 32;
                counter.add(delta);
            }
        }
        added[w.index] += delta;
        if (injects(Fault.EXTRA_ADD, w, rep)) {
            counter.add(1); // not counted in added: the sum must come out one too high
        }
    }

    @Override
    Runnable background() {
        return whileWorkersRun(() -> {
            long s = counter.sumThenReset();
            collected += s;
            intervals++;
            nonZero += s != 0 ? 1 : 0;
            LockSupport.parkNanos(COLLECT_PAUSE_NANOS);
        });
    }

    @Override
    Verdict verify() {
        long last = counter.sumThenReset();
        long after = counter.sum();
        long total = collected + last;
        return Verdict.builder()
                .detail("intervals", intervals).detail("non-zero", nonZero).detail("collected", collected)
                .detail("final", last)
                .check(total == expected(), "intervals " + collected + " + final " + last + " = " + total
                        + " != added " + expected() + " (" + (total > expected() ? "counted twice or an add too many"
                        : "adds lost") + ")")
                .check(after == 0, "sum " + after + " after the final sumThenReset(), with no adds running")
                .check(intervals > 0, "the collector completed no sumThenReset() while the workers ran")
                .build(total);
    }
}
