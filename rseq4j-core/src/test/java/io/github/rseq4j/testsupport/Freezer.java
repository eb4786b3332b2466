package io.github.rseq4j.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A cgroup-v1 freezer group, to stall chosen threads of a test at chosen moments without a
 * debugger: {@link #freeze(long)} moves a thread into the group and freezes it,
 * {@link #thaw()} lets it run again.
 *
 * <p>Implementation notes. A thread frozen in Java code cannot reach a safepoint, so a JVM
 * that freezes its own threads must not need one meanwhile: tests freeze threads of a child
 * JVM started with {@code -XX:+UnlockDiagnosticVMOptions -XX:GuaranteedSafepointInterval=0}
 * and a young generation that does not fill up, and thaw from that JVM's main thread, which
 * is never in the group. The parent creates the group and removes it afterwards
 * ({@link #close()} thaws first, so a child killed while a thread was frozen cannot stay
 * frozen). A freeze also starts a watchdog process that thaws the group after
 * {@value #WATCHDOG_SECONDS} s, should the JVM that froze it wait for a safepoint the frozen
 * thread cannot reach (a JIT deoptimisation, say: the JVM then goes on after that long,
 * with the thread thawed early, which can only hide a stale write, never invent one). Needs root and the freezer hierarchy at {@link #ROOT}; tests skip visibly
 * without them ({@link #unavailableReason()}).
 */
public final class Freezer implements AutoCloseable {
    /** Where the cgroup-v1 freezer hierarchy is mounted. */
    public static final Path ROOT = Path.of("/sys/fs/cgroup/freezer");

    /** How long a freeze may last before a process outside the JVM thaws the group. */
    private static final int WATCHDOG_SECONDS = 3;

    private final Path dir;
    private Process watchdog;

    private Freezer(Path dir) {
        this.dir = dir;
    }

    /**
     * Why freezing threads is not possible here, if it is not.
     *
     * @return the reason, or empty when {@link #create} can work
     */
    public static Optional<String> unavailableReason() {
        if (!Files.isDirectory(ROOT)) {
            return Optional.of("no cgroup-v1 freezer at " + ROOT);
        }
        if (!Files.isWritable(ROOT)) {
            return Optional.of("the cgroup-v1 freezer at " + ROOT + " is not writable (needs root)");
        }
        return Optional.empty();
    }

    /**
     * Creates a new group (as the parent of a test).
     *
     * @param name a name unique to the test; the process id is appended
     * @return the group
     * @throws IOException when the group cannot be created
     */
    public static Freezer create(String name) throws IOException {
        Path dir = ROOT.resolve("mem-" + name + "-" + ProcessHandle.current().pid());
        Files.createDirectories(dir);
        return new Freezer(dir);
    }

    /**
     * A group another process created (in a child given its path).
     *
     * @param dir the group's directory
     * @return the group
     */
    public static Freezer open(Path dir) {
        return new Freezer(dir);
    }

    /**
     * The group's directory (to hand to a child).
     *
     * @return the path of the group
     */
    public Path dir() {
        return dir;
    }

    /**
     * Moves thread {@code tid} into the group and freezes the group; returns once the
     * kernel reports it frozen.
     *
     * @param tid the kernel thread id ({@link #currentTid()} of that thread)
     * @throws IOException when the freezer refuses
     */
    public void freeze(long tid) throws IOException {
        Files.writeString(dir.resolve("tasks"), Long.toString(tid));
        watchdog = new ProcessBuilder("sh", "-c", "sleep " + WATCHDOG_SECONDS + "; echo THAWED > '"
                + dir.resolve("freezer.state") + "'").start();
        Files.writeString(dir.resolve("freezer.state"), "FROZEN");
        for (int i = 0; i < 10_000 && !state().equals("FROZEN"); i++) {
            Thread.onSpinWait();
        }
        if (!state().equals("FROZEN")) {
            throw new IOException("the freezer group did not reach FROZEN: " + state());
        }
    }

    /**
     * Thaws the group and moves its threads back to the root group.
     *
     * @throws IOException when the freezer refuses
     */
    public void thaw() throws IOException {
        Files.writeString(dir.resolve("freezer.state"), "THAWED");
        if (watchdog != null) {
            watchdog.destroyForcibly();
            watchdog = null;
        }
        for (String tid : Files.readAllLines(dir.resolve("tasks"))) {
            if (!tid.isBlank()) {
                try {
                    Files.writeString(ROOT.resolve("tasks"), tid.strip());
                } catch (IOException gone) {
                    // the thread exited meanwhile
                }
            }
        }
    }

    private String state() throws IOException {
        return Files.readString(dir.resolve("freezer.state")).strip();
    }

    /**
     * The kernel thread id of the calling thread.
     *
     * @return its tid, from {@code /proc/thread-self}
     * @throws IOException when {@code /proc} cannot be read
     */
    public static long currentTid() throws IOException {
        Path self = Files.readSymbolicLink(Path.of("/proc/thread-self"));
        return Long.parseLong(self.getFileName().toString());
    }

    /** Thaws and removes the group (threads still in it are moved back first). */
    @Override
    public void close() throws IOException {
        if (Files.isDirectory(dir)) {
            thaw();
            Files.delete(dir);
        }
    }
}
