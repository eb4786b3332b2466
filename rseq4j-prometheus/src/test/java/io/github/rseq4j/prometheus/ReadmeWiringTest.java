package io.github.rseq4j.prometheus;

import org.junit.jupiter.api.Test;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's Java blocks that use this module (marked {@code <!-- not compiled -->} for
 * the core's snippet test, which has no Prometheus on its class path) compile here, against
 * this module's test class path. Such a block declares a class and imports
 * {@code io.github.rseq4j.prometheus}.
 */
class ReadmeWiringTest {

    static final String MODULE_PACKAGE = "io.github.rseq4j.prometheus.";

    @Test
    void theReadmesPrometheusBlocksCompile() throws IOException {
        List<String> blocks = blocks(MODULE_PACKAGE);
        assertTrue(!blocks.isEmpty(), "no README block imports " + MODULE_PACKAGE);
        assertEquals("", compile(blocks));
    }

    /** Java blocks of ../README.md that import from {@code pkg}. */
    static List<String> blocks(String pkg) throws IOException {
        Path readme = Path.of("..", "README.md").toAbsolutePath().normalize();
        List<String> md = Files.readAllLines(readme, StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < md.size(); i++) {
            if (!md.get(i).strip().equals("```java")) {
                continue;
            }
            StringBuilder b = new StringBuilder();
            int j = i + 1;
            for (; j < md.size() && !md.get(j).strip().startsWith("```"); j++) {
                b.append(md.get(j)).append('\n');
            }
            if (b.toString().contains("import " + pkg)) {
                out.add(b.toString());
            }
            i = j;
        }
        return out;
    }

    private static final Pattern CLASS = Pattern.compile("(?m)^public (?:final )?class (\\w+)");

    /** Compiles each block as its own file; returns the errors, or "". */
    static String compile(List<String> blocks) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "no system Java compiler");
        Path out = Files.createTempDirectory("readme-wiring");
        try {
            List<JavaFileObject> sources = new ArrayList<>();
            for (String b : blocks) {
                Matcher m = CLASS.matcher(b);
                assertTrue(m.find(), "a README block of this module declares a public class:\n" + b);
                String name = m.group(1);
                sources.add(new SimpleJavaFileObject(URI.create("string:///" + name + ".java"),
                        JavaFileObject.Kind.SOURCE) {
                    @Override
                    public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                        return b;
                    }
                });
            }
            DiagnosticCollector<JavaFileObject> d = new DiagnosticCollector<>();
            List<String> options = List.of("-classpath", System.getProperty("java.class.path"), "-d", out.toString(),
                    "-proc:none", "-Xlint:none");
            try (StandardJavaFileManager files = javac.getStandardFileManager(d, Locale.ROOT, StandardCharsets.UTF_8)) {
                javac.getTask(null, files, d, options, null, sources).call();
            }
            StringBuilder errors = new StringBuilder();
            for (Diagnostic<? extends JavaFileObject> x : d.getDiagnostics()) {
                if (x.getKind() == Diagnostic.Kind.ERROR) {
                    errors.append(x.getSource() == null ? "" : x.getSource().getName()).append(':')
                            .append(x.getLineNumber()).append(": ").append(x.getMessage(Locale.ROOT)).append('\n');
                }
            }
            return errors.toString();
        } finally {
            try (Stream<Path> walk = Files.walk(out)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
