package io.github.rseq4j.internal.arch.aarch64;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.abi.SliceLayout;
import io.github.rseq4j.internal.arch.Backends;
import io.github.rseq4j.internal.asm.AreaLocation;
import io.github.rseq4j.internal.asm.CodeBuffer;
import io.github.rseq4j.internal.codegen.AreaFieldReader;
import io.github.rseq4j.internal.codegen.CriticalSectionGenerator;
import io.github.rseq4j.internal.codegen.GeneratorConfig;
import io.github.rseq4j.internal.codegen.OperationSet;
import io.github.rseq4j.internal.codegen.PerCpuOperation;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Generates every operation for aarch64 on whatever host runs the tests (no installing)
 * and checks the rseq rules on the words: the descriptor, the signature before each abort
 * handler, the arming store just before the section, the index loaded first inside it,
 * the owner word read with {@code ldar} before any other load of the slice, the commit
 * as its last instruction ({@code stlr} for release operations). Running the
 * code is {@code dev/aarch64-check}'s job (a full-system emulator).
 */
class Aarch64GenerationTest {

    private static final long LOAD = 0x40_0000_0000L;

    private static final List<AreaLocation> LOCATIONS = List.of(
            new AreaLocation.ThreadPointerOffset(-32),
            new AreaLocation.ThreadPointerOffset(0x12345),
            new AreaLocation.PthreadKey(3, 0x41_2340L));

    private static final Set<PerCpuOperation> RELEASE = Set.of(
            PerCpuOperation.COMPARE_AND_STORE_RELEASE, PerCpuOperation.PUSH, PerCpuOperation.BOUNDED_PUSH,
            PerCpuOperation.RING_WRITE, PerCpuOperation.LOG_APPEND,
            PerCpuOperation.LOG_APPEND_PAIR, PerCpuOperation.COMPARE_INDEX_AND_STORE);

    private static int word(byte[] code, int at) {
        return ByteBuffer.wrap(code, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private static long dword(byte[] code, int at) {
        return ByteBuffer.wrap(code, at, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static boolean isStore64(int w) {
        return (w & 0xFFC00000) == 0xF9000000          // str  xt, [xn, #uimm]
            || (w & 0xFFE00C00) == 0xF8000000          // stur xt, [xn, #simm]
            || (w & 0xFFE0FC00) == 0xF8206800;         // str  xt, [xn, xm]
    }

    private static boolean isLoad64(int w) {
        return (w & 0xFFC00000) == 0xF9400000          // ldr  xt, [xn, #uimm]
            || (w & 0xFFE00C00) == 0xF8400000          // ldur xt, [xn, #simm]
            || (w & 0xFFE0FC00) == 0xF8606800;         // ldr  xt, [xn, xm]
    }

    private static boolean isLdar(int w) {
        return (w & 0xFFFFFC00) == 0xC8DFFC00;
    }

    private static boolean isStlr(int w) {
        return (w & 0xFFFFFC00) == 0xC89FFC00;
    }

    @Test
    void theBackendIsRegisteredForAarch64() {
        assertSame(Aarch64Backend.INSTANCE, Backends.require(Arch.AARCH64));
        assertEquals(Arch.AARCH64, Aarch64Backend.INSTANCE.arch());
        assertEquals(0xD428BC00, Arch.AARCH64.signature());
    }

    @Test
    void everyOperationFollowsTheRseqRules() {
        for (IndexField index : IndexField.values()) {
            for (AreaLocation location : LOCATIONS) {
                for (int delayPoint = 0; delayPoint <= GeneratorConfig.DELAY_POINTS; delayPoint++) {
                    GeneratorConfig cfg = new GeneratorConfig(index, SliceLayout.STRIDE_SHIFT, 8, delayPoint,
                            delayPoint == 0 ? 0 : 70_000, 0x40_0010_0000L, 4);
                    OperationSet.Emitted e = OperationSet.emit(Aarch64Backend.INSTANCE, location, cfg);
                    byte[] code = e.assembler().buffer().link(LOAD);
                    assertEquals(0, code.length % 4);
                    for (var entry : e.functions().entrySet()) {
                        check(entry.getKey(), entry.getValue(), code, index + " " + location + " delay " + delayPoint);
                    }
                    for (var entry : e.once().entrySet()) {
                        check(entry.getKey(), entry.getValue(), code, "once " + index + " " + location);
                    }
                }
            }
        }
    }

    private static void check(PerCpuOperation op, CriticalSectionGenerator.Function f, byte[] code, String what) {
        String w = op + " (" + what + ")";
        int d = f.descriptor().position();
        int start = f.start().position();
        int post = f.postCommit().position();
        int abort = f.abort().position();
        assertEquals(0, d % RseqAbi.CS_SIZE, w + ": descriptor alignment");
        assertEquals(0, word(code, d + RseqAbi.CS_VERSION), w + ": version");
        assertEquals(0, word(code, d + RseqAbi.CS_FLAGS), w + ": flags");
        assertEquals(LOAD + start, dword(code, d + RseqAbi.CS_START_IP), w + ": start_ip");
        assertEquals(post - start, dword(code, d + RseqAbi.CS_POST_COMMIT_OFFSET), w + ": post_commit_offset");
        assertEquals(LOAD + abort, dword(code, d + RseqAbi.CS_ABORT_IP), w + ": abort_ip");
        assertEquals(Arch.AARCH64.signature(), word(code, abort - 4), w + ": signature before the abort handler");
        assertTrue(abort > post && abort < d, w + ": the abort handler lies outside the section");
        // Arming: "str xs, [area, #8]" is the last instruction before the section starts.
        int arm = word(code, start - 4);
        assertEquals(0xF9000000 | (RseqAbi.RSEQ_CS / 8) << 10, arm & 0xFFFFFC00, w + ": rseq_cs store before start");
        // Inside: cpu_id is the first thing loaded (ldrsw xt, [area, #4]).
        int first = word(code, start);
        assertEquals(0xB9800000 | (RseqAbi.CPU_ID / 4) << 10, first & 0xFFFFFC00, w + ": cpu_id load first");
        // The commit is the section's last instruction; release operations use stlr.
        int commit = word(code, post - 4);
        if (RELEASE.contains(op)) {
            assertTrue(isStlr(commit), w + ": stlr commit, got " + Integer.toHexString(commit));
        } else {
            assertTrue(isStore64(commit), w + ": str commit, got " + Integer.toHexString(commit));
        }
        // The owner word is read with ldar before any other 64-bit load inside: without the
        // acquire, a load of the slice could be satisfied before it and see a stopper's
        // writes only partly although the stopped word already reads the restart's 0.
        int ldars = 0;
        // No store-release or exclusive/atomic access inside apart from the commit, and no
        // use of the platform register x18 anywhere in the function.
        for (int at = start; at < post - 4; at += 4) {
            int insn = word(code, at);
            ldars += isLdar(insn) ? 1 : 0;
            assertFalse(ldars == 0 && isLoad64(insn), w + ": a load before the owner word's ldar at " + at);
            assertFalse(isStlr(insn), w + ": stlr before the commit at " + at);
            assertFalse(!isLdar(insn) && (insn & 0x3F000000) == 0x08000000, w + ": exclusive access inside the section at " + at);
        }
        assertEquals(1, ldars, w + ": one ldar (the stopped word) inside the section");
        int entry = f.entry().position();
        for (int at = entry; at < d; at += 4) {
            int insn = word(code, at);
            if (at == abort - 4) {
                continue;
            }
            assertFalse((insn & 0x1F) == 18 && (insn & 0xFC000000) != 0x14000000 && insn != 0,
                    w + ": x18 written at " + at + ": " + Integer.toHexString(insn));
        }
    }

    @Test
    void readersGenerateForBothLocations() {
        for (AreaLocation location : LOCATIONS) {
            var a = Aarch64Backend.INSTANCE.newAssembler(location);
            AreaFieldReader.emit(a, "cpu", RseqAbi.CPU_ID);
            AreaFieldReader.emit(a, "cid", RseqAbi.MM_CID);
            AreaFieldReader.emitAreaAddress(a, "area");
            assertTrue(a.buffer().link(LOAD).length > 0);
        }
    }

    @Test
    void stubsAndFlushRoutineGenerate() {
        CodeBuffer buf = new CodeBuffer();
        var e = Aarch64RegistrationStubs.emit(buf, 0x41_0000L, 0x41_0100L, 32, 0x7000_0000L);
        var flush = Aarch64CacheFlush.emit(buf);
        byte[] code = buf.link(LOAD);
        assertTrue(e.register().position() < e.unregister().position());
        assertTrue(e.unregister().position() < e.destructor().position());
        assertTrue(flush.position() > e.destructor().position());
        assertEquals(0xD65F03C0, word(code, code.length - 4), "flush ends with ret");
    }

    @Test
    void installingAarch64CodeOnAnotherArchitectureIsRefused() {
        if (Arch.current() != Arch.AARCH64) {
            assertThrows(IllegalStateException.class, () -> Aarch64Backend.INSTANCE.flushInstructionCache(0, 0));
        }
    }
}
