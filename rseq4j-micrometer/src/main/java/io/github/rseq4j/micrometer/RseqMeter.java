package io.github.rseq4j.micrometer;

/** A meter of {@link RseqPrometheusMeterRegistry} that records through rseq4j ({@link MeterSeries}). */
sealed interface RseqMeter permits RseqTimer, RseqDistributionSummary {
    /** Closes the meter's series: records from now on are ignored, reads keep the totals so far. */
    void detach();
}
