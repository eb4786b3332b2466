package io.github.rseq4j.bench.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * libc's {@code sched_getcpu()} bound through FFM by the benchmark itself, the way an
 * application without rseq4j would call it: once as a normal downcall and once as a
 * critical one ({@link Linker.Option#critical}: no thread-state transition). The handles
 * are static finals, so the JIT treats them as constants.
 */
final class NativeCpu {
    private NativeCpu() {
    }

    private static final Optional<MemorySegment> SYMBOL = Linker.nativeLinker().defaultLookup().find("sched_getcpu");

    static final MethodHandle SCHED_GETCPU = bind(false);
    static final MethodHandle SCHED_GETCPU_CRITICAL = bind(true);

    static boolean available() {
        return SCHED_GETCPU != null;
    }

    @SuppressWarnings("restricted") // run with --enable-native-access
    private static MethodHandle bind(boolean critical) {
        if (SYMBOL.isEmpty()) {
            return null;
        }
        FunctionDescriptor fd = FunctionDescriptor.of(ValueLayout.JAVA_INT);
        Linker linker = Linker.nativeLinker();
        return critical ? linker.downcallHandle(SYMBOL.get(), fd, Linker.Option.critical(false))
                : linker.downcallHandle(SYMBOL.get(), fd);
    }

    static int schedGetcpu() {
        try {
            return (int) SCHED_GETCPU.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static int schedGetcpuCritical() {
        try {
            return (int) SCHED_GETCPU_CRITICAL.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
