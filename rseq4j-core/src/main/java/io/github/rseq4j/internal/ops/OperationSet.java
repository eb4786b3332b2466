package io.github.rseq4j.internal.ops;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.asm.ExecutableMemory;
import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.registration.AreaLocation;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.invoke.MethodHandle;
import java.util.EnumMap;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Every {@link PerCpuOperation}, generated for one {@link GeneratorConfig} and bound as
 * critical downcalls. A record, so that a {@code static final} instance's handles are
 * constants to the JIT and calls through them inline fully.
 *
 * <p>Handles take and return {@code long}; {@link #ringWrite} takes its source as a
 * {@link java.lang.foreign.MemorySegment}, heap or native ({@code critical(true)}).
 */
public record OperationSet(GeneratorConfig config,
                           MethodHandle add,
                           MethodHandle compareAndStore,
                           MethodHandle compareAndStoreRelease,
                           MethodHandle compare2AndStore,
                           MethodHandle push,
                           MethodHandle pop,
                           MethodHandle ringWrite,
                           long codeAddress) {

    /** Generates, installs and binds every operation for {@code config}. */
    public static OperationSet generate(Arch arch, AreaLocation location, GeneratorConfig config) {
        MacroAssembler a = Backends.create(arch, location);
        Map<PerCpuOperation, Label> entries = new EnumMap<>(PerCpuOperation.class);
        for (PerCpuOperation op : PerCpuOperation.values()) {
            entries.put(op, CriticalSectionGenerator.emit(a, op, config));
        }
        ExecutableMemory.Block block = ExecutableMemory.install(a.buffer());
        Linker linker = Linker.nativeLinker();
        Map<PerCpuOperation, MethodHandle> handles = new EnumMap<>(PerCpuOperation.class);
        for (PerCpuOperation op : PerCpuOperation.values()) {
            FunctionDescriptor fd;
            Linker.Option option;
            if (op == PerCpuOperation.RING_WRITE) {
                fd = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG);
                option = Linker.Option.critical(true);
            } else {
                MemoryLayout[] args = new MemoryLayout[op.args()];
                java.util.Arrays.fill(args, JAVA_LONG);
                fd = FunctionDescriptor.of(JAVA_LONG, args);
                option = Linker.Option.critical(false);
            }
            handles.put(op, linker.downcallHandle(block.entry(entries.get(op)), fd, option));
        }
        return new OperationSet(config,
                handles.get(PerCpuOperation.ADD),
                handles.get(PerCpuOperation.COMPARE_AND_STORE),
                handles.get(PerCpuOperation.COMPARE_AND_STORE_RELEASE),
                handles.get(PerCpuOperation.COMPARE2_AND_STORE),
                handles.get(PerCpuOperation.PUSH),
                handles.get(PerCpuOperation.POP),
                handles.get(PerCpuOperation.RING_WRITE),
                block.address());
    }
}
