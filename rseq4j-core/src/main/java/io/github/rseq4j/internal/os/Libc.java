package io.github.rseq4j.internal.os;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few C library functions rseq4j calls, as FFM downcalls.
 *
 * <p>Calls that can fail return {@code -errno} (never a raw -1 with a separate errno),
 * captured with {@link Linker.Option#captureCallState(String...)} inside the same native
 * call, so no Java code can run between the failure and reading errno.
 *
 * <p>Nothing here is usable on a system without a C library exporting these symbols, or
 * when the JVM denies this module native access ({@code --illegal-native-access=deny}
 * without {@code --enable-native-access}): {@link #AVAILABLE} says whether every function
 * was bound, {@link #UNAVAILABLE_REASON} why not, and every method throws an
 * {@link IllegalStateException} naming that reason instead of failing obscurely.
 */
public final class Libc {
    private Libc() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    /** Whether every function this class binds was found. */
    public static final boolean AVAILABLE;
    /** Why {@link #AVAILABLE} is false (null when it is true). */
    public static final String UNAVAILABLE_REASON;
    /** Whether the JVM refused this module native access (restricted methods throw). */
    public static final boolean NATIVE_ACCESS_DENIED;

    private static final MethodHandle SYSCALL3;
    private static final MethodHandle SYSCALL4;
    private static final MethodHandle GETAUXVAL;
    private static final MethodHandle SCHED_GETCPU;
    private static final MethodHandle SCHED_GETAFFINITY;
    private static final MethodHandle SCHED_SETAFFINITY;
    private static final MethodHandle MMAP;
    private static final MethodHandle MPROTECT;
    private static final MethodHandle MADVISE;
    private static final MethodHandle PTHREAD_KEY_CREATE;
    private static final MethodHandle GETTID;

    static {
        MethodHandle s3 = null, s4 = null, aux = null, getcpu = null, getaff = null, setaff = null,
                mmap = null, mprotect = null, madvise = null, keyCreate = null, gettid = null;
        boolean ok;
        String reason = null;
        boolean denied = false;
        try {
            Linker.Option errno = Linker.Option.captureCallState("errno");
            s3 = downcall("syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                    errno, Linker.Option.firstVariadicArg(1));
            s4 = downcall("syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                    errno, Linker.Option.firstVariadicArg(1));
            aux = downcall("getauxval", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
            getcpu = downcall("sched_getcpu", FunctionDescriptor.of(JAVA_INT), Linker.Option.critical(false));
            getaff = downcall("sched_getaffinity", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), errno);
            setaff = downcall("sched_setaffinity", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), errno);
            mmap = downcall("mmap", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), errno);
            mprotect = downcall("mprotect", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), errno);
            madvise = downcall("madvise", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), errno);
            keyCreate = downcall("pthread_key_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            gettid = downcall("gettid", FunctionDescriptor.of(JAVA_INT));
            ok = true;
        } catch (IllegalCallerException e) {
            ok = false;
            denied = true;
            reason = nativeAccessAdvice(Libc.class.getModule());
        } catch (RuntimeException | LinkageError e) {
            ok = false;
            reason = "the C library functions rseq4j needs are missing (" + e.getMessage() + ")";
        }
        AVAILABLE = ok;
        UNAVAILABLE_REASON = reason;
        NATIVE_ACCESS_DENIED = denied;
        MADVISE = madvise;
        SYSCALL3 = s3; SYSCALL4 = s4; GETAUXVAL = aux; SCHED_GETCPU = getcpu;
        SCHED_GETAFFINITY = getaff; SCHED_SETAFFINITY = setaff; MMAP = mmap; MPROTECT = mprotect;
        PTHREAD_KEY_CREATE = keyCreate; GETTID = gettid;
    }

    /**
     * What to tell a user whose JVM denies {@code module} native access.
     *
     * @param module the module that needs native access (unnamed on the class path)
     * A jar manifest's {@code Enable-Native-Access} accepts {@code ALL-UNNAMED} only (the JDK
     * refuses a module name there), so a named module is told the command-line flag alone.
     *
     * @param module the module that needs native access (unnamed on the class path)
     * @return "native access not granted to module X: add --enable-native-access=X ..."
     */
    public static String nativeAccessAdvice(Module module) {
        if (module.isNamed()) {
            String name = module.getName();
            return "native access not granted to module " + name + ": add --enable-native-access=" + name
                    + " to the java command (or to JDK_JAVA_OPTIONS; a jar manifest cannot grant it to a named"
                    + " module, its Enable-Native-Access takes only ALL-UNNAMED)";
        }
        return "native access not granted to the class path (unnamed module): add"
                + " --enable-native-access=ALL-UNNAMED to the java command (or Enable-Native-Access: ALL-UNNAMED"
                + " to an executable jar's manifest)";
    }

    /** Throws when the functions could not be bound: the reason, never a NullPointerException. */
    private static void requireAvailable() {
        if (!AVAILABLE) {
            throw new IllegalStateException("C library calls are unavailable: " + UNAVAILABLE_REASON);
        }
    }

    private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment addr = LOOKUP.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("C library symbol not found: " + name));
        return LINKER.downcallHandle(addr, fd, options);
    }

    /**
     * Address of a C library symbol (function or data), if it exists.
     *
     * @param name the symbol's name, such as {@code __rseq_offset}
     * @return a zero-length segment at the symbol's address, or empty when the C library
     *         does not define it
     */
    public static Optional<MemorySegment> symbol(String name) {
        return LOOKUP.find(name);
    }

    /**
     * Address of a C library function that generated code calls; fails clearly when absent.
     *
     * @param name the function's name, such as {@code pthread_setspecific}
     * @return the function's address
     * @throws IllegalStateException when the C library has no such function
     */
    public static long functionAddress(String name) {
        return LOOKUP.find(name)
                .orElseThrow(() -> new IllegalStateException("C library function not found: " + name))
                .address();
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static RuntimeException wrap(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    /**
     * {@code syscall(nr, a, b, c)}: result, or -errno.
     *
     * @param nr the system call number (architecture-specific)
     * @param a  the call's first argument
     * @param b  its second argument
     * @param c  its third argument
     * @return the call's result when it succeeds, else minus the errno
     */
    public static long syscall(long nr, long a, long b, long c) {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long r = (long) SYSCALL3.invokeExact(state, nr, a, b, c);
            return r == -1 ? -errno(state) : r;
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    /**
     * {@code syscall(nr, a, b, c, d)}: result, or -errno.
     *
     * @param nr the system call number (architecture-specific)
     * @param a  the call's first argument
     * @param b  its second argument
     * @param c  its third argument
     * @param d  its fourth argument
     * @return the call's result when it succeeds, else minus the errno
     */
    public static long syscall(long nr, long a, long b, long c, long d) {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long r = (long) SYSCALL4.invokeExact(state, nr, a, b, c, d);
            return r == -1 ? -errno(state) : r;
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    /**
     * {@code getauxval(type)}; 0 when the entry is absent.
     *
     * @param type the auxiliary vector key, such as {@code AT_RSEQ_FEATURE_SIZE}
     * @return the entry's value, or 0 when the kernel did not supply it
     */
    public static long getauxval(long type) {
        requireAvailable();
        try {
            return (long) GETAUXVAL.invokeExact(type);
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    /**
     * {@code sched_getcpu()}: the CPU the calling OS thread runs on, or -1.
     *
     * @return the CPU number during the call, or -1 when the C library cannot tell
     */
    public static int schedGetcpu() {
        requireAvailable();
        try {
            return (int) SCHED_GETCPU.invokeExact();
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    /**
     * {@code gettid()} of the calling OS thread.
     *
     * @return the kernel's thread id of the OS thread (for a virtual thread, its carrier)
     */
    public static int gettid() {
        requireAvailable();
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    /** Size in bytes of the CPU masks passed to the affinity calls (enough for 8192 CPUs). */
    public static final int CPU_MASK_BYTES = 1024;

    /**
     * {@code sched_getaffinity(0, ...)} into {@code mask}: 0 or -errno.
     *
     * @param mask a native buffer that receives the calling OS thread's CPU bit mask, usually
     *             {@link #CPU_MASK_BYTES} long
     * @return 0 on success, else minus the errno
     */
    public static int schedGetaffinity(MemorySegment mask) {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = (int) SCHED_GETAFFINITY.invokeExact(state, 0, mask.byteSize(), mask);
            return r == -1 ? -errno(state) : 0;
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    /**
     * {@code sched_setaffinity(0, ...)} of the calling OS thread: 0 or -errno.
     *
     * @param mask a native CPU bit mask (bit {@code i} set: the thread may run on CPU {@code i})
     * @return 0 on success, else minus the errno
     */
    public static int schedSetaffinity(MemorySegment mask) {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = (int) SCHED_SETAFFINITY.invokeExact(state, 0, mask.byteSize(), mask);
            return r == -1 ? -errno(state) : 0;
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    /** Memory protection bits of mmap and mprotect, as in sys/mman.h (combine with |). */
    public static final int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    /** mmap flags, as in sys/mman.h on Linux (combine with |). */
    public static final int MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;

    /**
     * Anonymous private mapping; returns the address or throws with errno.
     *
     * @param length    the mapping's size in bytes
     * @param prot      its protection, {@code PROT_*} bits
     * @param noReserve whether to map with MAP_NORESERVE (no swap reserved: untouched pages
     *                  cost nothing)
     * @return the address of the new zero-filled mapping
     * @throws OutOfMemoryError when mmap fails
     */
    public static long mmapAnonymous(long length, int prot, boolean noReserve) {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int flags = MAP_PRIVATE | MAP_ANONYMOUS | (noReserve ? MAP_NORESERVE : 0);
            long r = (long) MMAP.invokeExact(state, 0L, length, prot, flags, -1, 0L);
            if (r == -1L) {
                throw new OutOfMemoryError("mmap of " + length + " bytes failed, errno " + errno(state));
            }
            return r;
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    /**
     * {@code mprotect}; throws with errno on failure.
     *
     * @param address the start of the range, page-aligned
     * @param length  the range's size in bytes
     * @param prot    the new protection, {@code PROT_*} bits
     * @throws IllegalStateException when mprotect fails
     */
    public static void mprotect(long address, long length, int prot) {
        rangeCall(MPROTECT, "mprotect", address, length, prot);
    }

    /** madvise advice: drop the pages; an anonymous private range reads as zeros afterwards. */
    public static final int MADV_DONTNEED = 4;

    /**
     * {@code madvise}; throws with errno on failure.
     *
     * @param address the start of the range, page-aligned
     * @param length  the range's size in bytes
     * @param advice  the advice, such as {@link #MADV_DONTNEED}
     * @throws IllegalStateException when madvise fails
     */
    public static void madvise(long address, long length, int advice) {
        rangeCall(MADVISE, "madvise", address, length, advice);
    }

    /**
     * Calls {@code int name(void *address, size_t length, int arg)} (mprotect, madvise)
     * bound as {@code h}; throws with errno when it does not return 0.
     */
    private static void rangeCall(MethodHandle h, String name, long address, long length, int arg) {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = (int) h.invokeExact(state, address, length, arg);
            if (r != 0) {
                throw new IllegalStateException(name + "(" + Long.toHexString(address) + ", " + length
                        + ", " + arg + ") failed, errno " + errno(state));
            }
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    /**
     * {@code pthread_key_create(&key, destructor)}; returns the key or throws.
     *
     * @param destructor the native function called with a thread's non-null value when the
     *                   thread exits, or {@link MemorySegment#NULL} for none
     * @return the new key
     * @throws IllegalStateException when pthread_key_create fails
     */
    public static int pthreadKeyCreate(MemorySegment destructor) {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment key = arena.allocate(JAVA_INT);
            int r = (int) PTHREAD_KEY_CREATE.invokeExact(key, destructor);
            if (r != 0) {
                throw new IllegalStateException("pthread_key_create failed: " + r);
            }
            return key.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw wrap(t);
        }
    }

    /**
     * Reads a C {@code long} data symbol, if present.
     *
     * @param name the symbol's name
     * @return its 64-bit value, or empty when the symbol does not exist
     */
    public static Optional<Long> readLongSymbol(String name) {
        return symbol(name).map(s -> s.reinterpret(8).get(ValueLayout.JAVA_LONG, 0));
    }

    /**
     * Reads a C {@code unsigned int} data symbol, if present.
     *
     * @param name the symbol's name
     * @return its 32-bit value (as a signed {@code int}), or empty when the symbol does not exist
     */
    public static Optional<Integer> readIntSymbol(String name) {
        return symbol(name).map(s -> s.reinterpret(4).get(ValueLayout.JAVA_INT, 0));
    }
}
