package io.github.rseq4j.internal.registration;

import io.github.rseq4j.internal.asm.Backend;

import io.github.rseq4j.internal.asm.AreaLocation;
import io.github.rseq4j.internal.asm.RegistrationStubs;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.os.Libc;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * rseq4j's own registration, used where the C library registered nothing (glibc before
 * 2.35, musl, {@code GLIBC_TUNABLES=glibc.pthread.rseq=0}).
 *
 * <p><b>Implementation notes.</b> A process-wide pthread key maps each registered OS thread to
 * its area; generated code finds the area with {@code pthread_getspecific(key)} inside the
 * same native call that uses it ({@link AreaLocation.PthreadKey}). The key's destructor
 * unregisters at thread exit (see {@link OwnAreas} for why an area is never reused early).
 * A thread the kernel refused (another rseq user registered it with an area we cannot
 * use: EINVAL or EBUSY) gets the key set to a permanent "refused" area whose cpu_id is
 * -2, so generated operations report NOT_REGISTERED at once and registration attempts
 * answer without a system call: such a thread uses the fallback path for good.
 */
public final class OwnRegistrar {

    /** What a registration attempt did. */
    public enum Outcome {
        /** The calling OS thread is now registered with a new area. */
        REGISTERED,
        /** It already was (by rseq4j). */
        ALREADY,
        /** The kernel refused it now or earlier; use the fallback path. */
        REFUSED
    }

    private final Arch arch;
    private final OwnAreas areas = new OwnAreas();
    private final int areaLength;
    private final int key;
    private final long refusedArea;
    private final MethodHandle register;
    private final MethodHandle unregister;
    private volatile int lastRefusalErrno;
    private final AtomicLong refusals = new AtomicLong();

    public OwnRegistrar(Backend backend, int featureSize, int rseqAlign) {
        this.arch = backend.arch();
        this.areaLength = areaLength(featureSize, rseqAlign);
        this.refusedArea = areas.permanentRefusedArea();
        RegistrationStubs stubs = backend.registrationStubs(areaLength, refusedArea);
        this.key = Libc.pthreadKeyCreate(MemorySegment.ofAddress(stubs.destructor()));
        Linker linker = Linker.nativeLinker();
        this.register = linker.downcallHandle(MemorySegment.ofAddress(stubs.register()),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        this.unregister = linker.downcallHandle(MemorySegment.ofAddress(stubs.unregister()),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    }

    /** Registration length: at least 32, the feature size rounded up to the alignment. */
    static int areaLength(int featureSize, int rseqAlign) {
        int align = Math.max(RseqAbi.MIN_AREA_SIZE, rseqAlign);
        int len = Math.max(RseqAbi.MIN_AREA_SIZE, (featureSize + align - 1) / align * align);
        if (len > OwnAreas.MAX_AREA_BYTES || align > OwnAreas.SLOT_BYTES) {
            throw new IllegalStateException("kernel asks for an rseq area of " + len
                    + " bytes aligned to " + align + "; rseq4j supports up to " + OwnAreas.MAX_AREA_BYTES);
        }
        return len;
    }

    /** Where generated code finds areas registered here. */
    public AreaLocation location() {
        return new AreaLocation.PthreadKey(key, Libc.functionAddress("pthread_getspecific"));
    }

    /** Registers the calling OS thread (for a virtual thread: its current carrier). */
    public Outcome registerCurrentThread() {
        long area = areas.claim();
        long r;
        try {
            r = (long) register.invokeExact(area, (long) areaLength, (long) arch.signature(), (long) key, refusedArea);
        } catch (Throwable t) {
            areas.release(area);
            throw new IllegalStateException(t);
        }
        if (r == 0) {
            return Outcome.REGISTERED;
        }
        if (r == 3) {
            // Registered but not findable, and unregistering failed: the kernel may write
            // this area until the thread exits, so it is never released (a 256-byte leak).
            refusals.incrementAndGet();
            return Outcome.REFUSED;
        }
        areas.release(area); // never registered with the kernel
        if (r == 1) {
            return Outcome.ALREADY;
        }
        if (r < 0) {
            lastRefusalErrno = (int) -r;
            refusals.incrementAndGet();
        }
        return Outcome.REFUSED;
    }

    /**
     * Unregisters the calling OS thread if rseq4j registered it. Returns 0 or -errno
     * (-EINVAL when it was not registered by rseq4j).
     */
    public int unregisterCurrentThread(long area) {
        long r;
        try {
            r = (long) unregister.invokeExact(area, (long) areaLength, (long) arch.signature(), (long) key);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (r == 0) {
            areas.release(area);
        }
        return (int) r;
    }

    /** Threads the kernel refused to register for rseq4j (each is counted once). */
    public long refusals() {
        return refusals.get();
    }

    /** errno of the last refusal by the kernel, or 0. */
    public int lastRefusalErrno() {
        return lastRefusalErrno;
    }

    /** Areas registered now (or waiting for their thread's exit), not counting the refused marker. */
    public int liveAreas() {
        return areas.inUse() - 1;
    }

    public int areaLength() {
        return areaLength;
    }

    public int key() {
        return key;
    }
}
