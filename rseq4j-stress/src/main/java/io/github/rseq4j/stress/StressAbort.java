package io.github.rseq4j.stress;

/** Unwinds a worker or background loop when the run has failed or timed out. */
final class StressAbort extends RuntimeException {
    static final StressAbort INSTANCE = new StressAbort();

    private StressAbort() {
        super("stress run stopping", null, false, false);
    }
}
