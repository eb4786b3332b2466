package io.github.rseq4j.testsupport;

import java.time.Duration;
import java.util.List;

/**
 * The tests' time scale: one factor that every wall-time limit and progress window of
 * rseq4j-core's tests goes through, set with {@code -Drseq4j.test.timeScale=N} (a whole
 * number, default 1).
 *
 * <p>The limits are sized for native speed. Under full-system emulation
 * ({@code dev/aarch64-jvm-check}: an arm64 JVM in {@code qemu-system-aarch64}) the JVM runs
 * 20 to 50 times slower, so a child JVM given a minute, a wait of a few seconds for another
 * thread, or a window expected to see some number of rounds fails there for lack of time,
 * not for a wrong result. The check's suite steps set a scale; natively it stays 1 and the
 * tests are unchanged.
 *
 * <p>What scales: deadlines (how long a test waits before it fails) and windows in which
 * progress is counted (longer windows, same required counts). What does not: the totals,
 * counts and conservation a test checks, and lower bounds a test asserts on an elapsed
 * time (a wait of at least 50 ms is at least 50 ms at any speed). Child JVMs started with
 * {@link ChildJvm#run} get the same scale.
 */
public final class TimeScale {
    private TimeScale() {}

    /** The system property holding the factor. */
    public static final String PROPERTY = "rseq4j.test.timeScale";

    private static final int FACTOR = parse(System.getProperty(PROPERTY, "1"));

    private static int parse(String value) {
        int f;
        try {
            f = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + ": not a whole number", e);
        }
        if (f < 1 || f > 1000) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + ": must be 1 to 1000");
        }
        return f;
    }

    /** The factor (1 natively). */
    public static int factor() {
        return FACTOR;
    }

    /** {@code d} times the factor. */
    public static Duration of(Duration d) {
        return d.multipliedBy(FACTOR);
    }

    /** {@code s} seconds times the factor. */
    public static Duration seconds(long s) {
        return Duration.ofSeconds(s).multipliedBy(FACTOR);
    }

    /** {@code ms} milliseconds times the factor, in milliseconds (for {@code Thread.join} and the like). */
    public static long millis(long ms) {
        return Math.multiplyExact(ms, FACTOR);
    }

    /** {@code s} seconds times the factor, in nanoseconds (for deadlines on {@code System.nanoTime()}). */
    public static long nanosOfSeconds(long s) {
        return Math.multiplyExact(s * 1_000_000_000L, FACTOR);
    }

    /** The JVM flag that gives a child JVM this scale (empty when it is 1). */
    public static List<String> childFlags() {
        return FACTOR == 1 ? List.of() : List.of("-D" + PROPERTY + "=" + FACTOR);
    }
}
