package io.github.rseq4j.internal.arch.x86_64;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.abi.SliceLayout;
import io.github.rseq4j.internal.asm.AreaLocation;
import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.asm.MacroAssembler;
import io.github.rseq4j.internal.codegen.CriticalSectionGenerator;
import io.github.rseq4j.internal.codegen.GeneratorConfig;
import io.github.rseq4j.internal.codegen.PerCpuOperation;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The rseq invariants of every generated critical section, checked on the machine code
 * itself: each {@link PerCpuOperation} is generated for x86-64 exactly as
 * {@code OperationSet.generate} does (all operations into one buffer), for both
 * {@link IndexField}s, both ways of finding the area, and every delay point, then linked
 * at a made-up address (nothing is installed or run) and disassembled with GNU
 * {@code objdump}. Skipped (not passed) when objdump is not installed.
 *
 * <p>Checked for each function, from its {@code rseq_cs} descriptor (the last 32 bytes the
 * generator emits for it) and the disassembly:
 * <ul>
 *   <li>the descriptor: version 0, flags 0, 32-byte aligned, {@code start_ip} inside the
 *       function, {@code post_commit_offset > 0}, {@code abort_ip} right after the 4-byte
 *       signature {@code 0x53053053} carried by a {@code ud1}, and the abort handler outside
 *       {@code [start_ip, start_ip + post_commit_offset)};</li>
 *   <li>the section is armed right before it starts ({@code lea} of the descriptor, then a
 *       store to {@code rseq_cs}), its first instruction reads {@code cpu_id}, and it reads
 *       {@code mm_cid} exactly when generated for {@link IndexField#MM_CID};</li>
 *   <li>the instruction that ends at {@code post_commit_offset} is a 64-bit store to
 *       memory: the commit is the last instruction of the section;</li>
 *   <li>between {@code start_ip} and the commit: no store except the operation's declared
 *       speculative stores (the ring write's copy, the push's {@code node.next}), none before
 *       the stopped word is checked; no call, no system call, no push or pop, nothing that
 *       touches the stack pointer; no jump from outside the section lands inside it.</li>
 * </ul>
 */
class X86_64CriticalSectionInvariantsTest {

    /** Where the buffers are linked: any address will do, nothing runs. */
    private static final long LOAD = 0x7f5a_0000_0000L;
    private static final int SLICES = 3;
    private static final long ABORT_COUNTER = 0x7f5b_0000_1000L;

    /**
     * Stores an operation may make inside its section before the commit, by instruction
     * (a template change that adds or removes one must change this too).
     */
    private static int speculativeStores(PerCpuOperation op) {
        return switch (op) {
            case ADD, COMPARE_AND_STORE, COMPARE_AND_STORE_RELEASE, COMPARE2_AND_STORE, POP, BOUNDED_POP -> 0;
            case COMPARE_INDEX_AND_STORE -> 0;
            case BOUNDED_PUSH, LOG_APPEND -> 1;  // entries[count] = value
            case LOG_APPEND_PAIR -> 2;   // the entry's tag and value
            case PUSH -> 1;          // node.next = head
            // the record header; not wrapping: the word loop, the last (overlapping) word, the
            // byte loop of a payload under 8 bytes; wrapping: the masked word loop and byte loop
            case RING_WRITE -> 6;
        };
    }

    private static final Set<String> FORBIDDEN = Set.of(
            "call", "syscall", "sysenter", "int", "int1", "int3", "into", "ret", "iret", "iretq", "hlt",
            "push", "pushf", "pushfq", "pop", "popf", "popfq", "enter", "leave", "ud2");

    /** Mnemonics whose first operand may be memory without being written. */
    private static final Set<String> READS_FIRST_OPERAND = Set.of("cmp", "test", "bt", "nop", "prefetcht0",
            "prefetcht1", "prefetcht2", "prefetchnta", "prefetchw", "jmp", "ud1");

    /** The memory operand of the owner check: [slice + OWNER_WORD_OFFSET]. */
    private static final String STOPPED_WORD = "QWORD PTR \\[\\w+"
            + (SliceLayout.OWNER_WORD_OFFSET == 0 ? "" : "\\+0x" + Integer.toHexString(SliceLayout.OWNER_WORD_OFFSET)) + "]";

    private static final Pattern STACK_POINTER = Pattern.compile("\\b(rsp|esp|sp|spl)\\b");

    // ---------------------------------------------------------------- generation

    /** One generator configuration. */
    private record Config(IndexField field, String locationName, AreaLocation location, int delayPoint) {
        GeneratorConfig generatorConfig() {
            return new GeneratorConfig(field, SliceLayout.STRIDE_SHIFT, 8, delayPoint, delayPoint == 0 ? 0 : 100,
                    ABORT_COUNTER, SLICES);
        }

        @Override
        public String toString() {
            return field + ", " + locationName + ", delay " + (delayPoint == 0 ? "none" : "at point " + delayPoint);
        }
    }

    /** One generated function: where it lies in its linked buffer. */
    private record Function(Config config, PerCpuOperation op, byte[] linked, int entry, int descriptor) {
        byte[] code() {
            return Arrays.copyOfRange(linked, entry, descriptor);
        }
    }

    private static List<Config> configs() {
        List<Config> out = new ArrayList<>();
        for (IndexField field : IndexField.values()) {
            for (int delay = 0; delay <= GeneratorConfig.DELAY_POINTS; delay++) {
                out.add(new Config(field, "glibc area", new AreaLocation.ThreadPointerOffset(2336), delay));
                out.add(new Config(field, "own area", new AreaLocation.PthreadKey(7, 0x7f5c_0000_2000L), delay));
            }
        }
        return out;
    }

    /** Generates every operation for {@code c} into one buffer, as OperationSet.generate does, and links it. */
    private static List<Function> generate(Config c) {
        MacroAssembler a = X86_64Backend.INSTANCE.newAssembler(c.location());
        List<int[]> spans = new ArrayList<>();
        for (PerCpuOperation op : PerCpuOperation.values()) {
            Label entry = CriticalSectionGenerator.emit(a, op, c.generatorConfig());
            int end = a.buffer().position();          // the descriptor is the last thing emitted
            spans.add(new int[]{entry.position(), end - RseqAbi.CS_SIZE});
        }
        byte[] linked = a.buffer().link(LOAD);
        List<Function> out = new ArrayList<>();
        for (PerCpuOperation op : PerCpuOperation.values()) {
            int[] s = spans.get(op.ordinal());
            out.add(new Function(c, op, linked, s[0], s[1]));
        }
        return out;
    }

    // ---------------------------------------------------------------- disassembly

    /** One decoded instruction; offsets are from the start of the linked buffer. */
    private record Insn(int at, int length, String mnemonic, List<String> operands, Long commentTarget, String text) {
        int end() {
            return at + length;
        }

        boolean hasMemoryOperand(int i) {
            return i < operands.size() && (operands.get(i).contains("[") || operands.get(i).contains("PTR"));
        }

        boolean writesMemory() {
            if (mnemonic.startsWith("stos") || mnemonic.startsWith("movs") && !mnemonic.equals("movsxd")
                    && !mnemonic.equals("movsx") || mnemonic.equals("xchg") && (hasMemoryOperand(0) || hasMemoryOperand(1))
                    || mnemonic.equals("xadd") && hasMemoryOperand(0) || mnemonic.startsWith("cmpxchg")) {
                return true;
            }
            return hasMemoryOperand(0) && !READS_FIRST_OPERAND.contains(mnemonic) && !mnemonic.startsWith("j");
        }

        /** The direct target of a jump, or -1. */
        int jumpTarget(int base) {
            if (!mnemonic.startsWith("j") || operands.size() != 1 || !operands.getFirst().startsWith("0x")) {
                return -1;
            }
            return base + Integer.parseInt(operands.getFirst().substring(2), 16);
        }

        @Override
        public String toString() {
            return Integer.toHexString(at) + ": " + text;
        }
    }

    private record Tool(boolean ok, String output) {}

    private static Tool run(Path dir, List<String> command) {
        try {
            Path out = dir.resolve("objdump-output.txt");
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

    private static final Pattern FILE_HEADER = Pattern.compile("^(\\S+):\\s+file format binary$");
    private static final Pattern LINE = Pattern.compile("^\\s*([0-9a-f]+):\\t([0-9a-f ]+)\\t(.*)$");
    private static final Set<String> PREFIXES = Set.of("lock", "rep", "repz", "repe", "repnz", "repne", "ss", "ds",
            "cs", "es", "fs", "gs", "data16", "addr32", "notrack", "bnd", "rex", "rex.W");

    /** Disassembles every function's code (entry to descriptor) in one objdump run. */
    private static Map<Function, List<Insn>> disassemble(Path dir, List<Function> functions) throws IOException {
        List<String> command = new ArrayList<>(List.of("objdump", "-D", "-z", "-b", "binary", "-m", "i386:x86-64",
                "-M", "intel", "--insn-width=15"));
        Map<String, Function> byFile = new HashMap<>();
        for (int i = 0; i < functions.size(); i++) {
            String name = "f" + i + ".bin";
            Files.write(dir.resolve(name), functions.get(i).code());
            command.add(name);
            byFile.put(name, functions.get(i));
        }
        Tool t = run(dir, command);
        assertTrue(t.ok(), "objdump failed:\n" + t.output());
        Map<Function, List<Insn>> out = new HashMap<>();
        Function current = null;
        for (String line : t.output().split("\n")) {
            Matcher h = FILE_HEADER.matcher(line.strip());
            if (h.matches()) {
                current = byFile.get(h.group(1));
                assertNotNull(current, "unexpected objdump section " + line);
                out.put(current, new ArrayList<>());
                continue;
            }
            Matcher m = LINE.matcher(line);
            if (current == null || !m.matches()) {
                continue;
            }
            int at = current.entry() + Integer.parseInt(m.group(1), 16);
            int length = m.group(2).strip().split(" ").length;
            String text = m.group(3).strip();
            Long comment = null;
            int hash = text.indexOf('#');
            if (hash >= 0) {
                String c = text.substring(hash + 1).strip();
                if (c.startsWith("0x")) {
                    comment = current.entry() + Long.parseLong(c.substring(2), 16);
                }
                text = text.substring(0, hash).strip();
            }
            String[] words = text.split("\\s+", -1);
            int w = 0;
            while (w < words.length - 1 && PREFIXES.contains(words[w])) {
                w++;
            }
            String mnemonic = words[w];
            String rest = String.join(" ", Arrays.copyOfRange(words, w + 1, words.length)).strip();
            List<String> operands = rest.isEmpty() ? List.of() : List.of(rest.split(","));
            out.get(current).add(new Insn(at, length, mnemonic, operands.stream().map(String::strip).toList(), comment,
                    m.group(3).strip()));
        }
        return out;
    }

    // ---------------------------------------------------------------- the checks

    @TestFactory
    List<DynamicNode> everyGeneratedCriticalSectionKeepsTheRseqRules(@TempDir Path dir) throws IOException {
        Tool version = run(dir, List.of("objdump", "--version"));
        assumeTrue(version.ok() && version.output().contains("GNU objdump"),
                "GNU objdump not installed: skipping the disassembly checks");
        List<Function> all = new ArrayList<>();
        List<Config> configs = configs();
        for (Config c : configs) {
            all.addAll(generate(c));
        }
        Map<Function, List<Insn>> code = disassemble(dir, all);
        List<DynamicNode> nodes = new ArrayList<>();
        for (Config c : configs) {
            List<DynamicNode> tests = new ArrayList<>();
            for (Function f : all) {
                if (f.config().equals(c)) {
                    tests.add(DynamicTest.dynamicTest(f.op().name(), () -> check(f, code.get(f))));
                }
            }
            nodes.add(DynamicContainer.dynamicContainer(c.toString(), tests));
        }
        return nodes;
    }

    private static long u64(byte[] b, int at) {
        return ByteBuffer.wrap(b, at, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static int u32(byte[] b, int at) {
        return ByteBuffer.wrap(b, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private static String listing(List<Insn> insns) {
        StringBuilder sb = new StringBuilder();
        for (Insn i : insns) {
            sb.append("  ").append(i).append('\n');
        }
        return sb.toString();
    }

    private static void check(Function f, List<Insn> insns) {
        assertNotNull(insns, "no disassembly for " + f.op());
        String where = f.op() + " (" + f.config() + ")\n" + listing(insns);
        byte[] b = f.linked();
        int d = f.descriptor();

        // The descriptor.
        assertEquals(0, d % RseqAbi.CS_SIZE, "descriptor 32-byte aligned: " + where);
        assertEquals(0, u32(b, d), "rseq_cs.version: " + where);
        assertEquals(0, u32(b, d + 4), "rseq_cs.flags: " + where);
        long startIp = u64(b, d + 8), postCommitOffset = u64(b, d + 16), abortIp = u64(b, d + 24);
        int start = Math.toIntExact(startIp - LOAD);
        int abort = Math.toIntExact(abortIp - LOAD);
        assertTrue(start > f.entry() && start < d, "start_ip inside the function: " + where);
        assertTrue(postCommitOffset > 0, "post_commit_offset > 0: " + where);
        int end = Math.toIntExact(start + postCommitOffset);
        assertTrue(end < d, "the section ends inside the function: " + where);
        assertTrue(abort > f.entry() && abort < d, "abort_ip inside the function: " + where);
        assertFalse(abort >= start && abort < end, "the abort handler lies outside the section: " + where);
        assertEquals(Arch.X86_64.signature(), u32(b, abort - 4), "the signature right before abort_ip: " + where);
        assertEquals(0x53053053, u32(b, abort - 4));

        // Instruction boundaries the descriptor names.
        Map<Integer, Insn> byStart = new HashMap<>();
        for (Insn i : insns) {
            assertFalse(i.text().contains("(bad)"), "undecodable instruction " + i + ": " + where);
            byStart.put(i.at(), i);
        }
        Insn first = byStart.get(start);
        assertNotNull(first, "start_ip is an instruction boundary: " + where);
        assertNotNull(byStart.get(end), "start_ip + post_commit_offset is an instruction boundary: " + where);
        Insn sig = byStart.get(abort - 7);
        assertNotNull(sig, "the signature is the tail of one instruction right before abort_ip: " + where);
        assertEquals("ud1", sig.mnemonic(), "the signature sits in a ud1, which traps if ever executed: " + where);
        assertEquals(abort, sig.end());
        assertNotNull(byStart.get(abort), "abort_ip is an instruction boundary: " + where);

        List<Insn> section = insns.stream().filter(i -> i.at() >= start && i.at() < end).toList();
        Insn commit = section.getLast();
        assertEquals(end, commit.end(), "the last instruction of the section ends at post_commit_offset: " + where);

        // Arming, right before the section.
        int arm = insns.indexOf(first) - 1;
        assertTrue(arm >= 1, where);
        Insn store = insns.get(arm), lea = insns.get(arm - 1);
        assertEquals("lea", lea.mnemonic(), "the descriptor's address is formed right before arming: " + where);
        assertEquals(Long.valueOf(d), lea.commentTarget(), "lea points at this function's descriptor: " + where);
        assertEquals("mov", store.mnemonic(), where);
        assertEquals(2, store.operands().size(), where);
        Matcher rseqCs = Pattern.compile("QWORD PTR \\[(\\w+)\\+0x" + Integer.toHexString(RseqAbi.RSEQ_CS) + "]")
                .matcher(store.operands().get(0));
        assertTrue(rseqCs.matches(), "the arming store writes area.rseq_cs: " + store + "\n" + where);
        assertEquals(lea.operands().get(0), store.operands().get(1), "it stores the descriptor's address: " + where);
        String area = rseqCs.group(1);

        // The index is read inside the section.
        assertEquals("movsxd", first.mnemonic(), "the section starts by reading cpu_id: " + where);
        assertEquals("DWORD PTR [" + area + "+0x" + Integer.toHexString(RseqAbi.CPU_ID) + "]", first.operands().get(1),
                where);
        long mmCidReads = section.stream().filter(i -> i.operands().size() == 2
                && i.operands().get(1).equals("DWORD PTR [" + area + "+0x" + Integer.toHexString(RseqAbi.MM_CID) + "]"))
                .count();
        assertEquals(f.config().field() == IndexField.MM_CID ? 1 : 0, mmCidReads, "reads of mm_cid: " + where);

        // The commit: a 64-bit store of a register.
        assertEquals("mov", commit.mnemonic(), "the committing store: " + commit + "\n" + where);
        assertTrue(commit.operands().get(0).startsWith("QWORD PTR ["), "a 64-bit store to memory: " + commit + "\n" + where);
        assertFalse(commit.hasMemoryOperand(1), where);

        // The owner token: split off the base (shr by 64 - TOKEN_BITS) once, before the section.
        List<Insn> before = insns.stream().filter(i -> i.at() >= f.entry() && i.at() < start).toList();
        List<Insn> splits = before.stream().filter(i -> i.mnemonic().equals("shr") && i.operands().size() == 2
                && i.operands().get(1).equals("0x" + Integer.toHexString(64 - SliceLayout.TOKEN_BITS))).toList();
        assertEquals(1, splits.size(), "the token is split off the base once, before the section: " + where);
        String token = splits.getFirst().operands().getFirst();

        // Nothing else in the section writes memory, calls, or touches the stack.
        int stopCheck = -1;
        List<Insn> stores = new ArrayList<>();
        for (int k = 0; k < section.size(); k++) {
            Insn i = section.get(k);
            assertFalse(FORBIDDEN.contains(i.mnemonic()), "forbidden in a critical section: " + i + "\n" + where);
            assertFalse(STACK_POINTER.matcher(i.text()).find(), "touches the stack pointer: " + i + "\n" + where);
            if (stopCheck < 0 && i.mnemonic().equals("cmp")
                    && i.operands().get(0).matches(STOPPED_WORD) && i.operands().get(1).equals(token)) {
                Insn jump = section.get(k + 1);
                int target = jump.jumpTarget(f.entry());
                assertEquals("jne", jump.mnemonic(), where);
                assertTrue(target < start || target >= end, "a stopped slice leaves the section: " + where);
                stopCheck = i.at();
            }
            if (i != commit && i.writesMemory()) {
                assertTrue(stopCheck >= 0, "a store before the owner word is checked: " + i + "\n" + where);
                stores.add(i);
            }
        }
        assertTrue(stopCheck >= 0, "the section compares the slice's owner word with the token: " + where);
        assertEquals(speculativeStores(f.op()), stores.size(), "stores before the commit " + stores + ": " + where);

        // Jumps from outside the section never land inside it (it would run un-armed after an abort).
        for (Insn i : insns) {
            int target = i.jumpTarget(f.entry());
            if (target >= 0 && (i.at() < start || i.at() >= end)) {
                assertFalse(target >= start && target < end, "a jump into the section from outside: " + i + "\n" + where);
            }
        }
        if (!f.op().equals(PerCpuOperation.RING_WRITE)) {
            // Straight-line sections: every jump inside leaves it (only the ring copy loops).
            for (Insn i : section) {
                int target = i.jumpTarget(f.entry());
                if (target >= 0) {
                    boolean loop = target >= start && target < end;
                    if (loop && f.config().delayPoint() != 0 && i.mnemonic().equals("jne")) {
                        continue;   // the injected delay loop
                    }
                    assertFalse(loop, "a jump inside a straight-line section: " + i + "\n" + where);
                }
            }
        }
    }
}
