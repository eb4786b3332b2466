package io.github.rseq4j.examples;

import io.github.rseq4j.RecordHandler;

import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuRing;
import io.github.rseq4j.PerCpuRingBuffer;
import io.github.rseq4j.PerCpuRingBuffer.OverflowPolicy;
import io.github.rseq4j.Rseq;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Records log events from many threads into per-CPU rings and writes them to a file.
 *
 * <p>Writers (here virtual threads, but any thread works) encode an event as UTF-8 and
 * {@link PerCpuRingBuffer#write} it: one rseq critical section on their CPU, no lock,
 * no atomic, no allocation in the ring. One background thread drains every CPU's ring
 * into a buffered file, prefixing each line with the ring it came from. Lines of one CPU
 * appear in the order they were written there; lines of different CPUs interleave by
 * drain round, so each event carries a timestamp and the writer's own sequence number.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp ... io.github.rseq4j.examples.EventLogExample events.log 64 10000
 * </pre>
 */
public final class EventLogExample {
    private EventLogExample() {}

    /** What {@link #run} did. */
    public record Summary(long events, long linesWritten, long dropped, Duration took) {}

    public static void main(String[] args) throws Exception {
        Path out = args.length > 0 ? Path.of(args[0]) : Files.createTempFile("rseq4j-events", ".log");
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int events = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
        Summary s = run(out, threads, events);
        System.out.printf("%d events from %d threads -> %s (%d lines, %d dropped) in %d ms; mode %s%n",
                s.events(), threads, out, s.linesWritten(), s.dropped(), s.took().toMillis(),
                Rseq.isRseqMode() ? "rseq" : "portable");
    }

    /**
     * Starts {@code threads} virtual threads that each log {@code eventsPerThread} events,
     * and a consumer that writes them to {@code out}; returns when everything is on disk.
     */
    public static Summary run(Path out, int threads, int eventsPerThread) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        // 64 KiB per CPU; a full ring makes the writer wait (up to 30 s) rather than lose events.
        PerCpuRingBuffer log = new PerCpuRingBuffer(64 * 1024, OverflowPolicy.WAIT, Duration.ofSeconds(30));
        PerCpuCounter logged = new PerCpuCounter();
        long[] lines = new long[1];

        try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(out), 1 << 16)) {
            AtomicBoolean stop = new AtomicBoolean();
            LineWriter writer = new LineWriter(file, lines);
            Thread consumer = Thread.ofPlatform().name("log-writer").start(() -> {
                while (!stop.get()) {
                    if (log.drain(writer) == 0) {
                        try {
                            Thread.sleep(1);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }
            });

            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                workers.add(Thread.ofVirtual().name("worker-" + t).start(() -> {
                    for (int seq = 0; seq < eventsPerThread; seq++) {
                        String event = System.nanoTime() + " worker-" + id + " seq=" + seq
                                + (seq % 10 == 0 ? " level=WARN slow request" : " level=INFO ok");
                        log.write(event.getBytes(StandardCharsets.UTF_8));
                        logged.increment();
                    }
                }));
            }
            for (Thread w : workers) {
                w.join();
            }
            stop.set(true);
            consumer.join();
            log.close();
            log.drain(writer);              // whatever the consumer had not read yet
            writer.check();
        }
        return new Summary(logged.sum(), lines[0], log.dropped(), Duration.ofNanos(System.nanoTime() - t0));
    }

    /** Turns records into lines: {@code cpu=<ring> <event>}. */
    private static final class LineWriter implements RecordHandler<RuntimeException> {
        private final OutputStream out;
        private final long[] lines;
        private IOException failure;

        LineWriter(OutputStream out, long[] lines) {
            this.out = out;
            this.lines = lines;
        }

        @Override
        public void onRecord(int ring, byte[] bytes, int length) {
            if (failure != null) {
                return;
            }
            try {
                out.write(("cpu=" + ring + " ").getBytes(StandardCharsets.US_ASCII));
                out.write(bytes, 0, length);
                out.write('\n');
                lines[0]++;
            } catch (IOException e) {
                failure = e;
            }
        }

        void check() {
            if (failure != null) {
                throw new UncheckedIOException(failure);
            }
        }
    }
}
