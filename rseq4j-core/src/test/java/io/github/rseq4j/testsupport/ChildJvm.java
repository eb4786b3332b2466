package io.github.rseq4j.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs a {@code main} method of the test sources in a fresh JVM: the same {@code java}
 * as the running test JVM, the same class path, native access enabled, chosen JVM flags
 * and environment, and a bounded run time.
 *
 * <p>Used for what cannot be set up inside the test JVM: process-wide settings such as
 * {@code GLIBC_TUNABLES} (read by the C library at start), {@code -Drseq4j.maxAttempts}
 * (read once by rseq4j), the virtual-thread scheduler's parallelism, and system calls
 * that, if the kernel misbehaved, could take the whole process down.
 *
 * <p>Children report with {@link #emit(String, Object)}: {@code key=value} lines on
 * standard output, read back with {@link Result#value(String)} and {@link Result#values(String)}.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /** Environment setting that makes glibc (2.35+) skip its rseq registration. */
    public static final String GLIBC_RSEQ_OFF = "glibc.pthread.rseq=0";

    /** What a child did. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {

        /** The values of every {@code key=value} line for {@code key}, in order. */
        public List<String> values(String key) {
            List<String> out = new ArrayList<>();
            String prefix = key + "=";
            for (String line : stdout.split("\n")) {
                if (line.startsWith(prefix)) {
                    out.add(line.substring(prefix.length()).strip());
                }
            }
            return out;
        }

        /** The value of the single {@code key=value} line for {@code key}; fails when absent. */
        public String value(String key) {
            List<String> v = values(key);
            if (v.size() != 1) {
                fail("expected exactly one line '" + key + "=...' from the child, found " + v.size() + "\n" + describe());
            }
            return v.getFirst();
        }

        /** Fails unless the child exited with status 0. */
        public Result requireSuccess() {
            if (exitCode != 0) {
                fail("child JVM exited with status " + exitCode + "\n" + describe());
            }
            return this;
        }

        /** Everything about the run, for failure messages. */
        public String describe() {
            return "command: " + String.join(" ", command) + "\nexit status: " + exitCode
                    + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
        }
    }

    /** Prints one {@code key=value} line for the parent (children call this). */
    public static void emit(String key, Object value) {
        System.out.println(key + "=" + value);
        System.out.flush();
    }

    /** The {@code -Drseq4j.mode=...} flag of this JVM, if it has one, to give a child the same mode. */
    public static List<String> parentModeFlags() {
        String mode = System.getProperty("rseq4j.mode");
        return mode == null ? List.of() : List.of("-Drseq4j.mode=" + mode);
    }

    /**
     * Runs {@code mainClass.main(args)} in a new JVM (with this JVM's {@link TimeScale}) and
     * waits at most {@code timeout} times the time scale.
     *
     * @param jvmFlags extra JVM flags (before the main class)
     * @param env      environment changes: a key mapped to null is removed; everything
     *                 else is inherited from this JVM
     */
    public static Result run(Class<?> mainClass, List<String> jvmFlags, Map<String, String> env, Duration timeout,
                             String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaCommand());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Xmx256m");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.addAll(TimeScale.childFlags());
        cmd.addAll(jvmFlags);
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        return exec(cmd, env, timeout);
    }

    /**
     * Runs a command line (for children that need a launcher of their own, such as one
     * without native access, or on the module path) and waits at most {@code timeout} times
     * the {@link TimeScale}.
     *
     * @param cmd     the whole command, {@link #javaCommand()} first
     * @param env     environment changes: a key mapped to null is removed
     * @param nativeTimeout how long to wait at native speed before killing the child and failing
     * @return the finished child's exit code and output
     */
    public static Result exec(List<String> cmd, Map<String, String> env, Duration nativeTimeout) {
        Duration timeout = TimeScale.of(nativeTimeout);
        Path out = null, err = null;
        try {
            out = Files.createTempFile("rseq4j-child", ".out");
            err = Files.createTempFile("rseq4j-child", ".err");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Map<String, String> e = pb.environment();
            env.forEach((k, v) -> {
                if (v == null) {
                    e.remove(k);
                } else {
                    e.put(k, v);
                }
            });
            Process p = pb.start();
            boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!done) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                Result r = new Result(cmd, -1, read(out), read(err));
                fail("child JVM did not finish within " + timeout + " and was killed\n" + r.describe());
            }
            return new Result(cmd, p.exitValue(), read(out), read(err));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run a child JVM: " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a child JVM", e);
        } finally {
            delete(out);
            delete(err);
        }
    }

    /** Shorthand: environment {@code key=value} as a map that {@link #run} accepts. */
    public static Map<String, String> env(String key, String value) {
        Map<String, String> m = new HashMap<>();
        m.put(key, value);
        return m;
    }

    public static String javaCommand() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    private static String read(Path p) throws IOException {
        return Files.readString(p, StandardCharsets.UTF_8);
    }

    private static void delete(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a temporary file left behind is harmless
            }
        }
    }
}
