package io.github.rseq4j.internal.asm;

/**
 * Addresses of the generated functions that register and unregister rseq4j's own areas.
 * Each does its whole job inside one native call, on the OS thread that runs it, so a
 * virtual thread cannot change carrier half-way. Each {@link Backend} generates them.
 *
 * @param register   {@code long register(area, len, sig, key, refused)}: 0 when the calling
 *                   thread is now registered with {@code area}; 1 when it already was
 *                   (through the key; area unused); 2 when an earlier attempt was refused;
 *                   3 when the key could not be set and the registration could not be
 *                   undone either (the area must then never be reused);
 *                   {@code -errno} when the kernel refused (the thread is then marked
 *                   refused through the key, so later calls answer 2 at once)
 * @param unregister {@code long unregister(area, len, sig, key)}: 0 when the calling thread's
 *                   registration with {@code area} is gone and the key cleared; -errno otherwise
 * @param destructor {@code void destructor(area)}: the key's destructor, run by the C
 *                   library at thread exit; unregisters and marks the area free
 */
public record RegistrationStubs(long register, long unregister, long destructor) {
}
