package io.github.rseq4j.internal.arch.aarch64;

import io.github.rseq4j.internal.arch.aarch64.Aarch64Assembler.Cond;
import io.github.rseq4j.internal.asm.CodeBuffer;
import io.github.rseq4j.internal.asm.ExecutableMemory;
import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.os.Rethrow;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import java.util.function.Consumer;

import static io.github.rseq4j.internal.arch.aarch64.Aarch64Reg.*;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Instruction-cache maintenance for generated aarch64 code: a data cache that is not
 * coherent with instruction fetch must be cleaned to the point of unification and the
 * instruction cache invalidated, by address, before the new instructions run.
 *
 * <p>The routine {@code void flush(long address, long size)} is itself generated
 * ({@link #emit}): it reads the line sizes from {@code CTR_EL0} (Linux lets user space read
 * it), runs {@code dc cvau} over every data-cache line of the range, {@code dsb ish},
 * {@code ic ivau} over every instruction-cache line, {@code dsb ish}, {@code isb} (what
 * libgcc's {@code __clear_cache} does; it ignores the IDC/DIC shortcuts, which only make
 * the work unnecessary, never wrong). Every installation of aarch64 code calls it through
 * {@link ExecutableMemory#install} before the pages become executable. The emulator check
 * ({@code dev/aarch64-check}) runs this routine on the generated operations.
 *
 * <p>Bootstrap: the routine's own page must be flushed before it can run. It is, with
 * libgcc's {@code __clear_cache} from {@code libgcc_s.so.1} when that library and symbol
 * resolve (they do on glibc distributions, where the JVM's C++ runtime needs it). Where
 * they do not, the routine's page relies on the Linux arm64 kernel, which makes a page
 * coherent for instruction fetch the first time it maps it executable
 * ({@code set_pte_at} → {@code __sync_icache_dcache} for a page not yet marked clean;
 * a freshly mapped anonymous page never is): the page is written while read+write and made
 * executable once, never written again. Other threads fetch the new code only after the
 * installing thread published its address, and never had the fresh pages in their
 * pipelines, so the {@code isb} of the installing thread suffices.
 */
public final class Aarch64CacheFlush {
    private Aarch64CacheFlush() {}

    /** Emits {@code void flush(x0 = address, x1 = size)}; returns its entry. */
    public static Label emit(CodeBuffer buf) {
        Aarch64Assembler a = new Aarch64Assembler(buf);
        Label entry = new Label("flushInstructionCache");
        a.bind(entry);
        a.add(X1, X0, X1);              // end
        a.mrsCtrEl0(X3);
        eachLine(a, "dcLoop", 16, a::dcCvau);   // DminLine: CTR_EL0 bits 16-19
        eachLine(a, "icLoop", 0, a::icIvau);    // IminLine: CTR_EL0 bits 0-3
        a.isb();
        a.ret();
        return entry;
    }

    /**
     * Applies {@code maintenance} to every cache line of [x0, x1), lines of the size whose
     * log2 in words is the 4-bit field of CTR_EL0 (in x3) at bit {@code lsb}, then
     * {@code dsb ish}. Uses x2, x4, x5, x6.
     */
    private static void eachLine(Aarch64Assembler a, String name, int lsb, Consumer<Aarch64Reg> maintenance) {
        Label loop = new Label(name);
        a.ubfx(X4, X3, lsb, 4);         // log2 of the line in words
        a.movz(X5, 4, 0);
        a.lslv(X5, X5, X4);             // line bytes
        a.subImm(X6, X5, 1, false);
        a.bic(X2, X0, X6);              // the first line's start
        a.bind(loop);
        maintenance.accept(X2);
        a.add(X2, X2, X5);
        a.cmp(X2, X1);
        a.bcond(Cond.LO, loop);
        a.dsbIsh();
    }

    /** Flushes {@code [address, address + size)}; aarch64 JVMs only. */
    static void flush(long address, long size) {
        try {
            Holder.FLUSH.invokeExact(address, size);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    private static final class Holder {
        static final MethodHandle FLUSH = install();

        private static MethodHandle install() {
            Linker linker = Linker.nativeLinker();
            FunctionDescriptor fd = FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG);
            Optional<MethodHandle> clearCache = libgccClearCache(linker, fd);
            CodeBuffer buf = new CodeBuffer();
            Label entry = emit(buf);
            ExecutableMemory.Block block = ExecutableMemory.install(buf, (address, size) -> {
                if (clearCache.isPresent()) {
                    try {
                        clearCache.get().invokeExact(address, address + size);
                    } catch (Throwable t) {
                        throw Rethrow.unchecked(t);
                    }
                }
            });
            return linker.downcallHandle(block.entry(entry), fd, Linker.Option.critical(false));
        }

        /** libgcc's {@code void __clear_cache(char *begin, char *end)}, where it resolves. */
        private static Optional<MethodHandle> libgccClearCache(Linker linker, FunctionDescriptor fd) {
            try {
                SymbolLookup libgcc = SymbolLookup.libraryLookup("libgcc_s.so.1", Arena.global());
                Optional<MemorySegment> sym = libgcc.find("__clear_cache");
                return sym.map(s -> linker.downcallHandle(s, fd));
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                return Optional.empty();
            }
        }
    }
}
