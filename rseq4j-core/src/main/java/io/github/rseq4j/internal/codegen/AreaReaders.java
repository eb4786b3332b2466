package io.github.rseq4j.internal.codegen;

import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.asm.AreaLocation;
import io.github.rseq4j.internal.asm.Backend;
import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.asm.MacroAssembler;
import io.github.rseq4j.internal.asm.ExecutableMemory;
import io.github.rseq4j.internal.os.Rethrow;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Generated readers of the calling thread's rseq area, each {@code long f()} and each
 * reading inside its own native call (so the answer belongs to the OS thread that ran it:
 * for a virtual thread, the carrier it was mounted on during the call). A record, so that
 * a {@code static final} instance's handles are JIT constants.
 *
 * @param cpu    {@code cpu_id}, or -1 when the thread is not registered
 * @param node   {@code node_id}, or -1
 * @param mmCid  {@code mm_cid}, or -1
 * @param area   the area's address, or 0
 */
public record AreaReaders(MethodHandle cpu, MethodHandle node, MethodHandle mmCid, MethodHandle area) {

    /**
     * Generates and binds the four readers.
     *
     * @param backend  the code generator for this machine's architecture
     * @param location how the generated code finds the calling thread's rseq area
     * @return the readers, bound as critical downcalls to freshly installed code
     */
    public static AreaReaders generate(Backend backend, AreaLocation location) {
        MacroAssembler a = backend.newAssembler(location);
        Label cpu = AreaFieldReader.emit(a, "readCpu", RseqAbi.CPU_ID);
        Label node = AreaFieldReader.emit(a, "readNode", RseqAbi.NODE_ID);
        Label cid = AreaFieldReader.emit(a, "readMmCid", RseqAbi.MM_CID);
        Label area = AreaFieldReader.emitAreaAddress(a, "readArea");
        ExecutableMemory.Block block = ExecutableMemory.install(backend, a.buffer());
        Linker linker = Linker.nativeLinker();
        FunctionDescriptor fd = FunctionDescriptor.of(ValueLayout.JAVA_LONG);
        Linker.Option critical = Linker.Option.critical(false);
        return new AreaReaders(linker.downcallHandle(block.entry(cpu), fd, critical),
                linker.downcallHandle(block.entry(node), fd, critical),
                linker.downcallHandle(block.entry(cid), fd, critical),
                linker.downcallHandle(block.entry(area), fd, critical));
    }

    /**
     * The calling thread's cpu_id, or -1 when it has no registration.
     *
     * @return the CPU the calling OS thread ran on during the call, or -1
     */
    public long readCpu() {
        try {
            return (long) cpu.invokeExact();
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * The calling thread's node_id, or -1.
     *
     * @return the NUMA node of the CPU it ran on, or -1 when it has no registration
     */
    public long readNode() {
        try {
            return (long) node.invokeExact();
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * The calling thread's mm_cid, or -1.
     *
     * @return its concurrency id during the call, or -1 when it has no registration
     */
    public long readMmCid() {
        try {
            return (long) mmCid.invokeExact();
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * The calling thread's area address, or 0.
     *
     * @return the address of its registered {@code struct rseq}, or 0 when it has none
     */
    public long readArea() {
        try {
            return (long) area.invokeExact();
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
