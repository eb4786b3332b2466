/**
 * rseq4j metrics in Micrometer: a {@code MeterBinder} for {@code PerCpuCounter}s and
 * {@code PerCpuTimer}s, and rseq4j's own state. See
 * {@link io.github.rseq4j.micrometer.RseqMeterBinder}.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module io.github.rseq4j.micrometer {
    requires transitive io.github.rseq4j;
    requires transitive micrometer.core;

    exports io.github.rseq4j.micrometer;
}
