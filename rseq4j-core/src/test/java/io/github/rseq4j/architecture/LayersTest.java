package io.github.rseq4j.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layout is the architecture: rseq4j-core's packages form one acyclic stack, each
 * layer using only the layers below it. This test fails on any package cycle, on a lower
 * layer importing a higher one, and on a package that is not in the stack at all (so a
 * new package must be given its place in docs/layers.txt, the one list of layers).
 */
class LayersTest {

    private static final String ROOT = "io.github.rseq4j";

    /** Bottom to top, from {@value #LAYERS_FILE}: the one list, which dev/jdeps-layers reads too. */
    static final List<String> STACK = readStack();

    /** The layer list, relative to the repository root. */
    static final String LAYERS_FILE = "docs/layers.txt";

    /** The packages of {@value #LAYERS_FILE}, found from the working directory (the module's or the root). */
    private static List<String> readStack() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve(LAYERS_FILE))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException(LAYERS_FILE + " not found above " + Path.of("").toAbsolutePath());
        }
        try {
            List<String> stack = new ArrayList<>();
            for (String line : Files.readAllLines(dir.resolve(LAYERS_FILE))) {
                String t = line.strip();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    stack.add(t.split("\\s+", 2)[0]);
                }
            }
            return List.copyOf(stack);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void theStackIsReadAndEndsWithThePublicApi() {
        assertTrue(STACK.size() > 5, STACK.toString());
        assertEquals(ROOT, STACK.getLast(), "the public API is the top layer");
        assertEquals(STACK.size(), Set.copyOf(STACK).size(), "a package listed twice: " + STACK);
    }

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(ROOT);
    }

    @Test
    void everyPackageHasItsPlaceInTheStack() {
        Set<String> packages = new TreeSet<>();
        classes.forEach(c -> packages.add(c.getPackageName()));
        assertFalse(packages.isEmpty());
        packages.removeAll(STACK);
        assertEquals(Set.of(), packages, "packages outside the layer stack: give each a place in " + LAYERS_FILE);
    }

    @Test
    void noPackageCycles() {
        slices().matching("io.github.(**)").should().beFreeOfCycles().check(classes);
    }

    @TestFactory
    List<DynamicTest> noLayerUsesAHigherOne() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < STACK.size() - 1; i++) {
            String layer = STACK.get(i);
            String[] higher = STACK.subList(i + 1, STACK.size()).toArray(String[]::new);
            ArchRule rule = noClasses().that().resideInAPackage(layer)
                    .should().dependOnClassesThat().resideInAnyPackage(higher)
                    .because(layer + " is below " + String.join(", ", higher));
            tests.add(DynamicTest.dynamicTest(layer.substring(ROOT.length()), () -> rule.check(classes)));
        }
        return tests;
    }
}
