package io.github.rseq4j.internal;

import io.github.rseq4j.internal.ops.OperationSet;

import java.lang.invoke.MethodHandle;

/**
 * Constants for hot paths: the generated functions of this process as {@code static final}
 * fields, which the JIT folds, so a per-CPU operation compiles to an inlined downcall.
 * All null in fallback mode ({@link #RSEQ} false).
 */
public final class Ops {
    private Ops() {}

    public static final RseqRuntime RUNTIME = RseqRuntime.get();
    public static final boolean RSEQ = RUNTIME.rseqMode;
    public static final OperationSet CPU_ID = RUNTIME.cpuIdOps;
    public static final OperationSet CONCURRENCY_ID = RUNTIME.concurrencyIdOps;
    public static final MethodHandle READ_CPU = RUNTIME.readCpu;
    public static final MethodHandle READ_NODE = RUNTIME.readNode;
    public static final MethodHandle READ_MM_CID = RUNTIME.readMmCid;
    public static final MethodHandle READ_AREA = RUNTIME.readArea;

    /** Turns a Throwable from invokeExact into an unchecked one. */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
