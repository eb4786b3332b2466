package io.github.rseq4j.micrometer;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.pause.PauseDetector;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.tracer.common.SpanContext;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Set;

/**
 * Micrometer's {@link PrometheusMeterRegistry} with its {@link Timer}s and
 * {@link DistributionSummary}s recording through rseq4j: a one-line switch for code that
 * already uses Micrometer.
 *
 * <pre>{@code
 * PrometheusMeterRegistry registry = new RseqPrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * // was: new PrometheusMeterRegistry(PrometheusConfig.DEFAULT); nothing else changes
 * Timer timer = Timer.builder("http.server.requests").tag("uri", "/orders")
 *         .publishPercentileHistogram().serviceLevelObjectives(Duration.ofMillis(100))
 *         .register(registry);
 * timer.record(Duration.ofMillis(42));
 * DistributionSummary payload = DistributionSummary.builder("http.payload").baseUnit("bytes")
 *         .publishPercentileHistogram().register(registry);
 * payload.record(1_536);
 * String exposition = registry.scrape();
 * }</pre>
 *
 * <p>Everything else is Micrometer's: meter filters, common tags, naming, every other meter
 * type, and the code that turns a timer or a summary into Prometheus samples (a meter of this
 * registry is handed to that same code, see {@code MicrometerCollectorBridge}). So a scrape
 * has the same names, labels, {@code _count}, {@code _sum}, {@code _max} and {@code _bucket}
 * lines (with Micrometer's boundaries, exactly), and quantiles computed by Micrometer, as
 * {@code PrometheusMeterRegistry} gives for the same records.
 *
 * <p><b>Summaries.</b> A summary's amounts are doubles (after its {@code scale}); rseq4j
 * records whole numbers. A whole amount below 2^53 (bytes, counts: the usual case) is one
 * record, one critical section, as a timer's; any other amount (with a fraction, 2^53 or
 * more, infinity) is counted exactly on a side path under the summary's lock: the amount as it
 * is in the sum and the maximum, its bucket by Micrometer's rule (its summary histogram counts
 * {@code (long) Math.ceil(amount)} in the first bucket at or above it). Never rounded: see
 * {@code RseqDistributionSummary}.
 *
 * <p><b>Memory and scrapes.</b> All timers and summaries of a registry are series of one
 * {@link io.github.rseq4j.HistogramGroup}: per CPU a fixed {@link #bytesPerCpu()} whatever the
 * number of meters, per meter its buckets on the heap, twice (the series' statistics and the
 * exported totals), independent of the CPU count. {@link #scrape()} (every
 * {@code scrape(..)} method) reads all of them at one cut, one stop per CPU, and includes every
 * record completed before it began; a scrape of {@link #getPrometheusRegistry()} made
 * directly (an HTTP server, Spring Boot's endpoint) does the same at most every 100 ms, so it
 * includes the records completed up to 100 ms before it began (the others come with the next
 * scrape). A timer's own {@code count()}, {@code totalTime()} and {@code max()} are exact, and
 * so are a summary's {@code count()}, {@code totalAmount()} and {@code max()}.
 *
 * <p>What differs:
 * <ul>
 * <li>A record is one rseq4j histogram record: one critical section on the caller's CPU,
 *     count, sum and bucket together, and each scrape's count, sum and buckets are consistent
 *     (from the same records). Micrometer's timer updates two {@code LongAdder}s, a decaying
 *     maximum and a bucket array separately.</li>
 * <li>{@code _max} keeps Micrometer's decaying window, but a record enters the window when a
 *     read takes it in (the next scrape or {@code max()}), not when it is made (see
 *     {@code IntervalTotals}).</li>
 * <li>Client-side quantiles ({@code percentiles(..)}) are Micrometer's own decaying-window
 *     histogram, fed at every record as in Micrometer: a timer with {@code percentiles(..)}
 *     pays that cost on top of rseq4j's record.</li>
 * <li>Exemplars are not sampled: a registry made with a {@link SpanContext} keeps
 *     Micrometer's own timers and summaries.</li>
 * <li>A summary's amount other than a whole number below 2^53 takes the exact side path (a
 *     lock) instead of one critical section; the {@code _sum} of such amounts may differ from
 *     Micrometer's in the last bits where {@code double} additions round (both are
 *     {@code double} sums, in different orders).</li>
 * <li>The other meter types are Micrometer's own.</li>
 * </ul>
 */
public class RseqPrometheusMeterRegistry extends PrometheusMeterRegistry {
    private final boolean exemplars;
    private final ScrapeDrain drain;
    private final PrometheusMeterRegistry amountExporter;

    /**
     * A registry with a new {@link PrometheusRegistry} and the system clock.
     *
     * @param config the registry's configuration, as for {@link PrometheusMeterRegistry}
     * @throws IllegalStateException when this Micrometer lacks what the meters plug into
     */
    public RseqPrometheusMeterRegistry(PrometheusConfig config) {
        this(config, new PrometheusRegistry(), Clock.SYSTEM);
    }

    /**
     * A registry exporting into {@code registry}.
     *
     * @param config   the registry's configuration
     * @param registry the client_java registry to export into
     * @param clock    the clock
     * @throws IllegalStateException when this Micrometer lacks what the meters plug into
     */
    public RseqPrometheusMeterRegistry(PrometheusConfig config, PrometheusRegistry registry, Clock clock) {
        this(config, registry, clock, null);
    }

    /**
     * A registry exporting into {@code registry}, with exemplars from {@code spanContext}
     * (then timers and summaries stay Micrometer's own: rseq4j's do not sample exemplars).
     *
     * @param config      the registry's configuration
     * @param registry    the client_java registry to export into
     * @param clock       the clock
     * @param spanContext where exemplars come from, or null for none
     * @throws IllegalStateException when this Micrometer lacks what the meters plug into
     */
    public RseqPrometheusMeterRegistry(PrometheusConfig config, PrometheusRegistry registry, Clock clock,
                                       SpanContext spanContext) {
        super(config, registry, clock, spanContext);
        MicrometerCollectorBridge.check();
        this.exemplars = spanContext != null;
        this.drain = new ScrapeDrain();
        this.amountExporter = MicrometerCollectorBridge.amountExporter(this, config, clock);
        config().onMeterRemoved(m -> {
            if (m instanceof RseqMeter r) {
                r.detach();
            }
        });
    }

    @Override
    protected Timer newTimer(Meter.Id id, DistributionStatisticConfig distributionStatisticConfig,
                             PauseDetector pauseDetector) {
        if (exemplars) {
            return super.newTimer(id, distributionStatisticConfig, pauseDetector);
        }
        RseqTimer timer = new RseqTimer(id, clock, distributionStatisticConfig, pauseDetector, drain);
        MicrometerCollectorBridge.registerDistribution(this, id, timer);
        return timer;
    }

    @Override
    public DistributionSummary newDistributionSummary(Meter.Id id, DistributionStatisticConfig distributionStatisticConfig,
                                                      double scale) {
        if (exemplars) {
            return super.newDistributionSummary(id, distributionStatisticConfig, scale);
        }
        RseqDistributionSummary summary = new RseqDistributionSummary(id, clock, distributionStatisticConfig, scale, drain);
        MicrometerCollectorBridge.registerDistribution(this, amountExporter, id, summary);
        return summary;
    }

    @Override
    public String scrape() {
        return drain.scrape(super::scrape);
    }

    @Override
    public String scrape(String contentType) {
        return drain.scrape(() -> super.scrape(contentType));
    }

    @Override
    public String scrape(String contentType, Set<String> includedNames) {
        return drain.scrape(() -> super.scrape(contentType, includedNames));
    }

    @Override
    public void scrape(OutputStream out) throws IOException {
        scrapeTo(() -> super.scrape(out));
    }

    @Override
    public void scrape(OutputStream out, String contentType) throws IOException {
        scrapeTo(() -> super.scrape(out, contentType));
    }

    @Override
    public void scrape(OutputStream out, String contentType, Set<String> includedNames) throws IOException {
        scrapeTo(() -> super.scrape(out, contentType, includedNames));
    }

    /** A scrape that writes to a stream, through {@link ScrapeDrain#scrape}. */
    private void scrapeTo(IoScrape scrape) throws IOException {
        IOException[] failure = new IOException[1];
        drain.scrape(() -> {
            try {
                scrape.run();
            } catch (IOException e) {
                failure[0] = e;
            }
            return null;
        });
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    private interface IoScrape {
        void run() throws IOException;
    }

    /**
     * Closes the registry, then its timers' and summaries' shared recording path: records into them
     * are ignored from now on (as into any meter of a closed registry, nothing exports them).
     */
    @Override
    public void close() {
        for (Meter m : getMeters()) {
            if (m instanceof RseqMeter r) {
                r.detach();
            }
        }
        super.close();
        drain.close();
    }

    /**
     * Bytes per CPU of the per-CPU sample logs all timers and summaries of this registry share (fixed,
     * whatever the number of meters; a meter's own memory is on the heap).
     *
     * @return the bytes per CPU
     */
    public long bytesPerCpu() {
        return drain.bytesPerCpu();
    }
}
