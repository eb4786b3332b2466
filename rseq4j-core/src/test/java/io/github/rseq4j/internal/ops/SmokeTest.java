package io.github.rseq4j.internal.ops;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.internal.Platform;
import io.github.rseq4j.internal.asm.ExecutableMemory;
import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.os.Libc;
import io.github.rseq4j.internal.registration.AreaLocation;
import org.junit.jupiter.api.Test;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SmokeTest {
    @Test
    void addWorks() throws Throwable {
        Platform p = Platform.get();
        System.out.println(p);
        AreaLocation loc = new AreaLocation.ThreadPointerOffset(p.glibc().offset());
        OperationSet ops = OperationSet.generate(p.arch(), loc, new GeneratorConfig(IndexMode.CPU_ID, 20, 10, 0, 0, 0));
        long base = Libc.mmapAnonymous(4L << 20, Libc.PROT_READ | Libc.PROT_WRITE, true);
        long total = 0;
        for (int i = 0; i < 1000; i++) {
            long r = (long) ops.add().invokeExact(base, 64L, 3L);
            if (r >= 0) total += 3;
        }
        MemorySegment seg = MemorySegment.ofAddress(base).reinterpret(4L << 20);
        long sum = 0;
        for (int c = 0; c < 4; c++) sum += seg.get(ValueLayout.JAVA_LONG, ((long) c << 20) + 64);
        assertEquals(3000, total);
        assertEquals(3000, sum);
        MacroAssembler a = Backends.create(p.arch(), loc);
        Label l = AreaFieldReader.emit(a, "cpu", 4);
        ExecutableMemory.Block b = ExecutableMemory.install(a.buffer());
        MethodHandle mh = Linker.nativeLinker().downcallHandle(b.entry(l), FunctionDescriptor.of(ValueLayout.JAVA_LONG), Linker.Option.critical(false));
        System.out.println("cpu=" + (long) mh.invokeExact() + " sched=" + Libc.schedGetcpu());
    }
}
