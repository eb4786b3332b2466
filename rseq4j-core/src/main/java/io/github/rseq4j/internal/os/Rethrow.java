package io.github.rseq4j.internal.os;

/** Turns a {@code Throwable} from {@code invokeExact} into an unchecked one. */
public final class Rethrow {
    private Rethrow() {}

    /** Returns a runtime exception to throw; rethrows errors as they are. */
    public static RuntimeException unchecked(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
