package io.github.rseq4j.internal.arch.x86_64;

import io.github.rseq4j.internal.arch.x86_64.X86_64Assembler.Cond;
import io.github.rseq4j.internal.asm.CodeBuffer;
import io.github.rseq4j.internal.asm.Label;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Checks {@link X86_64Assembler} against GNU {@code as}: every case is emitted into a fresh
 * {@link CodeBuffer} (linked at 0) and written, in Intel syntax, into one assembly file;
 * {@code as --64 -O0} assembles the whole batch once, and each case's bytes are located
 * through a table of {@code (start, end)} offsets that the assembler itself computes into
 * {@code .data}. One dynamic test per instruction family reports every mismatching case
 * with both byte strings. Skipped (not passed) when binutils is not installed.
 *
 * <p>The pure-Java tests at the end need no external tool.
 */
class X86_64AssemblerTest {

    private static final X86Reg[] ALL = X86Reg.values();

    /** Base/index registers whose encodings are special (SIB, forced disp8, REX.B/X). */
    private static final X86Reg[] TRICKY = {
        X86Reg.RAX, X86Reg.RSP, X86Reg.RBP, X86Reg.RSI, X86Reg.R8, X86Reg.R12, X86Reg.R13, X86Reg.R15
    };

    /** Index registers: anything but rsp (r12 is a valid index). */
    private static final X86Reg[] INDEXES = {
        X86Reg.RAX, X86Reg.RBX, X86Reg.RBP, X86Reg.RDI, X86Reg.R8, X86Reg.R12, X86Reg.R13, X86Reg.R15
    };

    /** Displacements: none, disp8 edges, disp32 edges, negative and large. */
    private static final int[] DISPS = {
        0, 1, 8, 127, -1, -128, 128, -129, 0x1234, -0x1234, 0x12345678, Integer.MAX_VALUE, Integer.MIN_VALUE
    };

    private static final int[] SHORT_DISPS = {0, 8, -128, 128, -129, Integer.MIN_VALUE};

    /** imm8 edges, imm32 edges (0x1234 etc. exercise the rax short form). */
    private static final long[] IMM32S = {
        0, 1, -1, 127, -128, 128, -129, 0x1234, -0x1234, Integer.MAX_VALUE, Integer.MIN_VALUE
    };

    private static final long[] IMM64S = {
        0, 1, -1, 127, -129, Integer.MAX_VALUE, Integer.MIN_VALUE,
        0x80000000L, 0xFFFFFFFFL, -0x80000001L, 0x123456789ABCDEFL, Long.MAX_VALUE, Long.MIN_VALUE
    };

    private static final String[] NAMES32 = {
        "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
        "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"
    };

    private static final String[] NAMES8 = {
        "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
        "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"
    };

    // ---------------------------------------------------------------- cases

    /**
     * One comparison: {@code emit} drives the assembler; {@code gas} is the same code in GNU
     * as Intel syntax (one or more lines), where {@code %L} stands for a label prefix unique
     * to the case.
     */
    private record Case(String group, String gas, Consumer<X86_64Assembler> emit) {}

    private static final class Cases {
        final List<Case> list = new ArrayList<>();

        void add(String group, String gas, Consumer<X86_64Assembler> emit) {
            list.add(new Case(group, gas, emit));
        }
    }

    private static String r64(X86Reg r) {
        return r.gasName();
    }

    private static String r32(X86Reg r) {
        return NAMES32[r.code()];
    }

    private static String r8(X86Reg r) {
        return NAMES8[r.code()];
    }

    private static String signed(long v) {
        return v < 0 ? " - " + (v == Long.MIN_VALUE ? "9223372036854775808" : Long.toString(-v)) : " + " + v;
    }

    /** {@code [base + index*1 + disp]}, leaving out the parts that are absent or zero. */
    private static String mem(X86Reg base, X86Reg index, int disp) {
        StringBuilder sb = new StringBuilder("[").append(r64(base));
        if (index != null) {
            sb.append(" + ").append(r64(index)).append("*1");
        }
        if (disp != 0) {
            sb.append(signed(disp));
        }
        return sb.append(']').toString();
    }

    private static String cc(Cond c) {
        return "j" + c.name().toLowerCase(Locale.ROOT);
    }

    private static List<Case> allCases() {
        Cases c = new Cases();

        // ------------------------------------------------ moves
        for (X86Reg d : ALL) {
            for (X86Reg s : ALL) {
                c.add("mov", "mov " + r64(d) + ", " + r64(s), a -> a.mov(d, s));
            }
        }
        for (X86Reg d : ALL) {
            for (long imm : IMM64S) {
                c.add("movImm", "mov " + r64(d) + ", " + imm, a -> a.movImm(d, imm));
            }
        }
        for (X86Reg d : ALL) {
            for (X86Reg b : ALL) {
                for (int disp : DISPS) {
                    c.add("load", "mov " + r64(d) + ", qword ptr " + mem(b, null, disp), a -> a.load(d, b, disp));
                    c.add("store", "mov qword ptr " + mem(b, null, disp) + ", " + r64(d), a -> a.store(b, disp, d));
                }
            }
        }
        for (X86Reg d : TRICKY) {
            for (X86Reg b : ALL) {
                for (X86Reg i : INDEXES) {
                    for (int disp : SHORT_DISPS) {
                        c.add("load indexed", "mov " + r64(d) + ", qword ptr " + mem(b, i, disp),
                              a -> a.load(d, b, i, disp));
                        c.add("store indexed", "mov qword ptr " + mem(b, i, disp) + ", " + r64(d),
                              a -> a.store(b, i, disp, d));
                    }
                }
            }
        }
        for (X86Reg d : ALL) {
            for (X86Reg b : ALL) {
                for (int disp : DISPS) {
                    c.add("loadInt32SignExtend", "movsxd " + r64(d) + ", dword ptr " + mem(b, null, disp),
                          a -> a.loadInt32SignExtend(d, b, disp));
                }
            }
        }
        List<X86Reg> indexOrNone = new ArrayList<>(Arrays.asList(INDEXES));
        indexOrNone.addFirst(null);
        for (X86Reg d : ALL) {
            for (X86Reg b : ALL) {
                for (X86Reg i : indexOrNone) {
                    for (int disp : SHORT_DISPS) {
                        c.add("loadByteZeroExtend", "movzx " + r32(d) + ", byte ptr " + mem(b, i, disp),
                              a -> a.loadByteZeroExtend(d, b, i, disp));
                    }
                }
            }
        }
        for (X86Reg s : ALL) {
            for (X86Reg b : ALL) {
                for (X86Reg i : indexOrNone) {
                    for (int disp : SHORT_DISPS) {
                        c.add("storeByte", "mov byte ptr " + mem(b, i, disp) + ", " + r8(s),
                              a -> a.storeByte(b, i, disp, s));
                    }
                }
            }
        }
        for (X86Reg d : ALL) {
            // Forward and backward targets, near and far (the encoding is always rel32).
            c.add("leaRip", "lea " + r64(d) + ", [rip + %Lfwd]\nud2\n%Lfwd:", a -> {
                Label fwd = new Label("fwd");
                a.leaRip(d, fwd);
                a.ud2();
                a.bind(fwd);
            });
            c.add("leaRip", "%Lback:\npause\nlea " + r64(d) + ", [rip + %Lback]", a -> {
                Label back = new Label("back");
                a.bind(back);
                a.pause();
                a.leaRip(d, back);
            });
            c.add("leaRip", "lea " + r64(d) + ", [rip + %Lfar]\n.rept 100\npause\n.endr\n%Lfar:", a -> {
                Label far = new Label("far");
                a.leaRip(d, far);
                for (int k = 0; k < 100; k++) {
                    a.pause();
                }
                a.bind(far);
            });
        }
        for (X86Reg d : ALL) {
            c.add("loadThreadPointer", "mov " + r64(d) + ", qword ptr fs:[0]", a -> a.loadThreadPointer(d));
        }

        // ------------------------------------------------ arithmetic
        record RegReg(String mnemonic, RegRegOp op) {}
        List<RegReg> regReg = List.of(
            new RegReg("add", X86_64Assembler::add), new RegReg("sub", X86_64Assembler::sub),
            new RegReg("and", X86_64Assembler::and), new RegReg("cmp", X86_64Assembler::cmp),
            new RegReg("test", X86_64Assembler::test));
        for (RegReg op : regReg) {
            for (X86Reg d : ALL) {
                for (X86Reg s : ALL) {
                    c.add(op.mnemonic(), op.mnemonic() + " " + r64(d) + ", " + r64(s), a -> op.op().emit(a, d, s));
                }
            }
        }
        record RegImm(String mnemonic, RegImmOp op) {}
        List<RegImm> regImm = List.of(
            new RegImm("add", X86_64Assembler::addImm), new RegImm("sub", X86_64Assembler::subImm),
            new RegImm("and", X86_64Assembler::andImm), new RegImm("cmp", X86_64Assembler::cmpImm));
        for (RegImm op : regImm) {
            for (X86Reg d : ALL) {
                for (long imm : IMM32S) {
                    c.add(op.mnemonic() + "Imm", op.mnemonic() + " " + r64(d) + ", " + imm, a -> op.op().emit(a, d, imm));
                }
            }
        }
        for (X86Reg b : ALL) {
            for (int disp : DISPS) {
                for (int imm : new int[] {0, 1, -1, 127, -128}) {
                    c.add("cmpMemImm8", "cmp qword ptr " + mem(b, null, disp) + ", " + imm,
                          a -> a.cmpMemImm8(b, disp, imm));
                }
            }
        }
        for (X86Reg b : ALL) {
            for (int disp : DISPS) {
                for (long imm : IMM32S) {
                    int i = (int) imm;
                    c.add("movMemImm32", "mov qword ptr " + mem(b, null, disp) + ", " + i, a -> a.movMemImm32(b, disp, i));
                    c.add("cmpMemImm32", "cmp qword ptr " + mem(b, null, disp) + ", " + i, a -> a.cmpMemImm32(b, disp, i));
                }
                for (int imm : new int[] {0, 1, -1, 127, -128}) {
                    c.add("addMemImm8", "add qword ptr " + mem(b, null, disp) + ", " + imm, a -> a.addMemImm8(b, disp, imm));
                }
            }
        }
        for (X86Reg b : ALL) {
            for (int disp : DISPS) {
                for (X86Reg r : ALL) {
                    c.add("cmpMem", "cmp qword ptr " + mem(b, null, disp) + ", " + r64(r), a -> a.cmpMem(b, disp, r));
                }
            }
        }
        for (X86Reg d : ALL) {
            for (int sh : new int[] {1, 2, 7, 31, 32, 63}) {
                c.add("shlImm", "shl " + r64(d) + ", " + sh, a -> a.shlImm(d, sh));
                c.add("shrImm", "shr " + r64(d) + ", " + sh, a -> a.shrImm(d, sh));
            }
            c.add("inc", "inc " + r64(d), a -> a.inc(d));
            c.add("dec", "dec " + r64(d), a -> a.dec(d));
            c.add("lockIncMem", "lock inc qword ptr [" + r64(d) + "]", a -> a.lockIncMem(d));
        }

        // ------------------------------------------------ control flow
        for (Cond cond : Cond.values()) {
            String j = "{disp32} " + cc(cond);
            c.add("jcc", "%Lback:\npause\n" + j + " %Lfwd\n" + j + " %Lback\nud2\n%Lfwd:", a -> {
                Label back = new Label("back");
                Label fwd = new Label("fwd");
                a.bind(back);
                a.pause();
                a.jcc(cond, fwd);
                a.jcc(cond, back);
                a.ud2();
                a.bind(fwd);
            });
            // Far enough that as picks rel32 even without {disp32}.
            c.add("jcc", cc(cond) + " %Lfar\n.rept 100\npause\n.endr\n%Lfar:", a -> {
                Label far = new Label("far");
                a.jcc(cond, far);
                for (int k = 0; k < 100; k++) {
                    a.pause();
                }
                a.bind(far);
            });
            c.add("jcc", "%Lself:\n{disp32} " + cc(cond) + " %Lself", a -> {
                Label self = new Label("self");
                a.bind(self);
                a.jcc(cond, self);
            });
        }
        c.add("jmp", "%Lback:\npause\n{disp32} jmp %Lfwd\n{disp32} jmp %Lback\nud2\n%Lfwd:", a -> {
            Label back = new Label("back");
            Label fwd = new Label("fwd");
            a.bind(back);
            a.pause();
            a.jmp(fwd);
            a.jmp(back);
            a.ud2();
            a.bind(fwd);
        });
        c.add("jmp", "jmp %Lfar\n.rept 100\npause\n.endr\n%Lfar:", a -> {
            Label far = new Label("far");
            a.jmp(far);
            for (int k = 0; k < 100; k++) {
                a.pause();
            }
            a.bind(far);
        });
        c.add("jmp", "%Lself:\n{disp32} jmp %Lself", a -> {
            Label self = new Label("self");
            a.bind(self);
            a.jmp(self);
        });
        for (X86Reg r : ALL) {
            c.add("call", "call " + r64(r), a -> a.call(r));
            c.add("push", "push " + r64(r), a -> a.push(r));
            c.add("pop", "pop " + r64(r), a -> a.pop(r));
        }
        c.add("ret", "ret", X86_64Assembler::ret);
        c.add("pause", "pause", X86_64Assembler::pause);
        c.add("ud2", "ud2", X86_64Assembler::ud2);
        c.add("syscall", "syscall", X86_64Assembler::syscall);
        for (int sig : new int[] {0x53053053, 0, 1, -1, 0x12345678, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            c.add("signature", "ud1 edi, dword ptr [rip" + (sig == 0 ? "" : signed(sig)) + "]", a -> a.signature(sig));
        }
        return c.list;
    }

    @FunctionalInterface
    private interface RegRegOp {
        void emit(X86_64Assembler a, X86Reg x, X86Reg y);
    }

    @FunctionalInterface
    private interface RegImmOp {
        void emit(X86_64Assembler a, X86Reg x, long imm);
    }

    // ---------------------------------------------------------------- running GNU as

    private record Tool(boolean ok, String output) {}

    private static Tool run(Path dir, String... command) {
        try {
            Path out = dir.resolve("tool-output.txt");
            Process p = new ProcessBuilder(command).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Tool(false, String.join(" ", command) + ": timed out");
            }
            return new Tool(p.exitValue() == 0, Files.readString(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Tool(false, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Tool(false, e.toString());
        }
    }

    private static void assumeBinutils(Path dir) throws IOException {
        Tool as = run(dir, "as", "--version");
        Tool objcopy = run(dir, "objcopy", "--version");
        assumeTrue(as.ok() && as.output().contains("GNU assembler") && objcopy.ok(),
                   "GNU as not installed: skipping byte comparison");
        Files.writeString(dir.resolve("probe.s"), ".intel_syntax noprefix\n.text\nmov rax, qword ptr [r12 + 8]\n");
        Tool probe = run(dir, "as", "--64", "-O0", "-o", "probe.o", "probe.s");
        assumeTrue(probe.ok(), "GNU as cannot assemble x86-64 here: skipping byte comparison ("
                   + probe.output().strip() + ")");
    }

    private static String hex(byte[] b) {
        return HexFormat.ofDelimiter(" ").formatHex(b);
    }

    private static String oneLine(String gas) {
        return gas.replace("\n", "; ");
    }

    @TestFactory
    List<DynamicTest> encodingsMatchGnuAs(@TempDir Path dir) throws IOException {
        assumeBinutils(dir);
        List<Case> cases = allCases();

        StringBuilder src = new StringBuilder(cases.size() * 48);
        src.append(".intel_syntax noprefix\n.text\nrseq4j_base:\n");
        int line = 4;
        int[] firstLine = new int[cases.size()];
        for (int i = 0; i < cases.size(); i++) {
            String gas = cases.get(i).gas();
            firstLine[i] = line;
            line += 2 + (int) gas.lines().count();
            src.append(".Lc").append(i).append("_s:\n")
               .append(gas.replace("%L", ".Lc" + i + "_")).append('\n')
               .append(".Lc").append(i).append("_e:\n");
        }
        src.append(".data\n");
        for (int i = 0; i < cases.size(); i++) {
            src.append(".long .Lc").append(i).append("_s - rseq4j_base, .Lc").append(i).append("_e - rseq4j_base\n");
        }
        Files.writeString(dir.resolve("cases.s"), src);

        Tool as = run(dir, "as", "--64", "-O0", "-o", "cases.o", "cases.s");
        if (!as.ok()) {
            StringBuilder msg = new StringBuilder("as rejected the generated file:\n");
            as.output().lines().limit(20).forEach(l -> {
                msg.append(l).append('\n');
                Matcher m = Pattern.compile("cases\\.s:(\\d+):").matcher(l);
                if (m.find()) {
                    int at = Arrays.binarySearch(firstLine, Integer.parseInt(m.group(1)));
                    int i = at >= 0 ? at : -at - 2;
                    if (i >= 0) {
                        msg.append("    in case ").append(cases.get(i).group()).append(": ")
                           .append(oneLine(cases.get(i).gas())).append('\n');
                    }
                }
            });
            fail(msg.toString());
        }
        Tool text = run(dir, "objcopy", "-O", "binary", "--only-section=.text", "cases.o", "text.bin");
        Tool data = run(dir, "objcopy", "-O", "binary", "--only-section=.data", "cases.o", "data.bin");
        assertTrue(text.ok() && data.ok(), () -> "objcopy failed: " + text.output() + data.output());
        byte[] code = Files.readAllBytes(dir.resolve("text.bin"));
        ByteBuffer table = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("data.bin"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(cases.size() * 8, table.remaining(), "offset table size");

        Map<String, List<String>> mismatches = new LinkedHashMap<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (int i = 0; i < cases.size(); i++) {
            Case k = cases.get(i);
            byte[] expected = Arrays.copyOfRange(code, table.getInt(8 * i), table.getInt(8 * i + 4));
            String actual;
            boolean same;
            try {
                X86_64Assembler a = new X86_64Assembler(new CodeBuffer());
                k.emit().accept(a);
                byte[] got = a.buffer().link(0);
                same = Arrays.equals(expected, got);
                actual = hex(got);
            } catch (RuntimeException e) {
                same = false;
                actual = e.toString();
            }
            counts.merge(k.group(), 1, Integer::sum);
            List<String> bad = mismatches.computeIfAbsent(k.group(), g -> new ArrayList<>());
            if (!same) {
                bad.add(oneLine(k.gas()) + "\n    as:     " + hex(expected) + "\n    rseq4j: " + actual);
            }
        }

        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : mismatches.entrySet()) {
            String group = e.getKey();
            List<String> bad = e.getValue();
            int n = counts.get(group);
            tests.add(DynamicTest.dynamicTest(group + " (" + n + (n == 1 ? " case)" : " cases)"), () -> {
                if (!bad.isEmpty()) {
                    fail(bad.size() + " of " + n + " " + group + " cases differ from GNU as:\n  "
                         + String.join("\n  ", bad.subList(0, Math.min(bad.size(), 40)))
                         + (bad.size() > 40 ? "\n  ..." : ""));
                }
            }));
        }
        tests.add(DynamicTest.dynamicTest("total (" + cases.size() + " cases)",
                                          () -> assertTrue(cases.size() > 10_000)));
        return tests;
    }

    // ---------------------------------------------------------------- pure Java

    private static int readInt(byte[] b, int at) {
        return ByteBuffer.wrap(b, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private static long readLong(byte[] b, int at) {
        return ByteBuffer.wrap(b, at, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    @Test
    void rel32FixupsMeasureFromTheEndOfTheInstruction() {
        CodeBuffer buf = new CodeBuffer();
        Label back = new Label("back");
        Label fwd = new Label("fwd");
        buf.u8(0x90);
        buf.bind(back);                  // 1
        buf.u8(0x90);
        int at1 = buf.position();        // 2
        buf.rel32(fwd, 0);               // ends at 6
        int at2 = buf.position();        // 6
        buf.rel32(back, 2);              // instruction ends at 12
        buf.u16(0xABCD);
        buf.u8(0x90);
        buf.bind(fwd);                   // 13
        byte[] b = buf.link(0);
        assertEquals(13, b.length);
        assertEquals(13 - 6, readInt(b, at1));
        assertEquals(1 - 12, readInt(b, at2));
        assertEquals((byte) 0xCD, b[10]);
        assertEquals((byte) 0xAB, b[11]);
        // Relative references do not depend on the load address.
        assertArrayEquals(b, buf.link(0x7F12_3456_7000L));
    }

    @Test
    void abs64FixupsAddTheLoadAddress() {
        CodeBuffer buf = new CodeBuffer();
        Label start = new Label("start");
        Label end = new Label("end");
        buf.bind(start);
        buf.u32(0x11223344);
        buf.abs64(end);
        buf.abs64(start);
        buf.u8(0xC3);
        buf.bind(end);
        assertEquals(0, readLong(buf.toByteArray(), 4), "placeholder before linking");
        long load = 0x7F12_3456_7000L;
        byte[] b = buf.link(load);
        assertEquals(21, b.length);
        assertEquals(load + 21, readLong(b, 4));
        assertEquals(load, readLong(b, 12));
        assertEquals(0x11223344, readInt(b, 0));
    }

    @Test
    void unresolvedPlaceholdersAreZeroBeforeLinking() {
        CodeBuffer buf = new CodeBuffer();
        X86_64Assembler a = new X86_64Assembler(buf);
        Label l = new Label("l");
        a.jmp(l);
        assertArrayEquals(new byte[] {(byte) 0xE9, 0, 0, 0, 0}, buf.toByteArray());
        a.bind(l);
        assertArrayEquals(new byte[] {(byte) 0xE9, 0, 0, 0, 0}, buf.link(0));
    }

    @Test
    void bindingALabelTwiceThrows() {
        CodeBuffer buf = new CodeBuffer();
        Label l = new Label("twice");
        buf.bind(l);
        buf.u8(0x90);
        assertThrows(IllegalStateException.class, () -> buf.bind(l));
        assertEquals(0, l.position());
    }

    @Test
    void linkingAnUnboundLabelThrows() {
        CodeBuffer buf = new CodeBuffer();
        new X86_64Assembler(buf).jmp(new Label("nowhere"));
        assertThrows(IllegalStateException.class, () -> buf.link(0));
    }

    @Test
    void shiftOutOfRangeThrows() {
        X86_64Assembler a = new X86_64Assembler(new CodeBuffer());
        assertThrows(IllegalArgumentException.class, () -> a.shlImm(X86Reg.RAX, 0));
        assertThrows(IllegalArgumentException.class, () -> a.shrImm(X86Reg.RAX, 0));
        assertThrows(IllegalArgumentException.class, () -> a.shrImm(X86Reg.RAX, 64));
        assertThrows(IllegalArgumentException.class, () -> a.shlImm(X86Reg.RAX, 64));
        assertThrows(IllegalArgumentException.class, () -> a.shlImm(X86Reg.RAX, -1));
        assertEquals(0, a.buffer().position(), "nothing emitted");
    }

    @Test
    void otherOperandChecksThrow() {
        X86_64Assembler a = new X86_64Assembler(new CodeBuffer());
        assertThrows(IllegalArgumentException.class, () -> a.load(X86Reg.RAX, X86Reg.RBX, X86Reg.RSP, 0));
        assertThrows(IllegalArgumentException.class, () -> a.addImm(X86Reg.RAX, 1L << 31));
        assertThrows(IllegalArgumentException.class, () -> a.cmpImm(X86Reg.R9, -(1L << 31) - 1));
        assertThrows(IllegalArgumentException.class, () -> a.cmpMemImm8(X86Reg.RAX, 0, 128));
        assertThrows(IllegalArgumentException.class, () -> a.cmpMemImm8(X86Reg.RAX, 0, -129));
        assertThrows(IllegalArgumentException.class, () -> a.addMemImm8(X86Reg.RSP, -8, 128));
    }

    private static byte[] movImm(X86Reg r, long imm) {
        X86_64Assembler a = new X86_64Assembler(new CodeBuffer());
        a.movImm(r, imm);
        return a.buffer().link(0);
    }

    @Test
    void movImmPicksTheShortFormWhenTheValueFitsInSigned32Bits() {
        for (long v : new long[] {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            assertEquals(7, movImm(X86Reg.RAX, v).length, "mov rax, " + v);
            assertEquals(7, movImm(X86Reg.R15, v).length, "mov r15, " + v);
        }
        for (long v : new long[] {1L << 31, -(1L << 31) - 1, 0xFFFFFFFFL, Long.MAX_VALUE, Long.MIN_VALUE}) {
            assertEquals(10, movImm(X86Reg.RAX, v).length, "movabs rax, " + v);
            assertEquals(10, movImm(X86Reg.R15, v).length, "movabs r15, " + v);
        }
        assertEquals("48 c7 c0 ff ff ff ff", hex(movImm(X86Reg.RAX, -1)));
        assertEquals("49 c7 c1 00 00 00 80", hex(movImm(X86Reg.R9, Integer.MIN_VALUE)));
        assertEquals("48 b9 ef cd ab 89 67 45 23 01", hex(movImm(X86Reg.RCX, 0x0123456789ABCDEFL)));
        assertEquals("49 bc 00 00 00 80 00 00 00 00", hex(movImm(X86Reg.R12, 1L << 31)));
    }

    @Test
    void signatureIsTheFourBytesBeforeTheAbortLabel() {
        CodeBuffer buf = new CodeBuffer();
        X86_64Assembler a = new X86_64Assembler(buf);
        Label abort = new Label("abort");
        a.pause();
        a.signature(0x53053053);
        a.bind(abort);
        a.ret();
        byte[] b = buf.link(0);
        assertEquals(0x53053053, readInt(b, abort.position() - 4));
    }
}
