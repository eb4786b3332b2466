package io.github.rseq4j.bench.cli;

/**
 * One worker thread's timed work: perform the operation {@code ops} times, back to back,
 * and return a value derived from the results (summed return values, say) so that the JIT
 * cannot drop the work. Each benchmark case is its own lambda class, so every loop body is
 * compiled for exactly one operation.
 */
@FunctionalInterface
public interface Loop {
    long run(long ops);
}
