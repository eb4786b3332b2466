package io.github.rseq4j.internal.structures;

import java.time.Duration;

/** How the structures turn a caller's maximum wait into nanoseconds. */
public final class Waits {
    private Waits() {}

    /**
     * {@code wait} in nanoseconds, saturated: a wait too long to count in nanoseconds
     * (such as {@code ChronoUnit.FOREVER.getDuration()}) is {@link Long#MAX_VALUE}, no limit.
     *
     * @param wait a non-negative duration
     * @return its nanoseconds, or {@link Long#MAX_VALUE}
     */
    public static long saturatedNanos(Duration wait) {
        try {
            return wait.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
