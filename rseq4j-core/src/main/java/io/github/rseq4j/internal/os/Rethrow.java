package io.github.rseq4j.internal.os;

/** Turns a {@code Throwable} from {@code invokeExact} into an unchecked one. */
public final class Rethrow {
    private Rethrow() {}

    /**
     * Returns a runtime exception to throw; rethrows errors as they are.
     *
     * @param t what a method handle invocation threw
     * @return {@code t} itself when it is a runtime exception, else an
     *         {@link IllegalStateException} wrapping it (checked exceptions)
     */
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
