package io.github.rseq4j.cli;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code rseq4j demo metrics}, in-process on a free port of 127.0.0.1: scraped over HTTP
 * while it runs, every scrape consistent, and the last scrape's count equal to the
 * {@code records=N} it prints last, its sum to the truth line's; with {@code --native} too
 * (the text format then shows the classic buckets beside the native histogram).
 */
class DemoMetricsCommandTest {

    static final Pattern SERVING = Pattern.compile("serving (http://127\\.0\\.0\\.1:(\\d+)/metrics)");
    static final Pattern RECORDS = Pattern.compile("(?m)^records=(\\d+)$");
    static final Pattern TRUTH = Pattern.compile("(?m)^truth: count=(\\d+) sum_ns=(\\d+) sum_seconds=(\\S+) "
            + "p50_seconds=(\\S+) p99_seconds=(\\S+)$");

    @ParameterizedTest(name = "native={0}")
    @ValueSource(booleans = {false, true})
    void scrapesWhileItRunsAreConsistentAndTheLastOneCountsEveryRecord(boolean nativeHistogram) throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        AtomicInteger rc = new AtomicInteger(-1);
        Thread demo = Thread.ofPlatform().name("demo").start(() -> {
            CommandLine cl = Main.commandLine();
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            List<String> args = new ArrayList<>(List.of("demo", "metrics", "--port", "0", "--threads", "3",
                    "--seconds", "3", "--linger-seconds", "4", "--rate", "20000"));
            if (nativeHistogram) {
                args.add("--native");
            }
            rc.set(cl.execute(args.toArray(String[]::new)));
        });

        String url = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (url == null && System.nanoTime() < deadline && demo.isAlive()) {
            Matcher m = SERVING.matcher(out.toString());
            if (m.find()) {
                url = m.group(1);
            } else {
                Thread.sleep(10);
            }
        }
        assertNotNull(url, () -> "no URL printed: " + out + err);

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build();
        int scrapes = 0;
        long previous = 0;
        Long records = null;
        Scrape last = null;
        while (demo.isAlive() && System.nanoTime() < deadline + Duration.ofSeconds(20).toNanos()) {
            Matcher done = RECORDS.matcher(out.toString());
            boolean stopped = done.find();
            HttpResponse<String> response;
            try {
                response = http.send(request, HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException e) {
                if (!demo.isAlive()) {
                    break; // the linger ended between the check and the request
                }
                throw e;
            }
            assertEquals(200, response.statusCode());
            Scrape s = Scrape.parse(response.body());
            s.checkConsistent();
            assertTrue(s.count >= previous, "count went back: " + s.count + " < " + previous);
            previous = s.count;
            scrapes++;
            if (stopped) {
                // the workers had stopped before this scrape: it is final
                records = Long.parseLong(done.group(1));
                last = s;
                break;
            }
            Thread.sleep(50);
        }
        demo.join(Duration.ofSeconds(30).toMillis());
        assertEquals(0, rc.get(), () -> out + "\n" + err);
        assertNotNull(records, () -> "no records=N line: " + out);
        assertNotNull(last);
        assertTrue(scrapes >= 5, "only " + scrapes + " scrapes");
        assertTrue(records > 0);
        assertEquals(records, last.count, "demo_request_latency_seconds_count of the last scrape");
        assertEquals((double) records, last.requests, "demo_requests_total of the last scrape");
        String[] lines = out.toString().strip().split("\n");
        assertEquals("records=" + records, lines[lines.length - 1].strip(), "the last line printed");
        // the truth line: the values generated again from the workers' seeds are those recorded
        Matcher truth = TRUTH.matcher(out.toString());
        assertTrue(truth.find(), () -> "no truth line: " + out);
        assertEquals(records, Long.parseLong(truth.group(1)));
        assertEquals(last.sum, Double.parseDouble(truth.group(3)), "sum_seconds == the last scrape's _sum");
        assertEquals(Long.parseLong(truth.group(2)) / 1e9, last.sum);
        double p50 = Double.parseDouble(truth.group(4)), p99 = Double.parseDouble(truth.group(5));
        assertTrue(0.00001 <= p50 && p50 < p99 && p99 <= 30, truth.group());
        assertTrue(last.text.contains("rseq4j_mode_info{"), last.text);
        assertTrue(last.text.contains("# HELP demo_request_latency_seconds "), last.text);
    }

    /** What the test reads from one scrape. */
    record Scrape(String text, Map<String, Long> buckets, long count, double sum, double requests) {

        static Scrape parse(String text) {
            Map<String, Long> buckets = new LinkedHashMap<>();
            Long count = null;
            Double sum = null, requests = null;
            String bucket = "demo_request_latency_seconds_bucket{le=\"";
            for (String line : text.split("\n")) {
                if (line.startsWith(bucket)) {
                    String le = line.substring(bucket.length(), line.indexOf('"', bucket.length()));
                    buckets.put(le, Long.parseLong(line.substring(line.lastIndexOf(' ') + 1)));
                } else if (line.startsWith("demo_request_latency_seconds_count ")) {
                    count = Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
                } else if (line.startsWith("demo_request_latency_seconds_sum ")) {
                    sum = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                } else if (line.startsWith("demo_requests_total ")) {
                    requests = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            assertNotNull(count, text);
            assertNotNull(sum, text);
            assertNotNull(requests, text);
            return new Scrape(text, buckets, count, sum, requests);
        }

        /** Cumulative buckets never decrease; the last is +Inf and equals _count. */
        void checkConsistent() {
            assertTrue(buckets.size() >= 2, text);
            long prev = 0;
            double prevLe = Double.NEGATIVE_INFINITY;
            List<String> les = new ArrayList<>(buckets.keySet());
            for (String le : les) {
                double x = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
                assertTrue(x > prevLe, "le increases: " + les);
                long c = buckets.get(le);
                assertTrue(c >= prev, "cumulative buckets never decrease: " + buckets);
                prev = c;
                prevLe = x;
            }
            assertEquals("+Inf", les.getLast());
            assertEquals(count, prev, "_count == +Inf bucket");
            assertTrue(count == 0 ? sum == 0 : sum > 0, "sum " + sum + " for count " + count);
        }
    }
}
