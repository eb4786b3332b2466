package io.github.rseq4j.internal.runtime;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.codegen.AreaReaders;
import io.github.rseq4j.internal.codegen.OperationSet;
import io.github.rseq4j.internal.os.Platform;

import java.lang.System.Logger.Level;
import java.util.Properties;

/**
 * The one static-final bridge from the runtime to hot paths: the process's
 * {@link RseqRuntime} and, as {@code static final} fields the JIT folds, the generated
 * functions, so a per-CPU operation compiles to an inlined downcall. Holds values only;
 * everything else is asked of {@link #RUNTIME} through its methods.
 */
public final class JitConstants {
    private JitConstants() {}

    /** The process's runtime, built on first use of rseq4j. */
    public static final RseqRuntime RUNTIME = start();
    /** The process's context: what the memory and structures layers are built with. */
    public static final RuntimeContext CONTEXT = RUNTIME.context();
    /** Whether operations run as rseq critical sections. */
    public static final boolean RSEQ = RUNTIME.rseqMode();
    /** Operations on cpu_id-indexed memory, or null in portable mode. */
    public static final OperationSet CPU_ID = RUNTIME.operations(IndexField.CPU_ID);
    /** Operations on mm_cid-indexed memory, or null (portable mode, or no mm_cid). */
    public static final OperationSet MM_CID = RUNTIME.operations(IndexField.MM_CID);
    /** The area readers, or null in portable mode. */
    public static final AreaReaders READERS = RUNTIME.readers();

    private static RseqRuntime start() {
        Properties props = System.getProperties();
        Settings settings = Settings.from(props);
        RseqRuntime rt = new RseqRuntime(Platform.get(), settings);
        System.Logger log = System.getLogger("io.github.rseq4j");
        for (String problem : settings.problems()) {
            log.log(Level.WARNING, problem);
        }
        if (!rt.rseqMode()) {
            // Asked for: a debug note; chosen by the machine: say so once.
            Level level = settings.mode() == Settings.Mode.PORTABLE ? Level.DEBUG : Level.INFO;
            log.log(level, "rseq4j runs in portable mode: " + rt.modeReason());
        }
        return rt;
    }
}
