package io.github.rseq4j.internal.runtime;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.codegen.OperationSet;
import io.github.rseq4j.internal.os.Fences;
import io.github.rseq4j.internal.registration.ThreadRegistrations;

/**
 * What the memory and structures layers get from the composition root instead of reading
 * process-wide globals: the generated operations for each index field, the fences, the
 * fallback statistics and the thread registrations. {@link RseqRuntime#context()} builds the
 * process's; {@link #withOperations} derives one that runs another operation set (the stress
 * harness's, with delay loops) for every structure built with it.
 *
 * <p>Implementation notes. A record, so that the process's context held in a
 * {@code static final} ({@link JitConstants#CONTEXT}) and its components are constants to
 * the JIT: code that reaches the operations through it inlines the downcall.
 *
 * @param cpuId         operations for cpu_id-indexed memory, or null (portable mode)
 * @param mmCid         operations for mm_cid-indexed memory, or null (portable mode, or no mm_cid)
 * @param fences        the cross-CPU fences of the stop protocol
 * @param stats         where operations that leave the fast path are counted
 * @param registrations the per-thread registration bookkeeping
 */
public record RuntimeContext(OperationSet cpuId, OperationSet mmCid, Fences fences, FallbackStats stats,
                             ThreadRegistrations registrations) {

    /**
     * Checks that every collaborator is there.
     *
     * @param cpuId         operations for cpu_id-indexed memory, or null
     * @param mmCid         operations for mm_cid-indexed memory, or null
     * @param fences        the fences, not null
     * @param stats         the fallback statistics, not null
     * @param registrations the registrations, not null
     */
    public RuntimeContext {
        if (fences == null || stats == null || registrations == null) {
            throw new NullPointerException("fences, stats and registrations are required");
        }
    }

    /**
     * This context with {@code set} for memory of its index field and no generated
     * operations for the other (such memory takes the stop-and-fence path).
     *
     * @param set generated operations, for instance with delay loops
     * @return a context that runs {@code set}
     */
    public RuntimeContext withOperations(OperationSet set) {
        return set.config().indexField() == IndexField.CPU_ID
                ? new RuntimeContext(set, null, fences, stats, registrations)
                : new RuntimeContext(null, set, fences, stats, registrations);
    }

    /**
     * The operations for an index field.
     *
     * @param field which rseq field selects the slice
     * @return the generated operations for that field, or null
     */
    public OperationSet operations(IndexField field) {
        return field == IndexField.CPU_ID ? cpuId : mmCid;
    }
}
