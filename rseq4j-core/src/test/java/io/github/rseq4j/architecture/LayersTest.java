package io.github.rseq4j.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The layout is the architecture: rseq4j-core's packages form one acyclic stack, each
 * layer using only the layers below it. This test fails on any package cycle, on a lower
 * layer importing a higher one, and on a package that is not in the stack at all (so a
 * new package must be given its place here, in docs/ARCHITECTURE.md's picture too).
 */
class LayersTest {

    private static final String ROOT = "io.github.rseq4j";

    /** Bottom to top. */
    static final List<String> STACK = List.of(
            ROOT + ".internal.abi",           // layouts and constants shared with generated code
            ROOT + ".internal.os",            // system calls, libc, platform detection, fences
            ROOT + ".internal.asm",           // the architecture-neutral machine-code model (MacroAssembler, Backend), executable memory
            ROOT + ".internal.arch.x86_64",   // one folder per architecture
            ROOT + ".internal.arch.aarch64",
            ROOT + ".internal.arch",          // the one switch from architecture to back end
            ROOT + ".internal.codegen",       // operation templates, critical-section skeleton, Java twins
            ROOT + ".internal.registration",  // glibc's or rseq4j's own registration, per-thread counts
            ROOT + ".internal.runtime",       // the composition root and the JIT-constant bridge
            ROOT + ".internal.memory",        // slices, the stop protocol, operations that always complete
            ROOT + ".internal.structures",    // engines behind the public structures
            ROOT);                            // the public API

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
        assertEquals(Set.of(), packages, "packages outside the layer stack: give each a place in LayersTest.STACK");
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
