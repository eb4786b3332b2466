package io.github.rseq4j.internal.arch.aarch64;

import io.github.rseq4j.internal.abi.AreaSlotLayout;
import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.arch.aarch64.Aarch64Assembler.Cond;
import io.github.rseq4j.internal.arch.aarch64.Aarch64Assembler.PairMode;
import io.github.rseq4j.internal.asm.CodeBuffer;
import io.github.rseq4j.internal.asm.ExecutableMemory;
import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.asm.RegistrationStubs;
import io.github.rseq4j.internal.os.Libc;

import static io.github.rseq4j.internal.arch.aarch64.Aarch64Reg.*;

/**
 * aarch64 code of {@link RegistrationStubs}, written directly against the encoder (these
 * are plain functions, not critical sections); the same logic as the x86-64 stubs.
 *
 * <p>Register use (AAPCS64): each function that calls into the C library opens a 64-byte
 * frame with the frame record (x29, x30) at its bottom and saves x19..x23, which hold its
 * arguments across the calls; C functions are called with {@code blr x16}. An {@code int}
 * result of C ({@code pthread_setspecific}) is tested on w0 only: the upper half of x0 is
 * unspecified. System calls: x8 = number, x0..x3 = arguments, {@code svc #0}, x0 = result
 * (0 or -errno, a full 64-bit value).
 */
public final class Aarch64RegistrationStubs {
    private Aarch64RegistrationStubs() {}

    /** The three entry points of stubs emitted into a buffer. */
    public record Entries(Label register, Label unregister, Label destructor) {}

    static RegistrationStubs generate(int areaLength, long refusedArea) {
        CodeBuffer buf = new CodeBuffer();
        Entries e = emit(buf, Libc.functionAddress("pthread_getspecific"), Libc.functionAddress("pthread_setspecific"),
                areaLength, refusedArea);
        ExecutableMemory.Block block = ExecutableMemory.install(Aarch64Backend.INSTANCE, buf);
        return new RegistrationStubs(block.addressOf(e.register()), block.addressOf(e.unregister()),
                block.addressOf(e.destructor()));
    }

    /**
     * Emits the three functions into {@code buf}, calling the C library at the given
     * addresses (the emulator check passes those of its static test program).
     */
    public static Entries emit(CodeBuffer buf, long getspecific, long setspecific, int areaLength, long refusedArea) {
        Aarch64Assembler a = new Aarch64Assembler(buf);
        int nr = Arch.AARCH64.rseqSyscall();
        long sig = Arch.AARCH64.signature() & 0xFFFFFFFFL;

        // ---- long register(area = x0, len = x1, sig = x2, key = x3, refused = x4)
        Label register = new Label("register");
        a.bind(register);
        open(a);
        a.mov(X19, X0); a.mov(X20, X1); a.mov(X21, X2); a.mov(X22, X3); a.mov(X23, X4);
        Label doRegister = new Label("doRegister"), refused = new Label("refused"), out = new Label("out");
        Label failed = new Label("failed"), keyFailed = new Label("keyFailed"), stillRegistered = new Label("stillRegistered");
        callC(a, getspecific, X22, null);
        a.cbz(X0, doRegister);
        a.cmp(X0, X23);
        a.bcond(Cond.EQ, refused);
        a.movImm(X0, 1);
        a.b(out);
        a.bind(refused);
        a.movImm(X0, 2);
        a.b(out);
        a.bind(doRegister);
        rseqSyscall(a, nr, 0);
        a.cbnz(X0, failed);
        callC(a, setspecific, X22, X19);
        a.cbnz32(X0, keyFailed);
        a.movImm(X0, 0);
        a.b(out);
        // pthread_setspecific failed (ENOMEM): undo the registration, report -ENOMEM.
        a.bind(keyFailed);
        rseqSyscall(a, nr, RseqAbi.FLAG_UNREGISTER);
        a.cbnz(X0, stillRegistered);
        a.movImm(X0, -12);
        a.b(out);
        // Could not undo it: the area stays the kernel's; tell Java never to reuse it.
        a.bind(stillRegistered);
        a.movImm(X0, 3);
        a.b(out);
        // The kernel refused: remember it through the key so later attempts answer at once.
        a.bind(failed);
        a.mov(X20, X0);
        callC(a, setspecific, X22, X23);
        a.mov(X0, X20);
        a.bind(out);
        close(a);

        // ---- long unregister(area = x0, len = x1, sig = x2, key = x3)
        Label unregister = new Label("unregister");
        a.bind(unregister);
        open(a);
        a.mov(X19, X0); a.mov(X20, X1); a.mov(X21, X2); a.mov(X22, X3);
        Label notOurs = new Label("notOurs"), uout = new Label("uout");
        callC(a, getspecific, X22, null);
        a.cmp(X0, X19);
        a.bcond(Cond.NE, notOurs);
        rseqSyscall(a, nr, RseqAbi.FLAG_UNREGISTER);
        a.cbnz(X0, uout);
        a.mov(X0, X22);
        a.movImm(X1, 0);
        a.movImm(X16, setspecific);
        a.blr(X16);
        a.movImm(X0, 0);
        a.b(uout);
        a.bind(notOurs);
        a.movImm(X0, -RseqAbi.EINVAL);
        a.bind(uout);
        close(a);

        // ---- void destructor(area = x0): a leaf, no frame needed.
        Label destructor = new Label("destructor");
        a.bind(destructor);
        Label dout = new Label("dout");
        a.movImm(X16, refusedArea);
        a.cmp(X0, X16);
        a.bcond(Cond.EQ, dout);
        a.mov(X9, X0);
        a.movImm(X1, areaLength);
        a.movImm(X2, RseqAbi.FLAG_UNREGISTER);
        a.movImm(X3, sig);
        a.movImm(X8, nr);
        a.svc0();
        a.cbnz(X0, dout); // still registered: never reuse this area
        a.movImm(X16, AreaSlotLayout.STATE_FREE);
        a.addImm(X17, X9, AreaSlotLayout.STATE_OFFSET, false);
        a.stlr(X16, X17);
        a.bind(dout);
        a.ret();
        return new Entries(register, unregister, destructor);
    }

    /** Frame: x29/x30 at sp, x19..x23 above; 64 bytes, 16-byte aligned. */
    private static void open(Aarch64Assembler a) {
        a.stp(X29, X30, SP, -64, PairMode.PRE_INDEX);
        a.mov(X29, SP);
        a.stp(X19, X20, SP, 16, PairMode.OFFSET);
        a.stp(X21, X22, SP, 32, PairMode.OFFSET);
        a.str(X23, SP, 48);
    }

    private static void close(Aarch64Assembler a) {
        a.ldr(X23, SP, 48);
        a.ldp(X21, X22, SP, 32, PairMode.OFFSET);
        a.ldp(X19, X20, SP, 16, PairMode.OFFSET);
        a.ldp(X29, X30, SP, 64, PairMode.POST_INDEX);
        a.ret();
    }

    /** rseq(area = x19, len = x20, flags, sig = x21): the result (0 or -errno) in x0. */
    private static void rseqSyscall(Aarch64Assembler a, int nr, int flags) {
        a.mov(X0, X19);
        a.mov(X1, X20);
        a.movImm(X2, flags);
        a.mov(X3, X21);
        a.movImm(X8, nr);
        a.svc0();
    }

    /** Calls the C function at {@code fn} with x0 = arg0 and, unless null, x1 = arg1. */
    private static void callC(Aarch64Assembler a, long fn, Aarch64Reg arg0, Aarch64Reg arg1) {
        a.mov(X0, arg0);
        if (arg1 != null) {
            a.mov(X1, arg1);
        }
        a.movImm(X16, fn);
        a.blr(X16);
    }
}
