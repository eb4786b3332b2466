package io.github.rseq4j.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

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
 * {@value #WATCHDOG_SECONDS} s (times the {@link TimeScale}), should the JVM that froze it wait for a safepoint the frozen
 * thread cannot reach (a JIT deoptimisation, say: the JVM then goes on after that long,
 * with the thread thawed early, which can only hide a stale write, never invent one).
 * Where even the thawing thread could be held at a safepoint, {@link #cyclesFromOutside}
 * freezes and thaws from a shell process instead, a cycle per request. Needs root and the
 * freezer hierarchy at {@link #ROOT}; tests skip visibly without them
 * ({@link #unavailableReason()}).
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
        Path dir = ROOT.resolve("rseq4j-test-" + name + "-" + ProcessHandle.current().pid());
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
        // An empty young generation first: a collection while the thread is frozen in Java
        // code would wait for it at a safepoint until the watchdog thaws it. (Every round
        // allocates, the state polling too; StaleCallerFreezerTest's child once failed in
        // its 17th round with "did not reach FROZEN: THAWED", the watchdog's thaw, at load
        // 10, which a collection during the freeze explains.)
        System.gc();
        join(tid);
        watchdog = new ProcessBuilder("sh", "-c", "sleep " + WATCHDOG_SECONDS * TimeScale.factor() + "; echo THAWED > '"
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
     * Moves thread {@code tid} into the group without freezing it (the group is frozen later,
     * by {@link #cyclesFromOutside}).
     *
     * @param tid the kernel thread id ({@link #currentTid()} of that thread)
     * @throws IOException when the freezer refuses
     */
    public void join(long tid) throws IOException {
        Files.writeString(dir.resolve("tasks"), Long.toString(tid));
    }

    /**
     * The threads in the group.
     *
     * @return their kernel thread ids
     * @throws IOException when the group cannot be read
     */
    public List<Long> tasks() throws IOException {
        return Files.readAllLines(dir.resolve("tasks")).stream().filter(l -> !l.isBlank())
                .map(l -> Long.parseLong(l.strip())).toList();
    }

    /**
     * Whether the kernel reports the group frozen.
     *
     * @return {@code true} when its state reads FROZEN
     * @throws IOException when the group cannot be read
     */
    public boolean isFrozen() throws IOException {
        return state().equals("FROZEN");
    }

    /**
     * Starts a shell process that freezes and thaws the group a cycle at a time: for a JVM
     * none of whose threads may be the one to thaw (any of them could be held at a
     * safepoint, a handshake or a deoptimisation, that waits for the frozen thread).
     *
     * @param frozenFor how long each cycle keeps the group frozen
     * @return the cycles' driver; close it to end the process
     * @throws IOException when the process cannot start
     */
    public Cycles cyclesFromOutside(Duration frozenFor) throws IOException {
        return new Cycles(dir.resolve("freezer.state"), frozenFor);
    }

    /**
     * Freeze-then-thaw cycles made by a shell process (see {@link #cyclesFromOutside}):
     * {@link #freeze()} returns once the group is frozen, and the shell thaws it
     * {@code frozenFor} later on its own.
     */
    public static final class Cycles implements AutoCloseable {
        /**
         * For each line read: freeze the group (asking again while the kernel reports
         * FREEZING), print "frozen", wait, thaw, print "thawed".
         */
        private static final String FREEZE_THEN_THAW = """
                while read line; do
                  echo FROZEN > "$1"
                  while [ "$(cat "$1")" != FROZEN ]; do echo FROZEN > "$1"; done
                  echo frozen
                  sleep "$2"
                  echo THAWED > "$1"
                  echo thawed
                done
                """;

        private final Process shell;
        private final Writer requests;
        private final BufferedReader replies;

        private Cycles(Path state, Duration frozenFor) throws IOException {
            String seconds = String.format(java.util.Locale.ROOT, "%.3f", frozenFor.toNanos() / 1e9);
            shell = new ProcessBuilder("/bin/sh", "-c", FREEZE_THEN_THAW, "sh", state.toString(), seconds)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            requests = new OutputStreamWriter(shell.getOutputStream(), StandardCharsets.US_ASCII);
            replies = new BufferedReader(new InputStreamReader(shell.getInputStream(), StandardCharsets.US_ASCII));
        }

        /**
         * Freezes the group; returns once the kernel reports it frozen. The shell thaws it
         * after {@code frozenFor}; {@link #awaitThawed()} waits for that.
         *
         * @throws IOException when the shell fails
         */
        public void freeze() throws IOException {
            requests.write("cycle\n");
            requests.flush();
            expect("frozen");
        }

        /**
         * Whether the shell has reported the thaw of the current cycle (without waiting).
         *
         * @return {@code true} when {@link #awaitThawed()} would return at once
         * @throws IOException when the shell's output cannot be read
         */
        public boolean thawReported() throws IOException {
            return replies.ready();
        }

        /**
         * Waits until the shell has thawed the group.
         *
         * @throws IOException when the shell fails
         */
        public void awaitThawed() throws IOException {
            expect("thawed");
        }

        private void expect(String expected) throws IOException {
            String line = replies.readLine();
            if (!expected.equals(line)) {
                throw new IOException("the freezer shell said " + line + ", expected " + expected);
            }
        }

        /** Ends the shell (after the cycle in progress) and waits for it. */
        @Override
        public void close() throws IOException {
            requests.close();
            try {
                if (!shell.waitFor(TimeScale.millis(10_000), TimeUnit.MILLISECONDS)) {
                    shell.destroyForcibly();
                }
            } catch (InterruptedException e) {
                shell.destroyForcibly();
                Thread.currentThread().interrupt();
            }
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

    /**
     * Thaws and removes the group (threads still in it are moved back first; the removal is
     * retried for up to 2 s, times the {@link TimeScale}, while the tasks of a child that just ended are still leaving).
     */
    @Override
    public void close() throws IOException {
        if (Files.isDirectory(dir)) {
            thaw();
            for (int i = 0; i < 100 * TimeScale.factor(); i++) {
                try {
                    Files.delete(dir);
                    return;
                } catch (IOException busy) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                }
            }
            Files.delete(dir);
        }
    }
}
