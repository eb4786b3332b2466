package io.github.rseq4j.stress;

import io.github.rseq4j.IndexMode;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The outcome of one stress run.
 *
 * @param test       the scenario
 * @param indexMode  the memory's index mode
 * @param threads    workers
 * @param reps       operations per worker (at most, with a duration; 0: no limit)
 * @param duration   how long the workers ran ({@link Duration#ZERO}: as long as their reps took)
 * @param operations operations the workers did, all together
 * @param options    the non-default options ({@link StressConfig#optionWords()}, "" when none)
 * @param expected   the exact total the scenario must reach (a sum, a node count, a record count)
 * @param actual     what it found
 * @param aborts     critical-section aborts counted by generated code during the run
 * @param fallbacks  operations completed off the rseq fast path during the run
 * @param passed     whether every check held
 * @param elapsed    from the start of the workers to the end of the checks
 * @param details    scenario-specific counts, e.g. {@code rounds=812 violations=0}
 * @param failures   why it failed (empty when it passed)
 * @param notes      remarks about the run, e.g. delay points ignored in fallback mode
 */
public record StressResult(StressTest test, IndexMode indexMode, int threads, int reps, Duration duration,
                           long operations, String options,
                           long expected, long actual, long aborts, Fallbacks fallbacks, boolean passed,
                           Duration elapsed, String details, List<String> failures, List<String> notes) {

    public StressResult {
        Objects.requireNonNull(duration, "duration");
        failures = List.copyOf(failures);
        notes = List.copyOf(notes);
    }

    /**
     * Fallback operations by reason, as deltas over the run.
     *
     * @param notRegistered forced (unregistered workers) or registration missing
     * @param aborted       the critical section aborted too many times in a row
     * @param stopped       the slice was stopped
     * @param portable      fallback (portable) mode: every operation
     */
    public record Fallbacks(long notRegistered, long aborted, long stopped, long portable) {
        public long total() {
            return notRegistered + aborted + stopped + portable;
        }

        @Override
        public String toString() {
            return "not-registered=" + notRegistered + " aborted=" + aborted + " stopped=" + stopped
                    + " portable=" + portable;
        }
    }

    /**
     * The one-line summary, ending in {@code PASS} or {@code FAIL}, e.g.
     * {@code stress increment index=cpu threads=12 reps=1000 expected=12000 actual=12000
     * aborts=37 fallbacks=0 elapsed=0.21s PASS}; a timed run shows its duration and the
     * operations done instead of (or after) the reps, e.g.
     * {@code stress counter index=cpu threads=8 seconds=2 ops=5123456 expected=...}, and so
     * does a run that ended early ({@code reps=50 ops=20}: the timeout came first).
     */
    public String line() {
        StringBuilder limits = new StringBuilder();
        if (reps > 0) {
            limits.append(" reps=").append(reps);
        }
        if (!duration.isZero()) {
            limits.append(" seconds=").append(StressConfig.secondsWord(duration));
        }
        if (!duration.isZero() || operations != (long) threads * reps) {
            limits.append(" ops=").append(operations);
        }
        return "stress " + test.word() + " index=" + StressConfig.indexWord(indexMode) + " threads=" + threads
                + limits + (options.isEmpty() ? "" : " " + options)
                + " expected=" + expected + " actual=" + actual + " aborts=" + aborts
                + " fallbacks=" + fallbacks.total() + " elapsed=" + seconds(elapsed) + "s "
                + (passed ? "PASS" : "FAIL");
    }

    /** {@code 0.21} for 210 ms. */
    static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.2f", d.toNanos() / 1e9);
    }
}
