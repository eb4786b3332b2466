package io.github.rseq4j.internal.registration;

/** How rseq4j finds the rseq areas of this process's threads. */
public enum RegistrationStrategy {
    /** glibc (2.35+) registered every thread; areas are at thread pointer + {@code __rseq_offset}. */
    GLIBC,
    /** rseq4j registers threads itself, lazily, and finds areas through a pthread key. */
    OWN,
    /** No registration: portable mode. */
    NONE
}
