package io.github.rseq4j;

import io.github.rseq4j.testsupport.ChildJvm;
import io.github.rseq4j.testsupport.PortableUseApp;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JVM that denies rseq4j native access ({@code --illegal-native-access=deny}, no
 * {@code --enable-native-access}) gets portable mode with every structure working and
 * exact, and a status that names the missing flag: on the class path and on the module
 * path.
 */
class NativeAccessDeniedTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    @Test
    void onTheClassPathEveryStructureWorksInPortableMode() {
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.javaCommand(), "--illegal-native-access=deny",
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), PortableUseApp.class.getName()));
        ChildJvm.Result r = ChildJvm.exec(cmd, Map.of(), TIMEOUT).requireSuccess();
        check(r, "the class path (unnamed module)", "--enable-native-access=ALL-UNNAMED");
    }

    @Test
    void onTheModulePathTheMessageNamesTheModule() throws URISyntaxException {
        Path coreClasses = location(PerCpuCounter.class);
        Path testClasses = location(PortableUseApp.class);
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.javaCommand(), "--illegal-native-access=deny",
                "-Xmx256m", "--module-path", coreClasses.toString(), "--add-modules", "io.github.rseq4j",
                "-cp", testClasses.toString(), PortableUseApp.class.getName()));
        ChildJvm.Result r = ChildJvm.exec(cmd, Map.of(), TIMEOUT).requireSuccess();
        check(r, "module io.github.rseq4j", "--enable-native-access=io.github.rseq4j");
    }

    private static void check(ChildJvm.Result r, String who, String flag) {
        assertEquals("PORTABLE", r.value("mode"), r.describe());
        assertEquals("NOT_PROBED", r.value("probe"), r.describe());
        String reason = r.value("reason");
        assertTrue(reason.contains("native access not granted to " + who), r.describe());
        assertTrue(reason.contains(flag), r.describe());
        assertTrue(r.value("cpuError").contains(flag), "currentCpu explains itself\n" + r.describe());
        // A manifest's Enable-Native-Access takes ALL-UNNAMED only: never advise a module name there.
        for (String advice : List.of(reason, r.value("cpuError"))) {
            assertFalse(advice.matches("(?s).*Enable-Native-Access: (?!ALL-UNNAMED).*"), advice);
        }
        String expected = r.value("expected");
        for (String key : List.of("counter", "histogram", "item", "listPopped")) {
            assertEquals(expected, r.value(key), key + "\n" + r.describe());
        }
        assertEquals(r.value("ringWrites"), r.value("ringDrained"), r.describe());
        assertEquals("true", r.value("done"), r.describe());
        assertFalse(r.stderr().contains("Exception"), r.describe());
    }

    private static Path location(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
