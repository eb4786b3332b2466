package io.github.rseq4j.internal.codegen;

import io.github.rseq4j.internal.asm.AreaLocation;
import io.github.rseq4j.internal.asm.Backend;
import io.github.rseq4j.internal.asm.MacroAssembler;
import io.github.rseq4j.internal.asm.ExecutableMemory;

import io.github.rseq4j.internal.os.Rethrow;

import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Every {@link PerCpuOperation}, generated for one {@link GeneratorConfig}, installed and
 * bound as critical downcalls with one uniform Java signature.
 *
 * <p><b>Implementation notes.</b> A record whose {@code handles} list comes from
 * {@link List#of}: a {@code static final} instance's record components and the
 * immutable list's elements are constants to the JIT, so {@link #invoke} with a constant
 * operation compiles to the operation's downcall alone. Each native function is adapted
 * once, at generation, to {@code (long base, long a1..a5, MemorySegment src) -> long} with
 * {@link MethodHandles#permuteArguments} (unused arguments dropped), so that Java code
 * calls every operation the same way and adding an operation changes no Java caller.
 *
 * <p>Each operation is generated twice: with the configured attempt budget
 * ({@link #invoke}), and with a budget of one attempt ({@link #invokeOnce}) for threads
 * whose sections keep outliving their time slice (see {@code memory.AbortBudget}).
 *
 * @param config      how the operations were generated
 * @param handles     the adapted handles, indexed by {@link PerCpuOperation#ordinal()}
 * @param onceHandles the same operations with a budget of one attempt
 * @param codeAddress where the code was installed (never unmapped)
 */
public record OperationSet(GeneratorConfig config, List<MethodHandle> handles, List<MethodHandle> onceHandles,
                           long codeAddress) {

    /** The uniform Java type of every operation's handle. */
    public static final MethodType UNIFORM = MethodType.methodType(long.class,
            long.class, long.class, long.class, long.class, long.class, long.class, MemorySegment.class);

    /**
     * Checks that there is one handle per operation in both lists, and copies them.
     *
     * @param config      how the operations were generated
     * @param handles     the adapted handles, indexed by ordinal
     * @param onceHandles the one-attempt handles, indexed by ordinal
     * @param codeAddress where the code was installed
     */
    public OperationSet {
        handles = List.copyOf(handles);
        onceHandles = List.copyOf(onceHandles);
        if (handles.size() != PerCpuOperation.values().length || onceHandles.size() != handles.size()) {
            throw new IllegalArgumentException("one handle per operation expected");
        }
    }

    /**
     * Every operation of one configuration emitted into one code buffer and not installed:
     * what {@link #generate} installs, and what a check of another architecture's code
     * dumps (generation never needs the target processor).
     *
     * @param assembler the macro-assembler whose {@link MacroAssembler#buffer() buffer} holds the code
     * @param functions each operation with the configured attempt budget
     * @param once      each operation with a budget of one attempt (the same functions when
     *                  the budget is already one)
     */
    public record Emitted(MacroAssembler assembler, Map<PerCpuOperation, CriticalSectionGenerator.Function> functions,
                          Map<PerCpuOperation, CriticalSectionGenerator.Function> once) {}

    /**
     * Emits every operation for {@code config} with {@code backend}, without installing it.
     *
     * @param backend  the code generator of the target architecture (any: nothing runs)
     * @param location how the generated code finds the calling thread's rseq area
     * @param config   how to instantiate the operations
     * @return the code and each operation's labels
     */
    public static Emitted emit(Backend backend, AreaLocation location, GeneratorConfig config) {
        MacroAssembler a = backend.newAssembler(location);
        GeneratorConfig once = config.withMaxAttempts(1);
        Map<PerCpuOperation, CriticalSectionGenerator.Function> functions = new EnumMap<>(PerCpuOperation.class);
        Map<PerCpuOperation, CriticalSectionGenerator.Function> onceFunctions = new EnumMap<>(PerCpuOperation.class);
        for (PerCpuOperation op : PerCpuOperation.values()) {
            functions.put(op, CriticalSectionGenerator.emitFunction(a, op, config));
            onceFunctions.put(op, config.maxAttempts() == 1 ? functions.get(op)
                    : CriticalSectionGenerator.emitFunction(a, op, once));
        }
        return new Emitted(a, functions, onceFunctions);
    }

    /**
     * Generates, installs and binds every operation for {@code config}.
     *
     * @param backend  the code generator for this machine's architecture
     * @param location how the generated code finds the calling thread's rseq area
     * @param config   how to instantiate the operations
     * @return the bound operations, in code installed for the life of the process
     */
    public static OperationSet generate(Backend backend, AreaLocation location, GeneratorConfig config) {
        Emitted emitted = emit(backend, location, config);
        ExecutableMemory.Block block = ExecutableMemory.install(backend, emitted.assembler().buffer());
        return new OperationSet(config, bind(block, emitted.functions()), bind(block, emitted.once()), block.address());
    }

    private static List<MethodHandle> bind(ExecutableMemory.Block block,
                                           Map<PerCpuOperation, CriticalSectionGenerator.Function> functions) {
        Linker linker = Linker.nativeLinker();
        List<MethodHandle> handles = new ArrayList<>();
        for (PerCpuOperation op : PerCpuOperation.values()) {
            MethodHandle nativeHandle = linker.downcallHandle(block.entry(functions.get(op).entry()), op.descriptor(),
                    Linker.Option.critical(op.hasSource()));
            handles.add(MethodHandles.permuteArguments(nativeHandle, UNIFORM, op.uniformReorder()));
        }
        return handles;
    }

    /**
     * One attempt of {@code op}'s critical section: an {@code OpResult} code.
     * Arguments as in {@link PerCpuOperation}'s uniform signature; validated by the caller.
     *
     * @param op   the operation to run
     * @param base the base address of the per-CPU memory range (argument 0)
     * @param a1   the operation's first {@code long} argument (see its constant), or ignored
     * @param a2   its second {@code long} argument, or ignored
     * @param a3   its third {@code long} argument, or ignored
     * @param a4   its fourth {@code long} argument, or ignored
     * @param a5   its fifth {@code long} argument, or ignored
     * @param src  its source segment, for an operation that takes one; else ignored (may be null)
     * @return the operation's result: {@code >= 0} committed, else an {@code OpResult} failure
     */
    public long invoke(PerCpuOperation op, long base, long a1, long a2, long a3, long a4, long a5, MemorySegment src) {
        try {
            return (long) handles.get(op.ordinal()).invokeExact(base, a1, a2, a3, a4, a5, src);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }

    /**
     * As {@link #invoke}, with a budget of one attempt: ABORTED after the first abort.
     *
     * @param op   the operation to run
     * @param base the base address of the per-CPU memory range (argument 0)
     * @param a1   the operation's first {@code long} argument (see its constant), or ignored
     * @param a2   its second {@code long} argument, or ignored
     * @param a3   its third {@code long} argument, or ignored
     * @param a4   its fourth {@code long} argument, or ignored
     * @param a5   its fifth {@code long} argument, or ignored
     * @param src  its source segment, for an operation that takes one; else ignored (may be null)
     * @return the operation's result: {@code >= 0} committed, else an {@code OpResult} failure
     */
    public long invokeOnce(PerCpuOperation op, long base, long a1, long a2, long a3, long a4, long a5, MemorySegment src) {
        try {
            return (long) onceHandles.get(op.ordinal()).invokeExact(base, a1, a2, a3, a4, a5, src);
        } catch (Throwable t) {
            throw Rethrow.unchecked(t);
        }
    }
}
