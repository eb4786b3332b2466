package io.github.rseq4j.internal.registration;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.arch.Backends;
import io.github.rseq4j.internal.asm.AreaLocation;
import io.github.rseq4j.internal.asm.Backend;
import io.github.rseq4j.internal.asm.ExecutableMemory;
import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.asm.MacroAssembler;
import io.github.rseq4j.internal.asm.RegistrationStubs;
import io.github.rseq4j.internal.os.Libc;
import io.github.rseq4j.internal.os.Platform;
import io.github.rseq4j.testsupport.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The registration paths the kernel rarely takes, by fault injection through the back
 * end: a register stub that reports EBUSY, and a thread-exit destructor whose
 * unregistration fails (it leaves the area as it is).
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RegistrationFaultsTest {

    /** A back end that replaces the register or the destructor stub of the real one (x86-64 or aarch64). */
    record FaultyBackend(Backend real, boolean registerSaysEbusy, boolean destructorFails) implements Backend {
        @Override
        public Arch arch() {
            return real.arch();
        }

        @Override
        public MacroAssembler newAssembler(AreaLocation location) {
            return real.newAssembler(location);
        }

        @Override
        public RegistrationStubs registrationStubs(int areaLength, long refusedArea) {
            RegistrationStubs s = real.registrationStubs(areaLength, refusedArea);
            return new RegistrationStubs(registerSaysEbusy ? returning(-RseqAbi.EBUSY) : s.register(), s.unregister(),
                    destructorFails ? returning(0) : s.destructor());
        }

        @Override
        public void flushInstructionCache(long address, long size) {
            real.flushInstructionCache(address, size);
        }

        /**
         * A generated function of the real back end's architecture that returns {@code value}
         * and does nothing else (it never looks for an area, so the location is arbitrary).
         */
        private long returning(long value) {
            MacroAssembler a = real.newAssembler(new AreaLocation.ThreadPointerOffset(0));
            Label entry = a.label("fault");
            a.bind(entry);
            a.enter(0, 0);
            a.returnImm(value);
            return ExecutableMemory.install(real, a.buffer()).addressOf(entry);
        }
    }

    private static void assumeStubsWithLibc() {
        assumeTrue(Libc.AVAILABLE && Platform.get().linux() && Backends.forArch(Arch.current()).isPresent(),
                "generates registration stubs: Linux on x86-64 or aarch64 only");
    }

    @Test
    void aRegistrationTheKernelRefusesWithEbusyIsCountedAndLeavesNoArea() {
        assumeStubsWithLibc();
        Platform p = Platform.get();
        OwnRegistrar reg = new OwnRegistrar(new FaultyBackend(Backends.require(Arch.current()), true, false),
                Math.max(p.featureSize(), RseqAbi.ORIGINAL_FEATURE_SIZE), p.rseqAlign());
        assertEquals(OwnRegistrar.Outcome.REFUSED, reg.registerCurrentThread());
        assertEquals(1, reg.refusals());
        assertEquals(RseqAbi.EBUSY, reg.lastRefusalErrno());
        assertEquals(0, reg.liveAreas(), "the area of a refused registration is released at once");
        assertEquals(OwnRegistrar.Outcome.REFUSED, reg.registerCurrentThread(), "refused again, not stuck");
        assertEquals(2, reg.refusals());
        assertEquals(0, reg.liveAreas());
    }

    /** Child (glibc's registration off): threads register with a given destructor and exit. */
    public static final class ExitChild {
        public static void main(String[] args) throws Exception {
            boolean fails = Boolean.parseBoolean(args[0]);
            Platform p = Platform.get();
            OwnRegistrar reg = new OwnRegistrar(new FaultyBackend(Backends.require(Arch.current()), false, fails),
                    p.featureSize(), p.rseqAlign());
            for (int t = 0; t < 3; t++) {
                OwnRegistrar.Outcome[] o = new OwnRegistrar.Outcome[1];
                Thread th = Thread.ofPlatform().start(() -> o[0] = reg.registerCurrentThread());
                th.join();
                ChildJvm.emit("outcome", o[0]);
                for (int k = 0; k < 100 && reg.liveAreas() > (fails ? t + 1 : 0); k++) {
                    Thread.sleep(10);   // the destructor runs as the thread's last act; let it finish
                }
                ChildJvm.emit("live", reg.liveAreas());
            }
        }
    }

    @Test
    void anAreaWhoseUnregistrationFailedAtThreadExitIsNeverReused() {
        assumeStubsWithLibc();
        assumeTrue(Platform.get().probe() == io.github.rseq4j.internal.os.KernelRseq.Probe.PRESENT, "needs kernel rseq");
        Map<String, String> noGlibcRseq = ChildJvm.env("GLIBC_TUNABLES", ChildJvm.GLIBC_RSEQ_OFF);
        ChildJvm.Result ok = ChildJvm.run(ExitChild.class, List.of(), noGlibcRseq, Duration.ofSeconds(60), "false")
                .requireSuccess();
        assertEquals(List.of("REGISTERED", "REGISTERED", "REGISTERED"), ok.values("outcome"), ok.describe());
        assertEquals(List.of("0", "0", "0"), ok.values("live"), "control: each area comes back at thread exit\n"
                + ok.describe());
        ChildJvm.Result failed = ChildJvm.run(ExitChild.class, List.of(), noGlibcRseq, Duration.ofSeconds(60), "true")
                .requireSuccess();
        assertEquals(List.of("REGISTERED", "REGISTERED", "REGISTERED"), failed.values("outcome"), failed.describe());
        assertEquals(List.of("1", "2", "3"), failed.values("live"),
                "an area whose unregistration failed stays in use for good: the next thread gets a new one\n"
                        + failed.describe());
        assertNotEquals(ok.values("live"), failed.values("live"));
    }
}
