package io.github.rseq4j.internal.codegen;

import io.github.rseq4j.internal.asm.Cond;
import io.github.rseq4j.internal.asm.MacroAssembler;
import io.github.rseq4j.internal.asm.Reg;

import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.asm.Label;

/**
 * Emits a function {@code int read()} that returns one 32-bit field of the calling
 * thread's rseq area, or -1 when the thread is not registered. Reading happens inside
 * the native call, so the value belongs to the OS thread that ran it (for a virtual
 * thread: the carrier it was mounted on during the call).
 */
public final class AreaFieldReader {
    private AreaFieldReader() {}

    /**
     * Emits {@code int read()} returning the 32-bit field at {@code fieldOffset} of the
     * calling thread's area, or -1 when the thread is not registered.
     *
     * @param a           the assembler to emit into
     * @param name        the function's label name (diagnostics only)
     * @param fieldOffset the byte offset of the field in {@code struct rseq}
     * @return the label of the function's entry
     */
    public static Label emit(MacroAssembler a, String name, int fieldOffset) {
        Label entry = a.label(name);
        a.bind(entry);
        a.enter(0, 2);
        Reg area = a.temp(0);
        Reg v = a.temp(1);
        Label none = a.label("none");
        a.locateArea(area, none);
        a.loadInt32(v, area, RseqAbi.CPU_ID);
        a.branchImm(Cond.LT, v, 0, none);
        if (fieldOffset != RseqAbi.CPU_ID) {
            a.loadInt32(v, area, fieldOffset);
        }
        a.returnReg(v);
        a.bind(none);
        a.returnImm(-1);
        return entry;
    }

    /**
     * Emits {@code long read()} returning the calling thread's area address, or 0 when it has none.
     *
     * @param a    the assembler to emit into
     * @param name the function's label name (diagnostics only)
     * @return the label of the function's entry
     */
    public static Label emitAreaAddress(MacroAssembler a, String name) {
        Label entry = a.label(name);
        a.bind(entry);
        a.enter(0, 1);
        Reg area = a.temp(0);
        Label none = a.label("none");
        a.locateArea(area, none);
        a.returnReg(area);
        a.bind(none);
        a.returnImm(0);
        return entry;
    }
}
