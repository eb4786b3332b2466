package io.github.rseq4j;

/** Who registered a thread's rseq area, or how rseq4j finds the areas of this process. */
public enum RegistrationKind {
    /** glibc (2.35+) registered the thread; rseq4j only uses and counts it. */
    GLIBC,
    /** rseq4j registered the thread itself (the C library registered nothing). */
    OWN,
    /** No registration: portable mode, or the kernel refused (operations take the fallback path). */
    NONE
}
