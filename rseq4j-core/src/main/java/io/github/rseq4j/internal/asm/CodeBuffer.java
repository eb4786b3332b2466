package io.github.rseq4j.internal.asm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A growable little-endian byte buffer for machine code, with labels and two kinds of
 * late-bound references:
 * <ul>
 *   <li>relative: a 32-bit displacement from the end of an instruction to a label
 *       (branches, rip-relative operands), patched when the buffer is {@linkplain #link linked};</li>
 *   <li>relative inside an instruction word: a field of a 32-bit instruction that holds the
 *       distance from the instruction to a label (fixed-width instruction sets such as
 *       aarch64), patched by a back-end {@link WordPatch} when the buffer is linked;</li>
 *   <li>absolute: a 64-bit address of a label, which needs the load address and so is
 *       also patched in {@link #link(long)} (rseq_cs descriptors hold absolute addresses).</li>
 * </ul>
 * Architecture-neutral: back ends append bytes and register references.
 */
public final class CodeBuffer {
    private byte[] bytes = new byte[256];
    private int size;
    private final List<Fixup> fixups = new ArrayList<>();

    private record Fixup(int at, Label target, Kind kind, int endOfInstruction, WordPatch patch) {}

    private enum Kind { REL32, ABS64, WORD }

    /**
     * Puts a PC-relative distance into a 32-bit instruction word (for example the 26-bit
     * word offset of an aarch64 branch). Must throw when the distance does not fit.
     */
    @FunctionalInterface
    public interface WordPatch {
        /**
         * @param word     the instruction as emitted (after an earlier link, with the field
         *                 already filled: clear it before filling it again)
         * @param distance target minus the instruction's own offset, in bytes
         * @return the instruction with the field filled in
         */
        int apply(int word, long distance);
    }

    /** Current size, which is also the offset of the next byte. */
    public int position() {
        return size;
    }

    public void bind(Label label) {
        if (label.isBound()) {
            throw new IllegalStateException("label bound twice: " + label);
        }
        label.position = size;
    }

    private void ensure(int more) {
        if (size + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
        }
    }

    public void u8(int b) {
        ensure(1);
        bytes[size++] = (byte) b;
    }

    public void u16(int v) {
        u8(v);
        u8(v >>> 8);
    }

    public void u32(int v) {
        u16(v);
        u16(v >>> 16);
    }

    public void u64(long v) {
        u32((int) v);
        u32((int) (v >>> 32));
    }

    /** Pads with {@code fill} until the position is a multiple of {@code alignment}. */
    public void align(int alignment, int fill) {
        while (size % alignment != 0) {
            u8(fill);
        }
    }

    /**
     * Emits a 32-bit placeholder for the displacement of {@code target} measured from
     * {@code trailingBytes} bytes after the placeholder (the end of the instruction).
     */
    public void rel32(Label target, int trailingBytes) {
        fixups.add(new Fixup(size, target, Kind.REL32, size + 4 + trailingBytes, null));
        u32(0);
    }

    /**
     * Emits the 32-bit instruction {@code word}, whose PC-relative field {@code patch} fills
     * in with the distance from this instruction to {@code target} when the buffer is linked.
     */
    public void word32(int word, Label target, WordPatch patch) {
        fixups.add(new Fixup(size, target, Kind.WORD, size, patch));
        u32(word);
    }

    /** Emits a 64-bit placeholder for the absolute address of {@code target}. */
    public void abs64(Label target) {
        fixups.add(new Fixup(size, target, Kind.ABS64, 0, null));
        u64(0);
    }

    /** Patches a 32-bit value already emitted at {@code at}. */
    public void patch32(int at, int value) {
        for (int i = 0; i < 4; i++) {
            bytes[at + i] = (byte) (value >>> (8 * i));
        }
    }

    private int read32(int at) {
        return (bytes[at] & 0xFF) | (bytes[at + 1] & 0xFF) << 8 | (bytes[at + 2] & 0xFF) << 16 | (bytes[at + 3] & 0xFF) << 24;
    }

    private void patch64(int at, long value) {
        patch32(at, (int) value);
        patch32(at + 4, (int) (value >>> 32));
    }

    /**
     * Resolves every reference for a buffer that will be placed at {@code loadAddress},
     * and returns the finished bytes.
     */
    public byte[] link(long loadAddress) {
        for (Fixup f : fixups) {
            int target = f.target().position();
            switch (f.kind()) {
                case REL32 -> patch32(f.at(), target - f.endOfInstruction());
                case ABS64 -> patch64(f.at(), loadAddress + target);
                case WORD -> patch32(f.at(), f.patch().apply(read32(f.at()), (long) target - f.at()));
            }
        }
        return Arrays.copyOf(bytes, size);
    }

    /** The bytes so far, with unresolved references left as zeros (for tests). */
    public byte[] toByteArray() {
        return Arrays.copyOf(bytes, size);
    }
}
