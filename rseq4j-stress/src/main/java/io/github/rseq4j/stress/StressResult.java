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
 * @param notes      remarks about the run, e.g. delay points ignored in portable mode
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
     * The result line: the same fields in the same order for every scenario, ending in
     * {@code PASS} or {@code FAIL}, e.g. {@code stress pool index=cpu threads=4 reps=50
     * seconds=- ops=200 check=objects-back expected=2 actual=2 aborts=0 fallbacks=0
     * elapsed=0.03s PASS}:
     * <ul>
     *   <li>the scenario, {@code index=} ({@code cpu} or {@code mmcid}), {@code threads=};
     *   <li>{@code reps=} and {@code seconds=}, the limits ({@code -}: none), and
     *       {@code ops=}, the operations the workers did (fewer than threads x reps when the
     *       duration or the timeout came first);
     *   <li>the non-default options ({@link StressConfig#optionWords()}), when there are any;
     *   <li>{@code check=}, what the two counts count ({@link StressTest#checkWord()}),
     *       {@code expected=} the exact total the scenario must reach and {@code actual=}
     *       what it found;
     *   <li>{@code aborts=}, {@code fallbacks=}, {@code elapsed=} (seconds), PASS or FAIL.
     * </ul>
     */
    public String line() {
        return line(test, indexMode, threads, StressConfig.limitWords(reps, duration), String.valueOf(operations),
                options, String.valueOf(expected), String.valueOf(actual), String.valueOf(aborts),
                String.valueOf(fallbacks.total()), elapsed, passed);
    }

    /**
     * The result line of a run that ended in an exception before its checks: the fields of
     * {@link #line()}, those that were not counted as {@code -}, and FAIL.
     *
     * @param config  the run
     * @param elapsed from its start to the exception
     * @return e.g. {@code stress pool index=cpu threads=4 reps=50 seconds=- ops=-
     *         check=objects-back expected=- actual=- aborts=- fallbacks=- elapsed=0.01s FAIL}
     */
    public static String errorLine(StressConfig config, Duration elapsed) {
        String none = StressConfig.NO_LIMIT;
        return line(config.test(), config.indexMode(), config.threads(), config.limitWords(), none,
                config.optionWords(), none, none, none, none, elapsed, false);
    }

    private static String line(StressTest test, IndexMode indexMode, int threads, String limits, String operations,
                               String options, String expected, String actual, String aborts, String fallbacks,
                               Duration elapsed, boolean passed) {
        return "stress " + test.word() + " index=" + StressConfig.indexWord(indexMode) + " threads=" + threads
                + " " + limits + " ops=" + operations + (options.isEmpty() ? "" : " " + options)
                + " check=" + test.checkWord() + " expected=" + expected + " actual=" + actual
                + " aborts=" + aborts + " fallbacks=" + fallbacks + " elapsed=" + seconds(elapsed) + "s "
                + (passed ? "PASS" : "FAIL");
    }

    /** {@code 0.21} for 210 ms. */
    static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.2f", d.toNanos() / 1e9);
    }
}
