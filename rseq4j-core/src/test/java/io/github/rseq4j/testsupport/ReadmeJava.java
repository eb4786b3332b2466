package io.github.rseq4j.testsupport;

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
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Java blocks of the repository's README.md, turned into compilation units and
 * compiled against the caller's test class path: shared by the core's
 * {@code ReadmeSnippetsTest} and the metrics modules' {@code ReadmeWiringTest} (through the
 * core's test jar).
 *
 * <ul>
 * <li>A block that declares a top-level class, record, interface or enum is a complete
 *     compilation unit: it compiles as it is (it must bring its own imports).</li>
 * <li>Any other block is a method body: its leading {@code import} lines become imports,
 *     the rest is wrapped in {@code void snippet() throws Exception { ... }} of a class
 *     that imports {@link #COMMON_IMPORTS}.</li>
 * <li>A block preceded by the line {@value #NOT_COMPILED} (blank lines in between
 *     allowed) is marked not compiled ({@link Block#compiled()} false).</li>
 * </ul>
 *
 * Errors name the README line they come from and the compiler's message.
 */
public final class ReadmeJava {
    private ReadmeJava() {}

    public static final String NOT_COMPILED = "<!-- not compiled -->";

    /** What a method-body block may use without importing it. */
    public static final List<String> COMMON_IMPORTS = List.of(
            "import io.github.rseq4j.*;",
            "import java.io.*;",
            "import java.lang.foreign.*;",
            "import java.time.Duration;",
            "import java.util.*;",
            "import java.util.concurrent.*;",
            "import static java.nio.charset.StandardCharsets.UTF_8;");

    private static final Pattern FENCE = Pattern.compile("^\\s*```\\s*([A-Za-z0-9_+-]*).*$");
    private static final Pattern TOP_LEVEL_TYPE = Pattern.compile(
            "^(?:(?:public|final|abstract|sealed|non-sealed|strictfp)\\s+)*(?:class|record|interface|enum)\\s+([A-Za-z_$][A-Za-z0-9_$]*)");
    private static final Pattern IMPORT = Pattern.compile("^\\s*import\\s+[^;]+;\\s*$");

    /** One fenced Java block: its first content line in README (1-based) and its lines. */
    public record Block(int firstLine, List<String> lines, boolean compiled) {}

    /** A generated source file and, for each of its lines, the README line it came from (0: generated). */
    public record Unit(Block block, String packageName, String fileName, List<String> source, int[] readmeLine) {}

    /** The lines of ../README.md, seen from a module directory. */
    public static List<String> readme() throws IOException {
        Path readme = Path.of("..", "README.md").toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(readme), "README.md not found at " + readme + " (run from a module directory)");
        return Files.readAllLines(readme, StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ extraction

    public static List<Block> javaBlocks(List<String> md) {
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < md.size(); i++) {
            Matcher open = FENCE.matcher(md.get(i));
            if (!open.matches()) {
                continue;
            }
            String lang = open.group(1).toLowerCase(Locale.ROOT);
            int start = i + 1;
            int end = start;
            while (end < md.size() && !md.get(end).strip().startsWith("```")) {
                end++;
            }
            if (end == md.size()) {
                fail("README.md: the fence at line " + (i + 1) + " is never closed");
            }
            if (lang.equals("java")) {
                blocks.add(new Block(start + 1, List.copyOf(md.subList(start, end)), !markedNotCompiled(md, i)));
            }
            i = end;
        }
        return blocks;
    }

    private static boolean markedNotCompiled(List<String> md, int fence) {
        for (int j = fence - 1; j >= 0; j--) {
            String line = md.get(j).strip();
            if (!line.isEmpty()) {
                return line.equals(NOT_COMPILED);
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ generation

    public static Unit unit(Block b, String pkg) {
        List<String> src = new ArrayList<>();
        List<Integer> from = new ArrayList<>();
        String type = topLevelType(b.lines());
        src.add("package " + pkg + ";");
        from.add(0);
        if (type != null) {
            for (int k = 0; k < b.lines().size(); k++) {
                src.add(b.lines().get(k));
                from.add(b.firstLine() + k);
            }
            return new Unit(b, pkg, type + ".java", src, toArray(from));
        }
        for (String imp : COMMON_IMPORTS) {
            src.add(imp);
            from.add(0);
        }
        int k = 0;
        for (; k < b.lines().size(); k++) {
            String line = b.lines().get(k);
            if (!line.isBlank() && !IMPORT.matcher(line).matches()) {
                break;
            }
            src.add(line);
            from.add(b.firstLine() + k);
        }
        src.add("@SuppressWarnings(\"all\") class Snippet { void snippet() throws Exception {");
        from.add(0);
        for (; k < b.lines().size(); k++) {
            src.add(b.lines().get(k));
            from.add(b.firstLine() + k);
        }
        src.add("} }");
        from.add(0);
        return new Unit(b, pkg, "Snippet.java", src, toArray(from));
    }

    /** The name of the block's public top-level type, else its first one, else null. */
    public static String topLevelType(List<String> lines) {
        String first = null;
        for (String line : lines) {
            if (line.isEmpty() || Character.isWhitespace(line.charAt(0))) {
                continue; // top-level declarations start at column 0
            }
            Matcher m = TOP_LEVEL_TYPE.matcher(line);
            if (m.find()) {
                if (line.startsWith("public")) {
                    return m.group(1);
                }
                if (first == null) {
                    first = m.group(1);
                }
            }
        }
        return first;
    }

    private static int[] toArray(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    // ------------------------------------------------------------------ compilation

    /** Compiles every unit in one task; returns the errors, one paragraph each, or "". */
    public static String compile(List<Unit> units) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "no system Java compiler: run the tests on a JDK");
        Path out = Files.createTempDirectory("rseq4j-readme");
        try {
            List<JavaFileObject> sources = new ArrayList<>();
            for (Unit u : units) {
                sources.add(new Source(u));
            }
            DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
            List<String> options = List.of(
                    "-classpath", System.getProperty("java.class.path"),
                    "-d", out.toString(),
                    "-proc:none",
                    "-implicit:none",
                    "-Xlint:none",
                    "-encoding", "UTF-8");
            try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8)) {
                javac.getTask(null, files, diagnostics, options, null, sources).call();
            }
            StringBuilder errors = new StringBuilder();
            for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                if (d.getKind() != Diagnostic.Kind.ERROR) {
                    continue;
                }
                errors.append(describe(d)).append('\n');
            }
            return errors.toString();
        } finally {
            try (Stream<Path> walk = Files.walk(out)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /**
     * Checks that the README blocks of one module compile: every block that imports from
     * {@code modulePackage} (they are marked not compiled for the core's test, whose class
     * path lacks the module) must declare a class, and they must compile against the
     * caller's class path; there must be at least one.
     *
     * @param modulePackage the module's package with a trailing dot, e.g. {@code "io.github.rseq4j.micrometer."}
     * @param unitPrefix    the package prefix of the generated units, e.g. {@code "readme.micrometer"}
     * @throws IOException when the README cannot be read
     */
    public static void assertModuleBlocksCompile(String modulePackage, String unitPrefix) throws IOException {
        List<Block> blocks = javaBlocks(readme()).stream()
                .filter(b -> b.lines().stream().anyMatch(l -> l.strip().startsWith("import " + modulePackage)))
                .toList();
        assertTrue(!blocks.isEmpty(), "no README block imports " + modulePackage);
        List<Unit> units = new ArrayList<>();
        for (int i = 0; i < blocks.size(); i++) {
            assertNotNull(topLevelType(blocks.get(i).lines()),
                    "a README block of this module declares a class:\n" + String.join("\n", blocks.get(i).lines()));
            units.add(unit(blocks.get(i), unitPrefix + (i + 1)));
        }
        assertEquals("", compile(units));
    }

    private static String describe(Diagnostic<? extends JavaFileObject> d) {
        String message = d.getMessage(Locale.ROOT);
        if (!(d.getSource() instanceof Source s)) {
            return "  " + message;
        }
        Unit u = s.unit;
        long line = d.getLineNumber();
        int readmeLine = line >= 1 && line <= u.readmeLine().length ? u.readmeLine()[(int) line - 1] : 0;
        String where = readmeLine > 0
                ? "README.md:" + readmeLine
                : "README.md: the block starting at line " + u.block().firstLine() + " (generated line " + line + ")";
        String code = readmeLine > 0 ? "\n      " + u.source().get((int) line - 1).strip() : "";
        return "  " + where + ": " + message + code;
    }

    /** A unit as an in-memory source file. */
    private static final class Source extends SimpleJavaFileObject {
        final Unit unit;

        Source(Unit unit) {
            super(URI.create("string:///" + unit.packageName().replace('.', '/') + "/" + unit.fileName()), Kind.SOURCE);
            this.unit = unit;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return String.join("\n", unit.source()) + "\n";
        }
    }
}
