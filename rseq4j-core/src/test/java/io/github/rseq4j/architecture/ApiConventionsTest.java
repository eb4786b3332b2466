package io.github.rseq4j.architecture;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaMethod;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The API's conventions, checked on its classes:
 * <ul>
 * <li>One way to create things (package Javadoc, "Creating things"): a structure that owns
 *     its memory (an {@link AutoCloseable} of the public package) is made by a public
 *     constructor or by its owner's {@code newX(...)}, never by a static factory; static
 *     factories are for immutable values such as {@code BucketLayout}. Fails on a public
 *     static method of the public package that returns such a structure, unless it is one of
 *     the deprecated delegates kept for code not yet migrated.</li>
 * <li>Every class with instances prints what it is ({@code toString()}).</li>
 * </ul>
 */
class ApiConventionsTest {

    private static final String API = "io.github.rseq4j";

    /**
     * Closeable results of static methods that are no structure: {@code Rseq.register()}
     * registers the calling thread and returns the handle of that registration.
     */
    private static final List<String> HANDLES = List.of("io.github.rseq4j.Registration");

    /** The public classes of the API package (nested ones included), imported once. */
    private static final List<JavaClass> PUBLIC = publicClasses();

    private static List<JavaClass> publicClasses() {
        JavaClasses classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(API);
        assertTrue(HANDLES.stream().allMatch(classes::contain), "the handles exist: " + HANDLES);
        return classes.stream()
                .filter(c -> c.getPackageName().equals(API) && c.getModifiers().contains(JavaModifier.PUBLIC))
                .toList();
    }

    @Test
    void noStaticFactoryMakesAStructureThatOwnsMemory() {
        List<String> factories = new ArrayList<>();
        int checked = 0;
        for (JavaClass c : PUBLIC) {
            for (JavaMethod m : c.getMethods()) {
                if (!m.getModifiers().contains(JavaModifier.PUBLIC) || !m.getModifiers().contains(JavaModifier.STATIC)) {
                    continue;
                }
                checked++;
                JavaClass returned = m.getRawReturnType();
                if (returned.getPackageName().equals(API) && returned.isAssignableTo(AutoCloseable.class)
                        && !HANDLES.contains(returned.getName()) && !m.isAnnotatedWith(Deprecated.class)) {
                    factories.add(m.getFullName());
                }
            }
        }
        assertTrue(checked > 10, "the public package's static methods were found: " + checked);
        assertEquals(List.of(), factories,
                "structures that own memory are made by a constructor or by their owner's newX(...)");
    }

    /**
     * Every public class of the API with instances (not an interface, enum or record, which
     * print themselves) says what it is in {@code toString()}, rather than {@code Name@hash}.
     */
    @Test
    void everyStructurePrintsWhatItIs() {
        List<String> silent = new ArrayList<>();
        int checked = 0;
        for (JavaClass c : PUBLIC) {
            if (c.isInterface() || c.isEnum() || c.isRecord()) {
                continue;
            }
            boolean instances = c.getMethods().stream().anyMatch(m -> m.getModifiers().contains(JavaModifier.PUBLIC)
                    && !m.getModifiers().contains(JavaModifier.STATIC));
            if (!instances) {
                continue;   // Rseq, RseqResult, RseqThreads: static methods only
            }
            checked++;
            boolean prints = c.getMethods().stream().anyMatch(m -> m.getName().equals("toString")
                    && m.getRawParameterTypes().isEmpty());
            if (!prints) {
                silent.add(c.getName());
            }
        }
        assertTrue(checked > 15, "the public package's classes were found: " + checked);
        assertEquals(List.of(), silent, "classes without a toString() of their own");
    }
}
