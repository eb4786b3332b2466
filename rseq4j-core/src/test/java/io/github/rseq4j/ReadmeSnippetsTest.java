package io.github.rseq4j;

import io.github.rseq4j.testsupport.ReadmeJava;
import io.github.rseq4j.testsupport.ReadmeJava.Block;
import io.github.rseq4j.testsupport.ReadmeJava.Unit;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static io.github.rseq4j.testsupport.ReadmeJava.NOT_COMPILED;
import static io.github.rseq4j.testsupport.ReadmeJava.compile;
import static io.github.rseq4j.testsupport.ReadmeJava.javaBlocks;
import static io.github.rseq4j.testsupport.ReadmeJava.unit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every {@code ```java} block of the repository's README.md compiles against this
 * module's classes, so the README cannot drift from the API: blocks marked
 * {@value io.github.rseq4j.testsupport.ReadmeJava#NOT_COMPILED} are skipped (keep those few and
 * deliberate), and each block gets a package of its own, so blocks may declare the same
 * names. How blocks become compilation units: {@link ReadmeJava}.
 */
class ReadmeSnippetsTest {

    @Test
    void everyJavaBlockOfTheReadmeCompiles() throws IOException {
        List<Block> blocks = javaBlocks(ReadmeJava.readme());
        List<Block> compiled = blocks.stream().filter(Block::compiled).toList();
        System.out.println("README.md: " + blocks.size() + " java blocks, " + compiled.size() + " compiled, "
                + (blocks.size() - compiled.size()) + " marked " + NOT_COMPILED);
        assertTrue(compiled.size() >= 5, "expected the README's java blocks, found " + compiled.size());

        List<Unit> units = new ArrayList<>();
        for (int i = 0; i < compiled.size(); i++) {
            units.add(unit(compiled.get(i), "readme.block" + (i + 1)));
        }
        String errors = compile(units);
        if (!errors.isEmpty()) {
            fail("README.md java blocks do not compile:\n" + errors);
        }
    }

    @Test
    void theExtractorSeesFencesMarkersAndWholeClasses() {
        List<String> md = List.of(
                "text",
                "```java",
                "int a = 1;",
                "```",
                NOT_COMPILED,
                "",
                "```java",
                "int b = ...;",
                "```",
                "```sh",
                "echo",
                "```",
                "```java",
                "import java.util.List;",
                "public final class X { List<String> l; }",
                "```");
        List<Block> blocks = javaBlocks(md);
        assertEquals(3, blocks.size());
        assertEquals(new Block(3, List.of("int a = 1;"), true), blocks.get(0));
        assertEquals(false, blocks.get(1).compiled());
        assertEquals(14, blocks.get(2).firstLine());
        Unit whole = unit(blocks.get(2), "p");
        assertEquals("X.java", whole.fileName());
        Unit body = unit(blocks.get(0), "q");
        assertEquals(3, body.readmeLine()[body.source().indexOf("int a = 1;")]);
    }
}
