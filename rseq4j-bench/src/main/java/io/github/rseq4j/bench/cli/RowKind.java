package io.github.rseq4j.bench.cli;

/**
 * What a row of the bench is, which decides how the report compares it.
 */
public enum RowKind {
    /** One of rseq4j's operations: compared with the best {@link #ALTERNATIVE} of its group. */
    RSEQ4J("rseq4j"),
    /**
     * Another way to do the same job, from the JDK or a library (AtomicLong, LongAdder,
     * ArrayBlockingQueue, Agrona ...): the fastest of them at a thread count is what the
     * rseq4j rows are compared with.
     */
    ALTERNATIVE("alternative"),
    /**
     * A reference that is not a way to do the job (the unshared AtomicLong per thread): it
     * shows what the machine does without sharing, and is neither compared nor a candidate.
     */
    CONTROL("control");

    private final String label;

    RowKind(String label) {
        this.label = label;
    }

    /** As written in the JSON {@code kind} field. */
    public String label() {
        return label;
    }
}
