package io.github.rseq4j.internal.arch.x86_64;

import io.github.rseq4j.internal.asm.RegistrationStubs;
import io.github.rseq4j.internal.abi.AreaSlotLayout;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.asm.CodeBuffer;
import io.github.rseq4j.internal.asm.ExecutableMemory;
import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.os.Libc;

import static io.github.rseq4j.internal.arch.x86_64.X86Reg.*;

/**
 * x86-64 code of {@link RegistrationStubs}. These are not critical sections, so they are
 * written directly against the assembler rather than as operation templates.
 *
 * <p>Register use: the callee-saved rbx, rbp, r12, r13, r14 hold the arguments across
 * calls into the C library (five pushes leave rsp 16-byte aligned at each call); system
 * calls take rax = number, rdi, rsi, rdx, r10.
 */
final class X86_64RegistrationStubs {
    private X86_64RegistrationStubs() {}

    static RegistrationStubs generate(int areaLength, long refusedArea) {
        long getspecific = Libc.functionAddress("pthread_getspecific");
        long setspecific = Libc.functionAddress("pthread_setspecific");
        int nr = Arch.X86_64.rseqSyscall();
        int sig = Arch.X86_64.signature();
        CodeBuffer buf = new CodeBuffer();
        X86_64Assembler a = new X86_64Assembler(buf);

        // ---- long register(area, len, sig, key, refused)
        Label register = new Label("register");
        a.bind(register);
        a.push(RBX); a.push(RBP); a.push(R12); a.push(R13); a.push(R14);
        a.mov(RBX, RDI); a.mov(RBP, RSI); a.mov(R12, RDX); a.mov(R13, RCX); a.mov(R14, R8);
        Label doRegister = new Label("doRegister"), refused = new Label("refused"), out = new Label("out");
        Label failed = new Label("failed");
        callC(a, getspecific, R13, null);
        a.test(RAX, RAX);
        a.jcc(X86_64Assembler.Cond.E, doRegister);
        a.cmp(RAX, R14);
        a.jcc(X86_64Assembler.Cond.E, refused);
        a.movImm(RAX, 1);
        a.jmp(out);
        a.bind(refused);
        a.movImm(RAX, 2);
        a.jmp(out);
        a.bind(doRegister);
        rseqSyscall(a, nr, 0);
        a.test(RAX, RAX);
        a.jcc(X86_64Assembler.Cond.NE, failed);
        callC(a, setspecific, R13, RBX);
        a.test(RAX, RAX);
        Label keyFailed = new Label("keyFailed");
        a.jcc(X86_64Assembler.Cond.NE, keyFailed);
        a.movImm(RAX, 0);
        a.jmp(out);
        // pthread_setspecific failed (ENOMEM): undo the registration, report -ENOMEM.
        a.bind(keyFailed);
        rseqSyscall(a, nr, RseqAbi.FLAG_UNREGISTER);
        Label stillRegistered = new Label("stillRegistered");
        a.test(RAX, RAX);
        a.jcc(X86_64Assembler.Cond.NE, stillRegistered);
        a.movImm(RAX, -12);
        a.jmp(out);
        // Could not undo it: the area stays the kernel's; tell Java never to reuse it.
        a.bind(stillRegistered);
        a.movImm(RAX, 3);
        a.jmp(out);
        // The kernel refused: remember it through the key so later attempts answer at once.
        a.bind(failed);
        a.mov(RBP, RAX);
        callC(a, setspecific, R13, R14);
        a.mov(RAX, RBP);
        a.bind(out);
        a.pop(R14); a.pop(R13); a.pop(R12); a.pop(RBP); a.pop(RBX);
        a.ret();

        // ---- long unregister(area, len, sig, key)
        Label unregister = new Label("unregister");
        buf.align(16, 0xCC);
        a.bind(unregister);
        a.push(RBX); a.push(RBP); a.push(R12); a.push(R13); a.push(R14);
        a.mov(RBX, RDI); a.mov(RBP, RSI); a.mov(R12, RDX); a.mov(R13, RCX);
        Label notOurs = new Label("notOurs"), uout = new Label("uout");
        callC(a, getspecific, R13, null);
        a.cmp(RAX, RBX);
        a.jcc(X86_64Assembler.Cond.NE, notOurs);
        rseqSyscall(a, nr, RseqAbi.FLAG_UNREGISTER);
        a.test(RAX, RAX);
        a.jcc(X86_64Assembler.Cond.NE, uout);
        a.movImm(RSI, 0);
        callC(a, setspecific, R13, null);
        a.movImm(RAX, 0);
        a.jmp(uout);
        a.bind(notOurs);
        a.movImm(RAX, -RseqAbi.EINVAL);
        a.bind(uout);
        a.pop(R14); a.pop(R13); a.pop(R12); a.pop(RBP); a.pop(RBX);
        a.ret();

        // ---- void destructor(area): no calls, so no stack alignment needed.
        Label destructor = new Label("destructor");
        buf.align(16, 0xCC);
        a.bind(destructor);
        Label dout = new Label("dout");
        a.movImm(RAX, refusedArea);
        a.cmp(RDI, RAX);
        a.jcc(X86_64Assembler.Cond.E, dout);
        a.mov(R8, RDI);
        a.movImm(RSI, areaLength);
        a.movImm(RDX, RseqAbi.FLAG_UNREGISTER);
        a.movImm(R10, sig);
        a.movImm(RAX, nr);
        a.syscall();
        a.test(RAX, RAX);
        a.jcc(X86_64Assembler.Cond.NE, dout); // still registered: never reuse this area
        a.movImm(RAX, AreaSlotLayout.STATE_FREE);
        a.store(R8, AreaSlotLayout.STATE_OFFSET, RAX); // TSO: a release store
        a.bind(dout);
        a.ret();

        ExecutableMemory.Block block = ExecutableMemory.install(X86_64Backend.INSTANCE, buf);
        return new RegistrationStubs(block.addressOf(register), block.addressOf(unregister),
                block.addressOf(destructor));
    }

    /**
     * rseq(area = rbx, len = rbp, flags, sig = r12): the result (0 or -errno) in rax;
     * clobbers rcx and r11 as every system call does.
     */
    private static void rseqSyscall(X86_64Assembler a, int nr, int flags) {
        a.mov(RDI, RBX);
        a.mov(RSI, RBP);
        a.movImm(RDX, flags);
        a.mov(R10, R12);
        a.movImm(RAX, nr);
        a.syscall();
    }

    /** Calls the C function at {@code fn} with rdi = arg0 and, unless null, rsi = arg1. */
    private static void callC(X86_64Assembler a, long fn, X86Reg arg0, X86Reg arg1) {
        a.mov(RDI, arg0);
        if (arg1 != null) {
            a.mov(RSI, arg1);
        }
        a.movImm(RAX, fn);
        a.call(RAX);
    }
}
