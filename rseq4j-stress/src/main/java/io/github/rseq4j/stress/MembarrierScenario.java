package io.github.rseq4j.stress;

import io.github.rseq4j.internal.abi.IndexField;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.RseqResult;
import io.github.rseq4j.internal.abi.SliceLayout;
import io.github.rseq4j.internal.memory.SliceMemory;

/**
 * param_test's membarrier test. Each slice holds an "active list" selector (0 or 1) and
 * two counters, list A and list B. A worker's operation is one critical section that reads
 * the selector and increments the counter of the list it selects:
 * {@code compare2AndStore(counter[sel] == v, selector == sel; counter[sel] = v + 1)}, with
 * {@code sel} and {@code v} read just before from the slice it expects to run on.
 *
 * <p>The manager, repeatedly: stores the other selector value into every slice, fences
 * (every CPU at once, or CPU by CPU; every CPU for mm_cid memory), waits out operations
 * that hold a slice on the fallback path (they read the selector with the slice stopped,
 * so a fence does not reach them), then reads the now-inactive counters and keeps reading
 * them for a while: they must never change. A change means a critical section that had read
 * the old selector committed after the fence. The counters must also sum to the operations
 * done.
 */
final class MembarrierScenario extends Scenario {
    /** Shortest observation per round. */
    static final long MIN_WINDOW_NANOS = 200_000;
    private static final long MAX_WINDOW_NANOS = 50_000_000;

    private final boolean fence;
    private long selector;
    private long[] retries;
    // manager state (manager thread, then verify())
    private long rounds;
    private long violations;
    private String firstViolation;
    private long windowNanos;

    /** @param fence false only in the self-test that shows the check catches a missing fence */
    MembarrierScenario(Run run, boolean fence) {
        super(run);
        this.fence = fence;
    }

    private long counter(long list) {
        return selector + 8 + 8 * list;
    }

    @Override
    void setUp() {
        selector = allocate(24, 8);
        retries = new long[run.config.threads()];
        // Longer than a critical section stretched by a delay loop: a section that read the
        // old selector and commits late must commit inside the window to be seen.
        windowNanos = Math.min(MAX_WINDOW_NANOS,
                Math.max(MIN_WINDOW_NANOS, (long) (2 * run.delayNanos * run.config.delayLoops())));
    }

    @Override
    long expected() {
        return operations();
    }

    @Override
    void operate(Worker w, long rep) {
        w.pauseIfDue(rep);
        for (int attempt = 0; ; attempt++) {
            int h = w.hint();
            long sel = get(h, selector);
            if (sel != 0 && sel != 1) {
                throw run.abort("worker " + w.index + ": selector of slice " + h + " reads " + sel);
            }
            long v = get(h, counter(sel));
            long r = w.compare2AndStore(counter(sel), v, selector, sel, v + 1);
            if (r >= 0) {
                return;
            }
            if (r != RseqResult.COMPARE_FAILED) {
                throw run.abort("worker " + w.index + ": compare2AndStore returned " + RseqResult.describe(r));
            }
            retries[w.index]++;
            w.backoff(attempt);
        }
    }

    @Override
    Runnable background() {
        return this::manage;
    }

    private void manage() {
        int slices = m.slices();
        long active = 0;
        long[] expect = new long[slices];
        while (!run.workersDone()) {
            run.check();
            long next = 1 - active;
            for (int i = 0; i < slices; i++) {
                LONG.setVolatile(whole, m.at(i, selector), next);
            }
            if (fence) {
                if (m.mode() == IndexField.CPU_ID && (rounds & 1) == 1) {
                    for (int i = 0; i < slices; i++) {
                        run.ops.context().fences().fence(i);
                    }
                } else {
                    run.ops.context().fences().fenceAll();
                }
            }
            for (int i = 0; i < slices; i++) {
                waitOutStopper(i);
            }
            run.backgroundReady.countDown(); // the first round has begun: workers may start
            long inactive = active;
            for (int i = 0; i < slices; i++) {
                expect[i] = get(i, counter(inactive));
            }
            long until = System.nanoTime() + windowNanos;
            do {
                for (int i = 0; i < slices; i++) {
                    long v = get(i, counter(inactive));
                    if (v != expect[i]) {
                        violations++;
                        if (firstViolation == null) {
                            firstViolation = "round " + rounds + ": inactive list " + (inactive == 0 ? "A" : "B")
                                    + " of slice " + i + " went from " + expect[i] + " to " + v + " after the fence";
                        }
                        expect[i] = v;
                    }
                }
                Thread.onSpinWait();
            } while (System.nanoTime() - until < 0 && !run.workersDone() && !run.stopping());
            active = next;
            rounds++;
        }
    }

    /**
     * Waits until nobody holds slice {@code i} through the stop protocol, by taking and
     * releasing its owner word (without the fence a full stop would add, so that only the
     * manager's own fence stands between it and the critical sections). A fallback operation
     * that read the old selector while holding the slice has then finished; later ones read
     * the new selector.
     */
    private void waitOutStopper(int i) {
        long at = m.at(i, SliceLayout.OWNER_WORD_OFFSET);
        long token = m.token();
        for (int spins = 0; !LONG.compareAndSet(whole, at, token, SliceLayout.stoppedWord(token)); spins++) {
            run.check();
            if (spins < 64) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        LONG.setRelease(whole, at, token);
    }

    @Override
    Verdict verify() {
        long s = 0;
        for (int i = 0; i < m.slices(); i++) {
            s += get(i, counter(0)) + get(i, counter(1));
        }
        return Verdict.builder()
                .detail("rounds", rounds).detail("violations", violations).detail("retries", sum(retries))
                .detail("window-us", windowNanos / 1000)
                .check(violations == 0, violations + " changes of the inactive list after a fence"
                        + (firstViolation == null ? "" : " (first: " + firstViolation + ")"))
                .check(rounds > 0, "the manager completed no round while the workers ran")
                .check(s == expected(), "counter sum " + s + " != " + expected())
                .build(s);
    }
}
