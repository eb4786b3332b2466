package io.github.rseq4j.micrometer;

import io.github.rseq4j.testsupport.ReadmeJava;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's Java blocks that use this module (marked {@code <!-- not compiled -->} for
 * the core's snippet test, which has no Micrometer on its class path) compile here, against
 * this module's test class path. Such a block declares a class and imports
 * {@code io.github.rseq4j.micrometer}.
 */
class ReadmeWiringTest {

    static final String MODULE_PACKAGE = "io.github.rseq4j.micrometer.";

    @Test
    void theReadmesMicrometerBlocksCompile() throws IOException {
        List<ReadmeJava.Block> blocks = ReadmeJava.javaBlocks(ReadmeJava.readme()).stream()
                .filter(b -> b.lines().stream().anyMatch(l -> l.strip().startsWith("import " + MODULE_PACKAGE)))
                .toList();
        assertTrue(!blocks.isEmpty(), "no README block imports " + MODULE_PACKAGE);
        List<ReadmeJava.Unit> units = new ArrayList<>();
        for (int i = 0; i < blocks.size(); i++) {
            assertNotNull(ReadmeJava.topLevelType(blocks.get(i).lines()),
                    "a README block of this module declares a class:\n" + String.join("\n", blocks.get(i).lines()));
            units.add(ReadmeJava.unit(blocks.get(i), "readme.micrometer" + (i + 1)));
        }
        assertEquals("", ReadmeJava.compile(units));
    }
}
