package io.github.rseq4j.internal.codegen;

import io.github.rseq4j.internal.abi.IndexField;

/**
 * How a set of operations is instantiated.
 *
 * @param indexField          which rseq field selects the slice
 * @param strideShift         log2 of the distance between slices
 * @param maxAttempts         how many times a sequence may start before it gives up with ABORTED (>= 1)
 * @param delayPoint          0 for none; 1 = inside the section after the index is read,
 *                            2 = inside, just before the commit, 3 = after the commit
 * @param delayLoops          iterations of the injected busy loop
 * @param abortCounterAddress address of a 64-bit counter incremented on every abort, or 0
 * @param slices              number of slices every per-CPU range has; an index at or above it
 *                            (a CPU the process did not know about) never reaches memory
 */
public record GeneratorConfig(IndexField indexField, int strideShift, int maxAttempts,
                              int delayPoint, long delayLoops, long abortCounterAddress, int slices) {
    /**
     * Checks the configuration.
     *
     * @param indexField          which rseq field selects the slice
     * @param strideShift         log2 of the distance between slices, 12 to 40
     * @param maxAttempts         attempts before ABORTED, 1 to 1000000
     * @param delayPoint          0 to 3, see the record description
     * @param delayLoops          iterations of the injected busy loop, at least 0
     * @param abortCounterAddress address of the abort counter, or 0 for none
     * @param slices              number of slices, at least 1
     * @throws IllegalArgumentException when a value is out of range
     */
    public GeneratorConfig {
        if (slices < 1) {
            throw new IllegalArgumentException("slices must be >= 1: " + slices);
        }
        if (strideShift < 12 || strideShift > 40) {
            throw new IllegalArgumentException("stride shift out of range: " + strideShift);
        }
        if (maxAttempts < 1 || maxAttempts > 1_000_000) {
            throw new IllegalArgumentException("maxAttempts out of range: " + maxAttempts);
        }
        if (delayPoint < 0 || delayPoint > 3) {
            throw new IllegalArgumentException("delay point must be 0 to 3: " + delayPoint);
        }
        if (delayLoops < 0) {
            throw new IllegalArgumentException("delay loops must be >= 0: " + delayLoops);
        }
    }

    /**
     * The same configuration with another attempt budget.
     *
     * @param attempts the new {@code maxAttempts}, 1 to 1000000
     * @return a copy of this configuration with that budget
     */
    public GeneratorConfig withMaxAttempts(int attempts) {
        return new GeneratorConfig(indexField, strideShift, attempts, delayPoint, delayLoops, abortCounterAddress, slices);
    }

    /** Number of delay points operations have. */
    public static final int DELAY_POINTS = 3;

    /**
     * Whether the functions have an injected delay loop (stress builds).
     *
     * @return {@code true} when a delay point is chosen and the loop has iterations
     */
    public boolean delays() {
        return delayPoint != 0 && delayLoops > 0;
    }
}
