package io.github.rseq4j.micrometer;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.HistogramCounts;
import io.github.rseq4j.PerCpuTimer;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link BucketLayout#micrometerTimerDefault()} is Micrometer's own: the same bounds as a
 * Micrometer {@code Timer} with {@code publishPercentileHistogram()} and its default
 * expected range, the same {@code le} numbers in a Prometheus scrape, and the same bucket
 * for every value at and next to every bound.
 */
class MicrometerLayoutTest {

    @Test
    void theMicrometerPresetHasMicrometersBoundsAndPutsEveryValueInTheSameBucket() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Timer micrometer = Timer.builder("t").publishPercentileHistogram().register(registry);
        BucketLayout layout = BucketLayout.micrometerTimerDefault();
        PerCpuTimer rseq = new PerCpuTimer(layout);

        CountAtBucket[] theirs = micrometer.takeSnapshot().histogramCounts();
        assertEquals(theirs.length, layout.bucketCount() - 1, "finite bounds (then +Inf)");
        List<Long> values = new ArrayList<>();
        for (int i = 0; i < theirs.length; i++) {
            double ns = theirs[i].bucket(TimeUnit.NANOSECONDS);
            assertEquals((double) layout.upperBound(i), ns, "bound " + i);
            // the same double is exported as le (seconds), so client_java prints the same text
            assertEquals(theirs[i].bucket(TimeUnit.SECONDS), layout.upperBound(i, BucketLayout.NANOS_PER_SECOND),
                    "le of bound " + i);
            for (long v = layout.upperBound(i) - 1; v <= layout.upperBound(i) + 1; v++) {
                values.add(v);
            }
        }
        values.add(40_000_000_000L);
        for (long v : values) {
            micrometer.record(v, TimeUnit.NANOSECONDS);
            rseq.record(v, TimeUnit.NANOSECONDS);
        }
        CountAtBucket[] counted = micrometer.takeSnapshot().histogramCounts();
        HistogramCounts ours = rseq.snapshot();
        long cumulative = 0;
        for (int i = 0; i < counted.length; i++) {
            cumulative += ours.recordsInBucket(i);
            assertEquals(counted[i].count(), (double) cumulative, "le " + counted[i].bucket(TimeUnit.SECONDS));
        }
        assertEquals(values.size(), ours.count());

        String scrape = registry.scrape();
        int le = 0;
        for (String line : scrape.lines().toList()) {
            if (line.startsWith("t_seconds_bucket{le=\"") && !line.contains("+Inf")) {
                String text = line.substring(line.indexOf("le=\"") + 4, line.indexOf("\"}"));
                assertEquals(Double.parseDouble(text), layout.upperBound(le, BucketLayout.NANOS_PER_SECOND), line);
                le++;
            }
        }
        assertEquals(layout.bucketCount() - 1, le, scrape);
    }

    @Test
    void thePrometheusPresetIsExportedAsGiven() {
        BucketLayout layout = BucketLayout.prometheusDefaultSeconds();
        PerCpuTimer t = new PerCpuTimer(layout);
        t.record(Duration.ofMillis(5));
        t.record(Duration.ofNanos(5_000_001));
        HistogramCounts s = t.snapshot();
        assertEquals(0.005, s.layout().upperBound(0, BucketLayout.NANOS_PER_SECOND));
        assertEquals(1, s.recordsInBucket(0));
        assertEquals(1, s.recordsInBucket(1));
    }
}
