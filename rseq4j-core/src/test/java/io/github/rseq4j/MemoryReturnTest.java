package io.github.rseq4j;

import io.github.rseq4j.testsupport.ChildJvm;
import io.github.rseq4j.testsupport.CreateCloseCyclesApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Closing a structure gives its per-CPU memory back: 5,000 create/use/close cycles leave
 * the process's RSS within 16 MB and its VmSize within 1 GB of where they started, and
 * every region is released (child JVM, fixed heap so that the heap's own growth does not
 * count).
 */
class MemoryReturnTest {

    private static final long RSS_LIMIT_KB = 16 * 1024;
    private static final long VM_LIMIT_KB = 1024 * 1024;

    @ParameterizedTest
    @ValueSource(strings = {"pool", "bufferpool", "ringbuffer"})
    void fiveThousandCreateCloseCyclesGiveTheMemoryBack(String kind) {
        ChildJvm.Result r = run(kind, 5_000);
        long rss = Long.parseLong(r.value("rssGrowthKb"));
        long vm = Long.parseLong(r.value("vmGrowthKb"));
        assertTrue(rss <= RSS_LIMIT_KB, kind + ": RSS grew " + rss + " kB\n" + r.describe());
        assertTrue(vm <= VM_LIMIT_KB, kind + ": VmSize grew " + vm + " kB\n" + r.describe());
        assertEquals("0", r.value("regionsGrowth"), kind + ": regions left alive\n" + r.describe());
    }

    @Test
    void poolsDroppedWithoutCloseAreGivenBackByTheCollector() {
        ChildJvm.Result r = run("dropped-pool", 2_000);
        assertEquals("0", r.value("regionsGrowth"), r.describe());
        long rss = Long.parseLong(r.value("rssGrowthKb"));
        assertTrue(rss <= RSS_LIMIT_KB, "RSS grew " + rss + " kB\n" + r.describe());
    }

    private static ChildJvm.Result run(String kind, int cycles) {
        List<String> flags = new java.util.ArrayList<>(List.of("-Xms128m", "-Xmx128m", "-XX:+AlwaysPreTouch"));
        flags.addAll(ChildJvm.parentModeFlags());
        return ChildJvm.run(CreateCloseCyclesApp.class, flags, Map.of(), Duration.ofSeconds(180), kind, Integer.toString(cycles)).requireSuccess();
    }
}
