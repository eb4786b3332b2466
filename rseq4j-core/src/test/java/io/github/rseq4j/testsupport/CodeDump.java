package io.github.rseq4j.testsupport;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.abi.SliceLayout;
import io.github.rseq4j.internal.arch.Backends;
import io.github.rseq4j.internal.arch.aarch64.Aarch64CacheFlush;
import io.github.rseq4j.internal.arch.aarch64.Aarch64RegistrationStubs;
import io.github.rseq4j.internal.asm.AreaLocation;
import io.github.rseq4j.internal.asm.Backend;
import io.github.rseq4j.internal.asm.CodeBuffer;
import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.codegen.CriticalSectionGenerator;
import io.github.rseq4j.internal.codegen.GeneratorConfig;
import io.github.rseq4j.internal.codegen.OperationSet;
import io.github.rseq4j.internal.codegen.PerCpuOperation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Test support, not library API: generates every {@link PerCpuOperation} for a given
 * architecture (any: generation never needs the target processor) and writes the linked
 * code and a description of it, for a harness that runs it elsewhere ({@code dev/aarch64-check}
 * runs aarch64 code under a full-system emulator).
 *
 * <pre>
 * java -cp rseq4j-core/target/classes:rseq4j-core/target/test-classes io.github.rseq4j.testsupport.CodeDump \
 *     --arch aarch64 --index cpu_id|mm_cid --location tp:OFFSET|key:KEY:GETSPECIFIC \
 *     [--delay-point 0-3] [--delay-loops N] [--max-attempts N] [--slices N] \
 *     [--load HEX] [--abort-counter HEX] [--setspecific HEX] [--refused HEX] \
 *     --out DIR --name NAME
 * </pre>
 *
 * Writes {@code NAME.bin}, the code linked to run at {@code --load} (default
 * 0x4000000000), and {@code NAME.txt}, one fact a line:
 * <pre>
 * arch aarch64
 * load 0x4000000000
 * size 12345
 * index cpu_id
 * location tp -32                      (or: location key 0 0x412345)
 * delay_point 2
 * delay_loops 500
 * max_attempts 8
 * slices 2
 * stride_shift 20
 * abort_counter 0x4000100000
 * op ADD entry 0x0 descriptor 0x1e0 start 0x14 post_commit 0x60 abort 0x90 once 0x200
 * ...                                  (one line per operation, offsets from load)
 * flush 0x3000                         (aarch64: void flush(address, size))
 * stubs register 0x3100 unregister 0x3200 destructor 0x3300   (when --setspecific is given)
 * end
 * </pre>
 */
public final class CodeDump {
    private CodeDump() {}

    public static void main(String[] argv) throws IOException {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < argv.length; i++) {
            if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
                throw new IllegalArgumentException("expected --option value at " + argv[i]);
            }
            o.put(argv[i].substring(2), argv[++i]);
        }
        Arch arch = switch (o.getOrDefault("arch", "aarch64")) {
            case "aarch64" -> Arch.AARCH64;
            case "x86_64" -> Arch.X86_64;
            default -> throw new IllegalArgumentException("arch: aarch64 or x86_64");
        };
        IndexField index = IndexField.valueOf(o.getOrDefault("index", "cpu_id").toUpperCase(Locale.ROOT));
        String[] loc = o.getOrDefault("location", "tp:0").split(":");
        AreaLocation location = switch (loc[0]) {
            case "tp" -> new AreaLocation.ThreadPointerOffset(Long.decode(loc[1]));
            case "key" -> new AreaLocation.PthreadKey(Integer.decode(loc[1]), Long.decode(loc[2]));
            default -> throw new IllegalArgumentException("location: tp:OFFSET or key:KEY:GETSPECIFIC");
        };
        int delayPoint = Integer.parseInt(o.getOrDefault("delay-point", "0"));
        long delayLoops = Long.decode(o.getOrDefault("delay-loops", "0"));
        int maxAttempts = Integer.parseInt(o.getOrDefault("max-attempts", "8"));
        int slices = Integer.parseInt(o.getOrDefault("slices", "2"));
        long load = Long.decode(o.getOrDefault("load", "0x4000000000"));
        long abortCounter = Long.decode(o.getOrDefault("abort-counter", "0"));
        Path out = Path.of(o.getOrDefault("out", "."));
        String name = o.getOrDefault("name", "code");

        Backend backend = Backends.require(arch);
        GeneratorConfig cfg = new GeneratorConfig(index, SliceLayout.STRIDE_SHIFT, maxAttempts, delayPoint, delayLoops,
                abortCounter, slices);
        OperationSet.Emitted emitted = OperationSet.emit(backend, location, cfg);
        CodeBuffer buf = emitted.assembler().buffer();

        StringBuilder txt = new StringBuilder();
        txt.append("arch ").append(arch.displayName()).append('\n');
        txt.append("load 0x").append(Long.toHexString(load)).append('\n');
        int sizeLine = txt.length();
        txt.append("index ").append(index.name().toLowerCase(Locale.ROOT)).append('\n');
        switch (location) {
            case AreaLocation.ThreadPointerOffset(long offset) -> txt.append("location tp ").append(offset).append('\n');
            case AreaLocation.PthreadKey(int key, long fn) ->
                    txt.append("location key ").append(key).append(" 0x").append(Long.toHexString(fn)).append('\n');
        }
        txt.append("delay_point ").append(delayPoint).append('\n');
        txt.append("delay_loops ").append(delayLoops).append('\n');
        txt.append("max_attempts ").append(maxAttempts).append('\n');
        txt.append("slices ").append(slices).append('\n');
        txt.append("stride_shift ").append(SliceLayout.STRIDE_SHIFT).append('\n');
        txt.append("abort_counter 0x").append(Long.toHexString(abortCounter)).append('\n');
        for (PerCpuOperation op : PerCpuOperation.values()) {
            CriticalSectionGenerator.Function f = emitted.functions().get(op);
            txt.append("op ").append(op.name())
               .append(" entry ").append(hex(f.entry()))
               .append(" descriptor ").append(hex(f.descriptor()))
               .append(" start ").append(hex(f.start()))
               .append(" post_commit ").append(hex(f.postCommit()))
               .append(" abort ").append(hex(f.abort()))
               .append(" once ").append(hex(emitted.once().get(op).entry()))
               .append('\n');
        }
        if (arch == Arch.AARCH64) {
            buf.align(16, 0);
            Label flush = Aarch64CacheFlush.emit(buf);
            txt.append("flush ").append(hex(flush)).append('\n');
            if (o.containsKey("setspecific") && location instanceof AreaLocation.PthreadKey(int key, long getspecific)) {
                buf.align(16, 0);
                Aarch64RegistrationStubs.Entries stubs = Aarch64RegistrationStubs.emit(buf, getspecific,
                        Long.decode(o.get("setspecific")), 32, Long.decode(o.getOrDefault("refused", "0")));
                txt.append("stubs register ").append(hex(stubs.register()))
                   .append(" unregister ").append(hex(stubs.unregister()))
                   .append(" destructor ").append(hex(stubs.destructor())).append('\n');
            }
        }
        txt.append("end\n");
        byte[] code = buf.link(load);
        txt.insert(sizeLine, "size " + code.length + "\n");
        Files.createDirectories(out);
        Files.write(out.resolve(name + ".bin"), code);
        Files.writeString(out.resolve(name + ".txt"), txt);
        System.out.println("CodeDump " + name + ": " + arch.displayName() + " " + index.name().toLowerCase(Locale.ROOT)
                + " " + location + " delay " + delayPoint + "x" + delayLoops + ", " + code.length + " bytes, "
                + PerCpuOperation.values().length + " operations");
    }

    private static String hex(Label l) {
        return "0x" + Integer.toHexString(l.position());
    }
}
