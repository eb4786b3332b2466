package io.github.rseq4j.internal.asm;

/**
 * How generated code finds the calling thread's rseq area, with no Java state involved
 * (a virtual thread may have changed carrier since any Java-side lookup).
 */
public sealed interface AreaLocation {

    /** glibc's area: thread pointer + {@code __rseq_offset}. */
    record ThreadPointerOffset(long offset) implements AreaLocation {}

    /**
     * rseq4j's own area: {@code pthread_getspecific(key)}, called from the generated code;
     * a null result means the thread is not registered.
     */
    record PthreadKey(int key, long getspecificAddress) implements AreaLocation {}
}
