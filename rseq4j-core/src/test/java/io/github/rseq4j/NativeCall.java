package io.github.rseq4j;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.CountDownLatch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** Test helper: keeps a segment inside a real native call (a blocking {@code read(2)} into it). */
final class NativeCall {
    private NativeCall() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle PIPE = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("pipe"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle READ = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("read"),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("write"),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle GETTID = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("gettid"),
            FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("close"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    /**
     * Blocks in {@code read(pipe, segment, 1)} until {@code finish} counts down; counts
     * {@code inCall} down once the thread is blocked inside the system call (seen in
     * {@code /proc/self/task/TID/syscall}: read is system call 0 on x86-64, 63 on aarch64).
     */
    static void holdDuring(MemorySegment segment, CountDownLatch inCall, CountDownLatch finish) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            if ((int) PIPE.invokeExact(fds) != 0) {
                throw new IllegalStateException("pipe failed");
            }
            int r = fds.getAtIndex(JAVA_INT, 0), w = fds.getAtIndex(JAVA_INT, 1);
            int tid = (int) GETTID.invokeExact();
            java.nio.file.Path syscall = java.nio.file.Path.of("/proc/self/task/" + tid + "/syscall");
            String readNr = "aarch64".equals(System.getProperty("os.arch")) ? "63 " : "0 ";
            Thread releaser = Thread.ofPlatform().start(() -> {
                try {
                    while (!java.nio.file.Files.readString(syscall).startsWith(readNr)) {
                        Thread.sleep(1);
                    }
                    inCall.countDown();
                    finish.await();
                    MemorySegment one = Arena.global().allocate(1);
                    long n = (long) WRITE.invokeExact(w, one, 1L);
                    if (n != 1) {
                        throw new IllegalStateException("write returned " + n);
                    }
                } catch (Throwable t) {
                    throw new AssertionError(t);
                }
            });
            long n = (long) READ.invokeExact(r, segment, 1L);
            releaser.join();
            int c1 = (int) CLOSE.invokeExact(r), c2 = (int) CLOSE.invokeExact(w);
            if (n != 1 || c1 != 0 || c2 != 0) {
                throw new IllegalStateException("read " + n + ", close " + c1 + " " + c2);
            }
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
