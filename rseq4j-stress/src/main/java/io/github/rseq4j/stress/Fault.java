package io.github.rseq4j.stress;

/**
 * A deliberate error that a test makes a scenario commit, once (worker 0, first
 * operation), to show that the scenario's checks catch it: the public-structure analogue
 * of {@link StressRunner#withoutMembarrierFence()}.
 */
enum Fault {
    /** counter: one add that the worker does not count as added (histogram, series: one untallied record). */
    EXTRA_ADD,
    /** pool, bufferpool: a worker gives its item back while it still holds it. */
    EARLY_RELEASE,
    /** pool, bufferpool: a worker keeps its item and never gives it back. */
    LEAK,
    /** ringbuffer: a worker writes one record twice. */
    DUPLICATE_RECORD
}
