package io.github.rseq4j.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** Runs {@link EventLogExample} and checks the file it writes. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EventLogExampleTest {
    private static final Pattern LINE = Pattern.compile("cpu=(\\d+) (\\d+) worker-(\\d+) seq=(\\d+) level=(INFO ok|WARN slow request)");

    @Test
    void writesEveryEventOnceInOrderPerCpu(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("events.log");
        int threads = 50, events = 2_000;
        EventLogExample.Summary s = EventLogExample.run(out, threads, events);
        assertEquals((long) threads * events, s.events());
        assertEquals(s.events(), s.linesWritten());
        assertEquals(0, s.dropped());

        List<String> lines = Files.readAllLines(out);
        assertEquals(threads * events, lines.size());
        Set<Long> seen = new HashSet<>();
        Map<String, Integer> lastSeq = new HashMap<>();      // "cpu/worker" -> last seq
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            assertTrue(m.matches(), line);
            int cpu = Integer.parseInt(m.group(1)), worker = Integer.parseInt(m.group(3)), seq = Integer.parseInt(m.group(4));
            assertTrue(seen.add((long) worker * events + seq), "twice: " + line);
            Integer prev = lastSeq.put(cpu + "/" + worker, seq);
            assertTrue(prev == null || prev < seq, "out of order within cpu " + cpu + ": " + line);
            assertEquals(seq % 10 == 0 ? "WARN slow request" : "INFO ok", m.group(5));
        }
    }

    @Test
    void mainRuns(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("main.log");
        EventLogExample.main(new String[]{out.toString(), "4", "100"});
        assertEquals(400, Files.readAllLines(out).size());
    }
}
