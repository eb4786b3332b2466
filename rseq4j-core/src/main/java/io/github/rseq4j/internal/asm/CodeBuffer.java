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
 *   <li>absolute: a 64-bit address of a label, which needs the load address and so is
 *       also patched in {@link #link(long)} (rseq_cs descriptors hold absolute addresses).</li>
 * </ul>
 * Architecture-neutral: back ends append bytes and register references.
 */
public final class CodeBuffer {
    private byte[] bytes = new byte[256];
    private int size;
    private final List<Fixup> fixups = new ArrayList<>();

    private record Fixup(int at, Label target, Kind kind, int endOfInstruction) {}

    private enum Kind { REL32, ABS64 }

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
        fixups.add(new Fixup(size, target, Kind.REL32, size + 4 + trailingBytes));
        u32(0);
    }

    /** Emits a 64-bit placeholder for the absolute address of {@code target}. */
    public void abs64(Label target) {
        fixups.add(new Fixup(size, target, Kind.ABS64, 0));
        u64(0);
    }

    /** Patches a 32-bit value already emitted at {@code at}. */
    public void patch32(int at, int value) {
        for (int i = 0; i < 4; i++) {
            bytes[at + i] = (byte) (value >>> (8 * i));
        }
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
            }
        }
        return Arrays.copyOf(bytes, size);
    }

    /** The bytes so far, with unresolved references left as zeros (for tests). */
    public byte[] toByteArray() {
        return Arrays.copyOf(bytes, size);
    }
}
