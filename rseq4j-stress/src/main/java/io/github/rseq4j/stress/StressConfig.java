package io.github.rseq4j.stress;

import io.github.rseq4j.IndexMode;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One stress run: which scenario, on which memory, how hard.
 *
 * @param test              the scenario
 * @param indexMode         how slices are chosen ({@code cpu} or {@code mmcid})
 * @param threads           worker threads (1 to {@value #MAX_THREADS})
 * @param reps              operations per worker (1 to {@value #MAX_REPS}); with a duration, at
 *                          most this many (0 for no limit): a worker stops at whichever comes first
 * @param duration          how long each worker runs ({@link Duration#ZERO} for no limit: it does
 *                          {@code reps} operations); the checks use the operations actually done
 * @param delayPoint        0 for none; 1 = inside every critical section after the index is
 *                          read, 2 = inside, just before the commit, 3 = after the commit
 * @param delayLoops        iterations of the busy loop injected at {@code delayPoint} (0 without
 *                          a delay point, else 1 to {@value #MAX_DELAY_LOOPS})
 * @param every             pause around every {@code every}-th operation of a worker (0 = never)
 * @param pause             how to pause: {@link Pause#NONE} exactly when {@code every} is 0
 * @param sleepMs           milliseconds per pause for {@link Pause#SLEEP} (1 to 10000), else 0
 * @param virtualThreads    run the workers as virtual threads
 * @param unregisteredEvery every {@code unregisteredEvery}-th worker (1-based) acts as an
 *                          unregistered thread and always takes the fallback path (0 = none)
 * @param timeout           a run still going after this long fails (1 s to 24 h, longer than
 *                          the duration)
 * @param signalMicros      a signal to every worker's thread every this many microseconds (1 to
 *                          1000000), or 0 for none
 */
public record StressConfig(StressTest test, IndexMode indexMode, int threads, int reps, Duration duration,
                           int delayPoint, long delayLoops, int every, Pause pause, long sleepMs,
                           boolean virtualThreads, int unregisteredEvery, Duration timeout,
                           long signalMicros) {

    /** How a worker pauses around every {@code every}-th operation. */
    public enum Pause {
        NONE, YIELD, SLEEP
    }

    public static final int MAX_THREADS = 4096;
    public static final int MAX_REPS = 100_000_000;
    public static final long MAX_DELAY_LOOPS = 1_000_000_000L;
    public static final int DEFAULT_REPS = 1000;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);
    /** Longest duration: just under the longest timeout. */
    public static final Duration MAX_DURATION = Duration.ofHours(24).minusSeconds(1);

    public StressConfig {
        Objects.requireNonNull(test, "test");
        Objects.requireNonNull(indexMode, "indexMode");
        Objects.requireNonNull(pause, "pause");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(duration, "duration");
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("threads must be 1 to " + MAX_THREADS + ": " + threads);
        }
        if (reps < 0 || reps > MAX_REPS || reps == 0 && duration.isZero()) {
            throw new IllegalArgumentException("reps must be 1 to " + MAX_REPS + ": " + reps
                    + (reps == 0 ? " (0, no limit, needs a duration)" : ""));
        }
        if (duration.isNegative() || duration.compareTo(MAX_DURATION) > 0) {
            throw new IllegalArgumentException("duration must be 0 (none) to " + MAX_DURATION.toSeconds() + " s: "
                    + secondsWord(duration) + " s");
        }
        if (delayPoint < 0 || delayPoint > 3) {
            throw new IllegalArgumentException("delay point must be 1, 2 or 3 (0 for none): " + delayPoint);
        }
        if (delayPoint == 0 && delayLoops != 0) {
            throw new IllegalArgumentException("delay loops need a delay point (1, 2 or 3)");
        }
        if (delayPoint != 0 && (delayLoops < 1 || delayLoops > MAX_DELAY_LOOPS)) {
            throw new IllegalArgumentException("delay loops must be 1 to " + MAX_DELAY_LOOPS + ": " + delayLoops);
        }
        if (every < 0) {
            throw new IllegalArgumentException("every must be >= 1 (0 for never): " + every);
        }
        if (every > 0 && pause == Pause.NONE) {
            throw new IllegalArgumentException("every " + every + " needs a pause: yield or sleep");
        }
        if (every == 0 && pause != Pause.NONE) {
            throw new IllegalArgumentException(pause.name().toLowerCase(Locale.ROOT)
                    + " needs 'every M' (pause around every M-th operation)");
        }
        if (pause == Pause.SLEEP && (sleepMs < 1 || sleepMs > 10_000)) {
            throw new IllegalArgumentException("sleep must be 1 to 10000 ms: " + sleepMs);
        }
        if (pause != Pause.SLEEP && sleepMs != 0) {
            throw new IllegalArgumentException("a sleep time needs the sleep pause");
        }
        if (signalMicros < 0 || signalMicros > 1_000_000) {
            throw new IllegalArgumentException("signals every 1 to 1000000 us (0 for none): " + signalMicros);
        }
        if (unregisteredEvery < 0) {
            throw new IllegalArgumentException("unregistered-every must be >= 1 (0 for none): " + unregisteredEvery);
        }
        if (timeout.compareTo(Duration.ofSeconds(1)) < 0 || timeout.compareTo(Duration.ofHours(24)) > 0) {
            throw new IllegalArgumentException("timeout must be 1 s to 24 h: " + timeout.toSeconds() + " s");
        }
        if (!duration.isZero() && timeout.compareTo(duration) <= 0) {
            throw new IllegalArgumentException("timeout (" + secondsWord(timeout)
                    + " s) must be longer than the duration (" + secondsWord(duration) + " s)");
        }
    }

    /** Default workers: 6 per available processor, as the kernel's param_test. */
    public static int defaultThreads() {
        return Math.min(MAX_THREADS, 6 * Runtime.getRuntime().availableProcessors());
    }

    /** {@code test} on {@code mode} memory with the defaults: 6 x CPUs threads, 1000 reps, nothing else. */
    public static StressConfig of(StressTest test, IndexMode mode) {
        return new StressConfig(test, mode, defaultThreads(), DEFAULT_REPS, Duration.ZERO, 0, 0, 0, Pause.NONE, 0,
                false, 0, DEFAULT_TIMEOUT, 0);
    }

    public StressConfig withTest(StressTest t) {
        return new StressConfig(t, indexMode, threads, reps, duration, delayPoint, delayLoops, every, pause, sleepMs,
                virtualThreads, unregisteredEvery, timeout, signalMicros);
    }

    public StressConfig withIndexMode(IndexMode m) {
        return new StressConfig(test, m, threads, reps, duration, delayPoint, delayLoops, every, pause, sleepMs,
                virtualThreads, unregisteredEvery, timeout, signalMicros);
    }

    public StressConfig withThreads(int n) {
        return new StressConfig(test, indexMode, n, reps, duration, delayPoint, delayLoops, every, pause, sleepMs,
                virtualThreads, unregisteredEvery, timeout, signalMicros);
    }

    public StressConfig withReps(int r) {
        return new StressConfig(test, indexMode, threads, r, duration, delayPoint, delayLoops, every, pause, sleepMs,
                virtualThreads, unregisteredEvery, timeout, signalMicros);
    }

    /** Each worker runs for {@code d}, with no limit on its operations. */
    public StressConfig withDuration(Duration d) {
        return withLimits(0, d);
    }

    /**
     * Each worker stops after {@code r} operations or {@code d}, whichever comes first
     * ({@code r} 0: no operation limit; {@code d} zero: no time limit).
     */
    public StressConfig withLimits(int r, Duration d) {
        return new StressConfig(test, indexMode, threads, r, d, delayPoint, delayLoops, every, pause, sleepMs,
                virtualThreads, unregisteredEvery, timeout, signalMicros);
    }

    /** Whether the workers run for a duration (and perhaps up to a rep count). */
    public boolean timed() {
        return !duration.isZero();
    }

    /** Whether the workers stop after a rep count (perhaps earlier, at the end of the duration). */
    public boolean repLimited() {
        return reps > 0;
    }

    /**
     * How long the workers run, as words: always both fields, {@code -} for the one that
     * sets no limit: {@code reps=1000 seconds=-}, {@code reps=- seconds=2}, or
     * {@code reps=1000 seconds=2} (whichever comes first).
     */
    public String limitWords() {
        return limitWords(reps, duration);
    }

    /**
     * {@link #limitWords()} for {@code reps} operations per worker (0: no limit) and
     * {@code duration} ({@link Duration#ZERO}: no limit).
     */
    static String limitWords(int reps, Duration duration) {
        return "reps=" + (reps > 0 ? String.valueOf(reps) : NO_LIMIT)
                + " seconds=" + (duration.isZero() ? NO_LIMIT : secondsWord(duration));
    }

    /** The value of {@code reps=} or {@code seconds=} when that limit is not set. */
    public static final String NO_LIMIT = "-";

    /** {@code 2} for 2 s, {@code 0.25} for 250 ms. */
    public static String secondsWord(Duration d) {
        return new BigDecimal(BigInteger.valueOf(d.getSeconds()).multiply(BigInteger.valueOf(1_000_000_000))
                .add(BigInteger.valueOf(d.getNano())), 9).stripTrailingZeros().toPlainString();
    }

    /** With a delay loop of {@code loops} iterations at {@code point} (0, 0 for none). */
    public StressConfig withDelay(int point, long loops) {
        return new StressConfig(test, indexMode, threads, reps, duration, point, loops, every, pause, sleepMs,
                virtualThreads, unregisteredEvery, timeout, signalMicros);
    }

    /** Yield around every {@code m}-th operation. */
    public StressConfig withYieldEvery(int m) {
        return new StressConfig(test, indexMode, threads, reps, duration, delayPoint, delayLoops, m, Pause.YIELD, 0,
                virtualThreads, unregisteredEvery, timeout, signalMicros);
    }

    /** Sleep {@code ms} around every {@code m}-th operation. */
    public StressConfig withSleepEvery(int m, long ms) {
        return new StressConfig(test, indexMode, threads, reps, duration, delayPoint, delayLoops, m, Pause.SLEEP, ms,
                virtualThreads, unregisteredEvery, timeout, signalMicros);
    }

    public StressConfig withVirtualThreads(boolean v) {
        return new StressConfig(test, indexMode, threads, reps, duration, delayPoint, delayLoops, every, pause, sleepMs,
                v, unregisteredEvery, timeout, signalMicros);
    }

    public StressConfig withUnregisteredEvery(int m) {
        return new StressConfig(test, indexMode, threads, reps, duration, delayPoint, delayLoops, every, pause, sleepMs,
                virtualThreads, m, timeout, signalMicros);
    }

    public StressConfig withTimeout(Duration t) {
        return new StressConfig(test, indexMode, threads, reps, duration, delayPoint, delayLoops, every, pause, sleepMs,
                virtualThreads, unregisteredEvery, t, signalMicros);
    }

    /**
     * A signaller sends SIGPIPE (which the JVM handles and ignores) to the workers' threads
     * every {@code micros} microseconds, so critical sections are aborted by signal delivery
     * too (0 = no signals).
     */
    public StressConfig withSignalsEvery(long micros) {
        return new StressConfig(test, indexMode, threads, reps, duration, delayPoint, delayLoops, every, pause, sleepMs,
                virtualThreads, unregisteredEvery, timeout, micros);
    }

    /** Whether worker {@code index} (0-based) acts as unregistered. */
    public boolean unregistered(int index) {
        return unregisteredEvery > 0 && (index + 1) % unregisteredEvery == 0;
    }

    /** How many workers act as unregistered. */
    public int unregisteredWorkers() {
        return unregisteredEvery == 0 ? 0 : threads / unregisteredEvery;
    }

    /** The index mode as a command-line word: {@code cpu} or {@code mmcid}. */
    public static String indexWord(IndexMode mode) {
        return mode == IndexMode.CPU_ID ? "cpu" : "mmcid";
    }

    /**
     * The index mode for {@code cpu} or {@code mmcid} (also {@code cpu_id}, {@code mm_cid}).
     *
     * @throws IllegalArgumentException for anything else
     */
    public static IndexMode parseIndex(String word) {
        String w = word == null ? "" : word.strip().toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
        return switch (w) {
            case "cpu", "cpuid" -> IndexMode.CPU_ID;
            case "mmcid", "cid", "concurrencyid" -> IndexMode.CONCURRENCY_ID;
            default -> throw new IllegalArgumentException("unknown index mode '" + word + "': use cpu or mmcid");
        };
    }

    /** The non-default options as {@code key=value} words ("" when none). */
    public String optionWords() {
        List<String> w = new ArrayList<>();
        if (delayPoint != 0) {
            w.add("delay=" + delayPoint + "x" + delayLoops);
        }
        if (every != 0) {
            w.add("every=" + every + (pause == Pause.YIELD ? ":yield" : ":sleep" + sleepMs + "ms"));
        }
        if (virtualThreads) {
            w.add("virtual");
        }
        if (unregisteredEvery != 0) {
            w.add("unregistered-every=" + unregisteredEvery);
        }
        if (signalMicros != 0) {
            w.add("signals=" + signalMicros + "us");
        }
        return String.join(" ", w);
    }
}
