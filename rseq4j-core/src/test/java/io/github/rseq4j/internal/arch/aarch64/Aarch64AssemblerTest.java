package io.github.rseq4j.internal.arch.aarch64;

import io.github.rseq4j.internal.arch.aarch64.Aarch64Assembler.Cond;
import io.github.rseq4j.internal.arch.aarch64.Aarch64Assembler.PairMode;
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
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.github.rseq4j.internal.arch.aarch64.Aarch64Reg.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Checks {@link Aarch64Assembler} against GNU {@code as} for aarch64
 * ({@code aarch64-linux-gnu-as}, Debian package {@code binutils-aarch64-linux-gnu}): every
 * case is emitted into a fresh {@link CodeBuffer} (linked at 0) and written as GNU as
 * syntax into one assembly file, which is assembled once; each case's bytes are located
 * through a table of {@code (start, end)} offsets that the assembler itself computes into
 * {@code .data}. One dynamic test per instruction family reports every mismatching case
 * with both words. Skipped (not passed) when the cross binutils are not installed.
 *
 * <p>The pure-Java tests at the end need no external tool: the bitmask-immediate encoder
 * against every encodable value, {@code movImm} by simulating the emitted words, range
 * and operand checks.
 */
class Aarch64AssemblerTest {

    private static final String AS = "aarch64-linux-gnu-as";
    private static final String OBJCOPY = "aarch64-linux-gnu-objcopy";

    private static final Aarch64Reg[] GENERAL = Arrays.copyOf(Aarch64Reg.values(), 31);

    /** General registers and xzr (number 31 as the zero register). */
    private static final Aarch64Reg[] GZ;

    static {
        GZ = Arrays.copyOf(GENERAL, 32);
        GZ[31] = XZR;
    }

    /** A spread of registers for the three-operand loops. */
    private static final Aarch64Reg[] SOME = {X0, X1, X7, X8, X15, X16, X17, X19, X29, X30, XZR};
    private static final Aarch64Reg[] SOME_GENERAL = {X0, X1, X7, X15, X16, X17, X19, X28, X29, X30};
    private static final Aarch64Reg[] BASES = {X0, X3, X16, X17, X29, X30, SP};

    private static final long[] DISPS = {0, 1, 2, 3, 4, 7, 8, 12, 16, 24, 192, 255, 256, 260, 264, 4095, 4096,
        8184, 16380, 16384, 32760, -1, -4, -8, -32, -255, -256, 32768, -257, 100000};

    private record Case(String group, String gas, Consumer<Aarch64Assembler> emit) {}

    private static final class Cases {
        final List<Case> list = new ArrayList<>();

        void add(String group, String gas, Consumer<Aarch64Assembler> emit) {
            list.add(new Case(group, gas, emit));
        }
    }

    private static String x(Aarch64Reg r) {
        return r.gasName();
    }

    private static String w(Aarch64Reg r) {
        return r.gasName32();
    }

    private static String mem(Aarch64Reg base, long disp) {
        return disp == 0 ? "[" + x(base) + "]" : "[" + x(base) + ", #" + disp + "]";
    }

    private static String cc(Cond c) {
        return "b." + c.name().toLowerCase(Locale.ROOT);
    }

    private static List<Case> allCases() {
        Cases c = new Cases();

        // ------------------------------------------------ moves
        for (Aarch64Reg d : GZ) {
            for (int imm : new int[] {0, 1, 0x1234, 0x8000, 0xFFFF}) {
                for (int shift = 0; shift < 64; shift += 16) {
                    int s = shift;
                    String tail = ", #" + imm + ", lsl #" + s;
                    c.add("movz", "movz " + x(d) + tail, a -> a.movz(d, imm, s));
                    c.add("movk", "movk " + x(d) + tail, a -> a.movk(d, imm, s));
                    c.add("movn", "movn " + x(d) + tail, a -> a.movn(d, imm, s));
                }
            }
        }
        // movImm values that take one instruction: the one GNU as picks for "mov xd, #imm".
        long[] single = {0, 1, 0xFFFF, 0x10000, 0x12340000L, 0xABCD00000000L, 0xFFFF000000000000L, -1, -2,
            -0x10000, 0xFFFFFFFFFFFF1234L, 0xFFFF1234FFFFFFFFL, 0x1234FFFFFFFFFFFFL, -8, 0xFF, 0xFF00,
            0x5555555555555555L, 0x00FF00FF00FF00FFL, 0x0F0F0F0F0F0F0F0FL, 0x7FFFFFFFFFFFFFFFL, Long.MIN_VALUE,
            0xFFFFFFFFL, 0xFFFFFFFF00000000L, 0x3FFC00L, 0x8000000000000001L, 0x7FFE000000000000L};
        for (Aarch64Reg d : GENERAL) {
            for (long v : single) {
                c.add("movImm", "mov " + x(d) + ", #" + v, a -> a.movImm(d, v));
            }
        }
        for (Aarch64Reg d : GZ) {
            for (Aarch64Reg s : GZ) {
                c.add("mov", "mov " + x(d) + ", " + x(s), a -> a.mov(d, s));
            }
        }
        for (Aarch64Reg r : GENERAL) {
            c.add("mov sp", "mov sp, " + x(r), a -> a.mov(SP, r));
            c.add("mov sp", "mov " + x(r) + ", sp", a -> a.mov(r, SP));
        }

        // ------------------------------------------------ arithmetic and logic
        record Rrr(String mnemonic, RrrOp op) {}
        List<Rrr> rrr = List.of(
            new Rrr("add", Aarch64Assembler::add), new Rrr("sub", Aarch64Assembler::sub),
            new Rrr("and", Aarch64Assembler::and), new Rrr("orr", Aarch64Assembler::orr),
            new Rrr("bic", Aarch64Assembler::bic), new Rrr("lsl", Aarch64Assembler::lslv));
        for (Rrr op : rrr) {
            for (Aarch64Reg d : SOME) {
                for (Aarch64Reg n : SOME) {
                    for (Aarch64Reg m : SOME) {
                        c.add(op.mnemonic(), op.mnemonic() + " " + x(d) + ", " + x(n) + ", " + x(m),
                              a -> op.op().emit(a, d, n, m));
                    }
                }
            }
        }
        for (Aarch64Reg n : GZ) {
            for (Aarch64Reg m : GZ) {
                c.add("cmp", "cmp " + x(n) + ", " + x(m), a -> a.cmp(n, m));
            }
        }
        Aarch64Reg[] spOrGeneral = {X0, X1, X16, X29, X30, SP};
        long[] imm12s = {0, 1, 7, 0x800, 0xFFF};
        for (Aarch64Reg d : spOrGeneral) {
            for (Aarch64Reg n : spOrGeneral) {
                for (long imm : imm12s) {
                    for (boolean sh : new boolean[] {false, true}) {
                        String tail = ", #" + imm + (sh ? ", lsl #12" : "");
                        c.add("addImm", "add " + x(d) + ", " + x(n) + tail, a -> a.addImm(d, n, imm, sh));
                        c.add("subImm", "sub " + x(d) + ", " + x(n) + tail, a -> a.subImm(d, n, imm, sh));
                        if (d != SP) {
                            c.add("subsImm", "subs " + x(d) + ", " + x(n) + tail, a -> a.subsImm(d, n, imm, sh));
                        }
                    }
                }
            }
        }
        for (Aarch64Reg n : spOrGeneral) {
            for (long imm : imm12s) {
                for (boolean sh : new boolean[] {false, true}) {
                    String tail = ", #" + imm + (sh ? ", lsl #12" : "");
                    c.add("cmpImm", "cmp " + x(n) + tail, a -> a.cmpImm(n, imm, sh));
                    c.add("cmnImm", "cmn " + x(n) + tail, a -> a.cmnImm(n, imm, sh));
                }
            }
        }
        List<Long> bitmasks = new ArrayList<>(List.of(-8L, 0xFL, 1L, 0x7FFFFFFFFFFFFFFFL, Long.MIN_VALUE,
            0xFFFFFFFFL, 0xFFFF0000FFFF0000L, 0x5555555555555555L, 0xAAAAAAAAAAAAAAAAL, 0x0101010101010101L,
            0x8080808080808080L, 0x00000000FFFFF000L, 0xFFFFFFFFFFFFFFFEL, 0x3333333333333333L, 0xC3C3C3C3C3C3C3C3L,
            0x1E1E1E1E1E1E1E1EL, 0x7FFF7FFF7FFF7FFFL, 0x0000FFFF0000FFFFL, 0xFFFFFFFF00000001L, 0x8000000000000001L));
        Random rnd = new Random(42);
        List<Long> all = allBitmaskImmediates();
        for (int i = 0; i < 60; i++) {
            bitmasks.add(all.get(rnd.nextInt(all.size())));
        }
        for (long v : bitmasks) {
            for (Aarch64Reg d : SOME_GENERAL) {
                Aarch64Reg n = SOME_GENERAL[(int) ((v >>> 3) & 7)];
                c.add("andImm", "and " + x(d) + ", " + x(n) + ", #" + v, a -> a.andImm(d, n, v));
                c.add("orrImm", "orr " + x(d) + ", " + x(n) + ", #" + v, a -> a.orrImm(d, n, v));
            }
        }
        for (Aarch64Reg d : SOME_GENERAL) {
            for (Aarch64Reg n : SOME_GENERAL) {
                for (int sh : new int[] {1, 2, 3, 12, 20, 31, 32, 63}) {
                    c.add("lslImm", "lsl " + x(d) + ", " + x(n) + ", #" + sh, a -> a.lslImm(d, n, sh));
                }
                for (int[] f : new int[][] {{16, 4}, {0, 4}, {0, 64}, {63, 1}, {8, 20}, {1, 63}}) {
                    c.add("ubfx", "ubfx " + x(d) + ", " + x(n) + ", #" + f[0] + ", #" + f[1],
                          a -> a.ubfx(d, n, f[0], f[1]));
                }
            }
        }

        // ------------------------------------------------ loads and stores
        Aarch64Reg[] rts = {X0, X1, X9, X16, X17, X30, XZR};
        for (Aarch64Reg t : rts) {
            for (Aarch64Reg b : BASES) {
                for (long d : DISPS) {
                    if (Aarch64Assembler.fitsDisplacement(d, 8)) {
                        c.add("ldr", "ldr " + x(t) + ", " + mem(b, d), a -> a.ldr(t, b, d));
                        c.add("str", "str " + x(t) + ", " + mem(b, d), a -> a.str(t, b, d));
                    }
                    if (Aarch64Assembler.fitsDisplacement(d, 4)) {
                        c.add("ldrsw", "ldrsw " + x(t) + ", " + mem(b, d), a -> a.ldrsw(t, b, d));
                    }
                    if (Aarch64Assembler.fitsDisplacement(d, 1)) {
                        c.add("ldrb", "ldrb " + w(t) + ", " + mem(b, d), a -> a.ldrb(t, b, d));
                        c.add("strb", "strb " + w(t) + ", " + mem(b, d), a -> a.strb(t, b, d));
                    }
                }
                for (Aarch64Reg i : new Aarch64Reg[] {X0, X2, X16, X17, X30, XZR}) {
                    String m = "[" + x(b) + ", " + x(i) + "]";
                    c.add("ldr indexed", "ldr " + x(t) + ", " + m, a -> a.ldr(t, b, i));
                    c.add("str indexed", "str " + x(t) + ", " + m, a -> a.str(t, b, i));
                    c.add("ldrsw indexed", "ldrsw " + x(t) + ", " + m, a -> a.ldrsw(t, b, i));
                    c.add("ldrb indexed", "ldrb " + w(t) + ", " + m, a -> a.ldrb(t, b, i));
                    c.add("strb indexed", "strb " + w(t) + ", " + m, a -> a.strb(t, b, i));
                }
                c.add("stlr", "stlr " + x(t) + ", [" + x(b) + "]", a -> a.stlr(t, b));
                c.add("ldar", "ldar " + x(t) + ", [" + x(b) + "]", a -> a.ldar(t, b));
                c.add("ldxr", "ldxr " + x(t) + ", [" + x(b) + "]", a -> a.ldxr(t, b));
                for (Aarch64Reg s : new Aarch64Reg[] {X1, X17, X8}) {
                    if (s != t && s != b) {
                        c.add("stxr", "stxr " + w(s) + ", " + x(t) + ", [" + x(b) + "]", a -> a.stxr(s, t, b));
                        c.add("ldaddal", "ldaddal " + x(s) + ", " + x(t) + ", [" + x(b) + "]", a -> a.ldaddal(s, t, b));
                    }
                }
            }
        }
        Aarch64Reg[][] pairs = {{X29, X30}, {X19, X20}, {X0, X1}, {X27, X28}, {X30, XZR}, {X5, X2}};
        for (Aarch64Reg[] p : pairs) {
            for (Aarch64Reg b : new Aarch64Reg[] {SP, X3, X29}) {
                for (int imm : new int[] {0, 16, -16, -64, 64, 504, -512, 8}) {
                    String regs = x(p[0]) + ", " + x(p[1]);
                    c.add("stp", "stp " + regs + ", [" + x(b) + ", #" + imm + "]",
                          a -> a.stp(p[0], p[1], b, imm, PairMode.OFFSET));
                    c.add("stp", "stp " + regs + ", [" + x(b) + ", #" + imm + "]!",
                          a -> a.stp(p[0], p[1], b, imm, PairMode.PRE_INDEX));
                    c.add("stp", "stp " + regs + ", [" + x(b) + "], #" + imm,
                          a -> a.stp(p[0], p[1], b, imm, PairMode.POST_INDEX));
                    c.add("ldp", "ldp " + regs + ", [" + x(b) + ", #" + imm + "]",
                          a -> a.ldp(p[0], p[1], b, imm, PairMode.OFFSET));
                    if (b != p[0] && b != p[1]) { // writeback into a loaded register is unpredictable
                        c.add("ldp", "ldp " + regs + ", [" + x(b) + ", #" + imm + "]!",
                              a -> a.ldp(p[0], p[1], b, imm, PairMode.PRE_INDEX));
                        c.add("ldp", "ldp " + regs + ", [" + x(b) + "], #" + imm,
                              a -> a.ldp(p[0], p[1], b, imm, PairMode.POST_INDEX));
                    }
                }
            }
        }

        // ------------------------------------------------ control flow
        record Br(String gas, BranchOp op) {}
        List<Br> branches = new ArrayList<>();
        branches.add(new Br("b", (a, l) -> a.b(l)));
        for (Cond cond : Cond.values()) {
            branches.add(new Br(cc(cond), (a, l) -> a.bcond(cond, l)));
        }
        for (Aarch64Reg r : new Aarch64Reg[] {X0, X9, X16, X17, X30, XZR}) {
            branches.add(new Br("cbz " + x(r) + ",", (a, l) -> a.cbz(r, l)));
            branches.add(new Br("cbnz " + x(r) + ",", (a, l) -> a.cbnz(r, l)));
            branches.add(new Br("cbz " + w(r) + ",", (a, l) -> a.cbz32(r, l)));
            branches.add(new Br("cbnz " + w(r) + ",", (a, l) -> a.cbnz32(r, l)));
        }
        for (Aarch64Reg r : new Aarch64Reg[] {X0, X9, X16, X30}) {
            branches.add(new Br("adr " + x(r) + ",", (a, l) -> a.adr(r, l)));
        }
        for (Br br : branches) {
            String group = br.gas().split(" ")[0];
            c.add(group, "%Lback:\nnop\n" + br.gas() + " %Lfwd\n" + br.gas() + " %Lback\nbrk #1\n%Lfwd:", a -> {
                Label back = new Label("back");
                Label fwd = new Label("fwd");
                a.bind(back);
                a.nop();
                br.op().emit(a, fwd);
                br.op().emit(a, back);
                a.brk(1);
                a.bind(fwd);
            });
            c.add(group, "%Lself:\n" + br.gas() + " %Lself", a -> {
                Label self = new Label("self");
                a.bind(self);
                br.op().emit(a, self);
            });
            // Far: 64 KiB each way (beyond a tbz, inside every form used here: b.cond/cbz/adr reach 1 MiB).
            c.add(group, "%Lback:\n.skip 65536\n" + br.gas() + " %Lback\n" + br.gas() + " %Lfwd\n.skip 65536\n%Lfwd:", a -> {
                Label back = new Label("back");
                Label fwd = new Label("fwd");
                a.bind(back);
                for (int k = 0; k < 65536 / 4; k++) {
                    a.buffer().u32(0);
                }
                br.op().emit(a, back);
                br.op().emit(a, fwd);
                for (int k = 0; k < 65536 / 4; k++) {
                    a.buffer().u32(0);
                }
                a.bind(fwd);
            });
        }
        for (Aarch64Reg r : GENERAL) {
            c.add("blr", "blr " + x(r), a -> a.blr(r));
            c.add("mrs", "mrs " + x(r) + ", tpidr_el0", a -> a.mrsTpidrEl0(r));
            c.add("mrs", "mrs " + x(r) + ", ctr_el0", a -> a.mrsCtrEl0(r));
            c.add("dc cvau", "dc cvau, " + x(r), a -> a.dcCvau(r));
            c.add("ic ivau", "ic ivau, " + x(r), a -> a.icIvau(r));
        }
        c.add("ret", "ret", Aarch64Assembler::ret);
        c.add("svc", "svc #0", Aarch64Assembler::svc0);
        c.add("barriers", "dsb ish", Aarch64Assembler::dsbIsh);
        c.add("barriers", "dmb ish", Aarch64Assembler::dmbIsh);
        c.add("barriers", "isb", Aarch64Assembler::isb);
        c.add("hints", "nop", Aarch64Assembler::nop);
        c.add("hints", "yield", Aarch64Assembler::yield);
        for (int imm : new int[] {0, 1, 0x45E0, 0xFFFF}) {
            c.add("brk", "brk #" + imm, a -> a.brk(imm));
        }
        // The rseq signature is brk #0x45e0, as rseq-arm64.h and librseq define it.
        c.add("signature", "brk #0x45e0", a -> a.signature(0xD428BC00));
        c.add("signature", ".inst 0xd428bc00", a -> a.signature(0xD428BC00));
        return c.list;
    }

    @FunctionalInterface
    private interface RrrOp {
        void emit(Aarch64Assembler a, Aarch64Reg d, Aarch64Reg n, Aarch64Reg m);
    }

    @FunctionalInterface
    private interface BranchOp {
        void emit(Aarch64Assembler a, Label target);
    }

    // ---------------------------------------------------------------- running GNU as

    private record Tool(boolean ok, String output) {}

    private static Tool run(Path dir, String... command) {
        try {
            Path out = dir.resolve("tool-output.txt");
            Process p = new ProcessBuilder(command).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
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

    private static void assumeBinutils(Path dir) {
        Tool as = run(dir, AS, "--version");
        Tool objcopy = run(dir, OBJCOPY, "--version");
        assumeTrue(as.ok() && as.output().contains("GNU assembler") && objcopy.ok(),
                   AS + " not installed (Debian package binutils-aarch64-linux-gnu): skipping byte comparison");
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        while (bb.remaining() >= 4) {
            if (!sb.isEmpty()) {
                sb.append(' ');
            }
            sb.append(String.format("%08x", bb.getInt()));
        }
        if (bb.hasRemaining() || b.length > 64) {
            return b.length + " bytes: " + HexFormat.ofDelimiter(" ").formatHex(b, 0, Math.min(b.length, 32));
        }
        return sb.toString();
    }

    private static String oneLine(String gas) {
        return gas.replace("\n", "; ");
    }

    @TestFactory
    List<DynamicTest> encodingsMatchGnuAs(@TempDir Path dir) throws IOException {
        assumeBinutils(dir);
        List<Case> cases = allCases();

        StringBuilder src = new StringBuilder(cases.size() * 48);
        src.append(".arch armv8.1-a\n.text\nrseq4j_base:\n");
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
            src.append(".4byte .Lc").append(i).append("_s - rseq4j_base, .Lc").append(i).append("_e - rseq4j_base\n");
        }
        Files.writeString(dir.resolve("cases.s"), src);

        Tool as = run(dir, AS, "-o", "cases.o", "cases.s");
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
        Tool text = run(dir, OBJCOPY, "-O", "binary", "--only-section=.text", "cases.o", "text.bin");
        Tool data = run(dir, OBJCOPY, "-O", "binary", "--only-section=.data", "cases.o", "data.bin");
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
                Aarch64Assembler a = new Aarch64Assembler(new CodeBuffer());
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

    /** Every 64-bit bitmask immediate, by the architecture's DecodeBitMasks. */
    private static List<Long> allBitmaskImmediates() {
        Set<Long> values = new HashSet<>();
        for (int n = 0; n <= 1; n++) {
            for (int imms = 0; imms < 64; imms++) {
                for (int immr = 0; immr < 64; immr++) {
                    Long v = decodeBitMask(n, immr, imms);
                    if (v != null) {
                        values.add(v);
                    }
                }
            }
        }
        List<Long> list = new ArrayList<>(values);
        list.sort(Long::compare);
        return list;
    }

    private static Long decodeBitMask(int n, int immr, int imms) {
        int combined = n << 6 | (~imms & 0x3F);
        if (combined == 0) {
            return null;
        }
        int len = 31 - Integer.numberOfLeadingZeros(combined);
        if (len < 1) {
            return null;
        }
        int size = 1 << len;
        int levels = size - 1;
        int s = imms & levels;
        int r = immr & levels;
        if (s == levels) {
            return null;
        }
        long elemMask = size == 64 ? -1L : (1L << size) - 1;
        long welem = (1L << (s + 1)) - 1;
        long rotated = size == 64 ? Long.rotateRight(welem, r) : ((welem >>> r) | (welem << (size - r))) & elemMask;
        long v = 0;
        for (int i = 0; i < 64; i += size) {
            v |= rotated << i;
        }
        return v;
    }

    @Test
    void everyBitmaskImmediateEncodesAndDecodesBack() {
        List<Long> all = allBitmaskImmediates();
        assertEquals(5334, all.size(), "the architecture has 5334 64-bit bitmask immediates");
        for (long v : all) {
            int field = Aarch64Assembler.logicalImmediate(v);
            assertTrue(field >= 0, () -> "not encoded: 0x" + Long.toHexString(v));
            Long back = decodeBitMask(field >>> 12, (field >>> 6) & 0x3F, field & 0x3F);
            assertEquals(v, back, () -> "0x" + Long.toHexString(v));
        }
        Set<Long> set = new HashSet<>(all);
        Random rnd = new Random(7);
        for (int i = 0; i < 200_000; i++) {
            long v = rnd.nextLong() >>> rnd.nextInt(64);
            assertEquals(set.contains(v), Aarch64Assembler.logicalImmediate(v) >= 0, () -> "0x" + Long.toHexString(v));
        }
        assertEquals(-1, Aarch64Assembler.logicalImmediate(0));
        assertEquals(-1, Aarch64Assembler.logicalImmediate(-1));
        assertEquals(-1, Aarch64Assembler.logicalImmediate(0x1234));
    }

    /** Runs the movz/movn/movk/orr words movImm emits and returns the register value. */
    private static long simulateMovImm(long imm) {
        Aarch64Assembler a = new Aarch64Assembler(new CodeBuffer());
        a.movImm(X5, imm);
        ByteBuffer words = ByteBuffer.wrap(a.buffer().link(0)).order(ByteOrder.LITTLE_ENDIAN);
        assertTrue(words.remaining() <= 16, "at most four instructions");
        long x = 0xDEADBEEFL;
        while (words.hasRemaining()) {
            int word = words.getInt();
            assertEquals(5, word & 0x1F, "destination x5");
            if ((word & 0xFF800000) == 0xB2000000) { // orr x5, xzr, #bitmask
                assertEquals(31, (word >>> 5) & 0x1F);
                x = decodeBitMask((word >>> 22) & 1, (word >>> 16) & 0x3F, (word >>> 10) & 0x3F);
                continue;
            }
            int opc = (word >>> 29) & 3;
            assertEquals(0x12800000, word & 0x1F800000, "a move-wide instruction");
            int shift = ((word >>> 21) & 3) * 16;
            long imm16 = (word >>> 5) & 0xFFFF;
            x = switch (opc) {
                case 0 -> ~(imm16 << shift);
                case 2 -> imm16 << shift;
                case 3 -> (x & ~(0xFFFFL << shift)) | imm16 << shift;
                default -> throw new AssertionError("unexpected opc " + opc);
            };
        }
        return x;
    }

    @Test
    void movImmLoadsEveryKindOfConstant() {
        Random rnd = new Random(11);
        List<Long> values = new ArrayList<>(List.of(0L, 1L, -1L, Long.MAX_VALUE, Long.MIN_VALUE, 0x123456789ABCDEF0L,
            0xFFFF0000FFFF0000L, 0x0000FFFF0000FFFFL, 0xFFFFFFFF00001234L, 0x12340000FFFFFFFFL, 0xd428bc00L));
        for (int i = 0; i < 20_000; i++) {
            long v = rnd.nextLong();
            int mode = i % 4;
            if (mode == 1) {
                v &= 0xFFFF0000FFFFL;
            } else if (mode == 2) {
                v |= 0xFFFF0000FFFF0000L;
            } else if (mode == 3) {
                v >>= rnd.nextInt(64);
            }
            values.add(v);
        }
        for (long v : values) {
            assertEquals(v, simulateMovImm(v), () -> "0x" + Long.toHexString(v));
        }
    }

    @Test
    void branchesOutOfRangeThrowAtLink() {
        CodeBuffer buf = new CodeBuffer();
        Aarch64Assembler a = new Aarch64Assembler(buf);
        Label far = new Label("far");
        a.cbz(X0, far);
        for (int k = 0; k < (1 << 20) / 4; k++) {
            buf.u32(0);
        }
        a.bind(far);
        assertThrows(IllegalStateException.class, () -> buf.link(0));
    }

    @Test
    void operandChecksThrow() {
        Aarch64Assembler a = new Aarch64Assembler(new CodeBuffer());
        assertThrows(IllegalArgumentException.class, () -> a.add(SP, X0, X1));
        assertThrows(IllegalArgumentException.class, () -> a.addImm(XZR, X0, 1, false));
        assertThrows(IllegalArgumentException.class, () -> a.addImm(X0, X0, 4096, false));
        assertThrows(IllegalArgumentException.class, () -> a.andImm(X0, X0, 0x1234));
        assertThrows(IllegalArgumentException.class, () -> a.ldr(X0, X1, 257));
        assertThrows(IllegalArgumentException.class, () -> a.ldr(X0, X1, 32768));
        assertThrows(IllegalArgumentException.class, () -> a.ldr(X0, XZR, 0));
        assertThrows(IllegalArgumentException.class, () -> a.lslImm(X0, X0, 0));
        assertThrows(IllegalArgumentException.class, () -> a.lslImm(X0, X0, 64));
        assertThrows(IllegalArgumentException.class, () -> a.stxr(X1, X1, X2));
        assertThrows(IllegalArgumentException.class, () -> a.stp(X0, X1, SP, 4, PairMode.OFFSET));
        assertThrows(IllegalArgumentException.class, () -> a.stp(X0, X1, SP, 512, PairMode.OFFSET));
        assertThrows(IllegalArgumentException.class, () -> a.movz(X0, 0x10000, 0));
        assertThrows(IllegalArgumentException.class, () -> a.movz(X0, 1, 8));
        assertThrows(IllegalArgumentException.class, () -> a.blr(XZR));
        assertEquals(0, a.buffer().position(), "nothing emitted");
    }
}
