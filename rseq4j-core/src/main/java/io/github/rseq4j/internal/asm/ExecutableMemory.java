package io.github.rseq4j.internal.asm;

import io.github.rseq4j.internal.os.Libc;

import java.lang.foreign.MemorySegment;

/**
 * Places finished machine code in memory the processor may execute.
 *
 * <p><b>Implementation notes.</b> Each installation maps fresh anonymous pages read+write, copies
 * the linked code in, has the back end make it visible to instruction fetch
 * ({@link Backend#flushInstructionCache}: nothing on x86-64, cache maintenance on aarch64),
 * then turns the pages read+execute with {@code mprotect}: no page is
 * ever writable and executable at once. Pages are never unmapped: a thread may hold a
 * pointer to a generated function or to an {@code rseq_cs} descriptor in its rseq area
 * (the kernel reads it at the next preemption), and there is no cheap way to know that
 * no thread does. Code is generated a handful of times per process, so this leaks nothing
 * that grows.
 */
public final class ExecutableMemory {
    private ExecutableMemory() {}

    private static final long PAGE = 4096;

    /**
     * Fault injection for tests: {@code -Drseq4j.internal.failCodeMapping=true} makes every
     * installation fail as an exhausted address space does, so that tests can check that a
     * failed set-up leaves rseq4j in portable mode. Not a user setting.
     */
    private static final boolean FAIL_FOR_TEST = Boolean.getBoolean("rseq4j.internal.failCodeMapping");

    /** A placed code block: its address and size. */
    public record Block(long address, long size) {
        /** Absolute address of a label inside the block. */
        public long addressOf(Label label) {
            return address + label.position();
        }

        /** A zero-length segment at the label, for {@code Linker.downcallHandle}. */
        public MemorySegment entry(Label label) {
            return MemorySegment.ofAddress(addressOf(label));
        }
    }

    /** Makes freshly written instructions visible to instruction fetch (see {@link Backend#flushInstructionCache}). */
    @FunctionalInterface
    public interface InstructionCacheFlush {
        void flush(long address, long size);
    }

    /**
     * Links {@code code} for a fresh mapping, writes it there, flushes it with
     * {@code backend}'s hook, and makes it read+execute.
     */
    public static Block install(Backend backend, CodeBuffer code) {
        return install(code, backend::flushInstructionCache);
    }

    /**
     * As {@link #install(Backend, CodeBuffer)} with an explicit flush step (a back end
     * installing its own cache-maintenance routine bootstraps it through this).
     */
    public static Block install(CodeBuffer code, InstructionCacheFlush flush) {
        long size = Math.max(PAGE, (code.position() + PAGE - 1) & -PAGE);
        if (FAIL_FOR_TEST) {
            throw new OutOfMemoryError("mmap(" + size + " bytes) failed: ENOMEM (simulated by -Drseq4j.internal.failCodeMapping)");
        }
        long address = Libc.mmapAnonymous(size, Libc.PROT_READ | Libc.PROT_WRITE, false);
        byte[] bytes = code.link(address);
        MemorySegment.ofAddress(address).reinterpret(size).copyFrom(MemorySegment.ofArray(bytes));
        flush.flush(address, bytes.length);
        Libc.mprotect(address, size, Libc.PROT_READ | Libc.PROT_EXEC);
        return new Block(address, size);
    }
}
