package io.github.rseq4j.bench.cli;

import io.github.rseq4j.micrometer.RseqPrometheusMeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The {@code micrometer} topic: the same application call, {@code timer.record(..)} on a
 * Micrometer {@code Timer} built with {@code publishPercentileHistogram()}, through
 * Micrometer's own {@link PrometheusMeterRegistry} and through rseq4j's
 * {@link RseqPrometheusMeterRegistry} (the one-line switch), at 1, 2 and 8 threads, with the
 * histogram topic's values.
 *
 * <p>Each row checks the timer's own count against the records made, and notes the median
 * time of one full scrape of its registry (one timer with 69 bucket lines).
 */
final class MicrometerSuite {
    private MicrometerSuite() {
    }

    static final String TOPIC = "micrometer";
    static final String GROUP = "Micrometer timer record";
    static final String MICROMETER = "Micrometer Timer (PrometheusMeterRegistry)";
    static final String RSEQ4J = "Micrometer Timer (RseqPrometheusMeterRegistry)";

    /** Thread counts of the topic (its targets are stated at 1, 2 and 8 threads). */
    static final int[] THREADS = {1, 2, 8};

    /** The cases of the topic, in run order. */
    static List<BenchCase> cases() {
        List<BenchCase> all = new ArrayList<>();
        for (int t : THREADS) {
            all.add(BenchCase.rseq4j(TOPIC, GROUP, RSEQ4J, t, false,
                    () -> timer(() -> new RseqPrometheusMeterRegistry(PrometheusConfig.DEFAULT))));
            all.add(BenchCase.alternative(TOPIC, GROUP, MICROMETER, t, false,
                    () -> timer(() -> new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))).asReference());
        }
        return all;
    }

    /** A timer with a percentile histogram on a fresh registry from {@code registry}. */
    static Workload timer(Supplier<PrometheusMeterRegistry> registry) {
        PrometheusMeterRegistry r = registry.get();
        Timer t = Timer.builder("bench.latency").publishPercentileHistogram().register(r);
        return new HistogramSuite.Recording() {
            @Override
            public Loop newLoop(int index) {
                return HistogramSuite.timerLoop(t, index);
            }

            @Override
            long count() {
                return t.count();
            }

            @Override
            long snapshot() {
                return r.scrape().length();
            }

            @Override
            String bytesNote() {
                return "scrape of the registry";
            }
        };
    }
}
