package io.github.rseq4j.stress;

import io.github.rseq4j.IndexMode;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The outcome of one stress run.
 *
 * @param test       the scenario
 * @param indexMode  the memory's index mode
 * @param threads    workers
 * @param reps       operations per worker
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
public record StressResult(StressTest test, IndexMode indexMode, int threads, int reps, String options,
                           long expected, long actual, long aborts, Fallbacks fallbacks, boolean passed,
                           Duration elapsed, String details, List<String> failures, List<String> notes) {

    public StressResult {
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
     * aborts=37 fallbacks=0 elapsed=0.21s PASS}.
     */
    public String line() {
        return "stress " + test.word() + " index=" + StressConfig.indexWord(indexMode) + " threads=" + threads
                + " reps=" + reps + (options.isEmpty() ? "" : " " + options)
                + " expected=" + expected + " actual=" + actual + " aborts=" + aborts
                + " fallbacks=" + fallbacks.total() + " elapsed=" + seconds(elapsed) + "s "
                + (passed ? "PASS" : "FAIL");
    }

    /** {@code 0.21} for 210 ms. */
    static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.2f", d.toNanos() / 1e9);
    }
}
