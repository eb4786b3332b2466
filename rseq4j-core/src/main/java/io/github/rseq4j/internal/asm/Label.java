package io.github.rseq4j.internal.asm;

/**
 * A position in a {@link CodeBuffer}, bound once; references made before it is bound are
 * patched when it is.
 */
public final class Label {
    private final String name;
    int position = -1;

    public Label(String name) {
        this.name = name;
    }

    /** Whether {@link CodeBuffer#bind(Label)} has been called for it. */
    public boolean isBound() {
        return position >= 0;
    }

    /** Offset from the start of the buffer; only once bound. */
    public int position() {
        if (position < 0) {
            throw new IllegalStateException("label " + name + " is not bound");
        }
        return position;
    }

    @Override
    public String toString() {
        return name + (position >= 0 ? "@" + position : "(unbound)");
    }
}
