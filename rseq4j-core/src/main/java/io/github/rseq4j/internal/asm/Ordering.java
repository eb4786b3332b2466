package io.github.rseq4j.internal.asm;

/**
 * Memory ordering of the committing store of a critical section.
 * {@link #RELAXED}: no ordering beyond the store itself. {@link #RELEASE}: every load and
 * store before it in program order is visible to a thread that observes the store with
 * acquire ordering. On x86-64 (TSO) both produce a plain store; on weaker architectures
 * a back end emits a store-release for {@code RELEASE}.
 */
public enum Ordering { RELAXED, RELEASE }
