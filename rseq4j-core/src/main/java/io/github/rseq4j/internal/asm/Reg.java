package io.github.rseq4j.internal.asm;

/**
 * A virtual register of an operation template. Templates name registers only through
 * these handles; each architecture back end maps them to machine registers.
 *
 * @param id     dense number given by the back end
 * @param name   what the template uses it for (shows in disassembly notes and errors)
 */
public record Reg(int id, String name) {}
