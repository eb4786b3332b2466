package io.github.rseq4j.internal.asm;


/**
 * The architecture-neutral instruction set that operation templates are written in.
 *
 * <p>Templates never see a machine register or an opcode: they ask for argument and
 * temporary {@link Reg}isters and emit these operations; a back end per architecture
 * (x86-64 and aarch64 today) chooses registers, saves what the platform ABI requires and encodes
 * instructions. The rseq-specific pieces (finding the thread's area, arming a critical
 * section, the signature before an abort handler, the {@code rseq_cs} descriptor) are
 * here too, because their encoding is per architecture while their place in a sequence
 * is not.
 *
 * <p>Calling convention of every generated function: up to six 64-bit integer arguments,
 * one 64-bit integer result.
 */
public interface MacroAssembler {

    /**
     * Starts a new function at the current position with {@code args} arguments and
     * {@code temps} temporaries. Temporaries are numbered from 0. Several functions may be
     * emitted into one buffer, one {@code enter} each.
     */
    void enter(int args, int temps);

    Reg arg(int index);

    Reg temp(int index);

    CodeBuffer buffer();

    default Label label(String name) {
        return new Label(name);
    }

    void bind(Label label);

    void mov(Reg dst, Reg src);

    void movImm(Reg dst, long imm);

    void add(Reg dst, Reg src);

    void addImm(Reg dst, long imm);

    void sub(Reg dst, Reg src);

    void and(Reg dst, Reg src);

    void andImm(Reg dst, long imm);

    void shlImm(Reg dst, int bits);

    /** dst = 64-bit load from [base + index + disp]; index may be null. */
    void load(Reg dst, Reg base, Reg index, int disp);

    /** dst = 32-bit load from [base + disp], sign-extended. */
    void loadInt32(Reg dst, Reg base, int disp);

    /** dst = the byte at [base + index + disp], zero-extended; index may be null. */
    void loadByte(Reg dst, Reg base, Reg index, int disp);

    /** Stores the low byte of src to [base + index + disp]; index may be null. */
    void storeByte(Reg base, Reg index, int disp, Reg src);

    /** 64-bit store of src to [base + index + disp]; index may be null. */
    void store(Reg base, Reg index, int disp, Reg src);

    /** 64-bit store with the given ordering (the committing store of a sequence). */
    void storeOrdered(Reg base, Reg index, int disp, Reg src, Ordering ordering);

    /** Branch when {@code a cond b}. */
    void branch(Cond cond, Reg a, Reg b, Label target);

    /** Branch when {@code a cond imm}. */
    void branchImm(Cond cond, Reg a, long imm, Label target);

    /**
     * Branch when the 64-bit word at [base + disp] is not equal to {@code value}, read with
     * acquire ordering: no later load or store is performed before this load (x86-64: any
     * load; aarch64: ldar).
     */
    void branchIfMemNotEqualAcquire(Reg base, int disp, Reg value, Label target);

    /**
     * Splits a tagged address: {@code tag = address >>> (64 - tagBits)}, then the top
     * {@code tagBits} bits of {@code address} are cleared. {@code tag} and {@code address}
     * must be different registers.
     *
     * @param address the register holding the tagged address; holds the plain address after
     * @param tag     the register that receives the tag
     * @param tagBits how many top bits hold the tag, 1 to 32
     */
    void splitTag(Reg address, Reg tag, int tagBits);

    /**
     * Checks a tag width for {@link #splitTag}.
     *
     * @param tagBits how many top bits hold the tag
     * @throws IllegalArgumentException when it is not 1 to 32
     */
    static void checkTagBits(int tagBits) {
        if (tagBits < 1 || tagBits > 32) {
            throw new IllegalArgumentException("tag bits must be 1 to 32: " + tagBits);
        }
    }

    void jump(Label target);

    /**
     * Whether the attempt counter of a generated function lives in memory of its own (then
     * {@link #resetAttempts} and {@link #countAttemptAndBranchIfBelow} ignore their register
     * argument, and the generator allocates none for it). A register is the default;
     * x86-64 keeps the counter in its stack red zone, so that the register it saves spares
     * the function a callee-saved register's save and restore on every call.
     *
     * @return {@code true} when the counter needs no register
     */
    default boolean attemptsInMemory() {
        return false;
    }

    /**
     * Sets the attempt counter to 0, once at the function's entry, outside any critical
     * section.
     *
     * @param counter the counter's register, or null when {@link #attemptsInMemory()}
     */
    default void resetAttempts(Reg counter) {
        movImm(counter, 0);
    }

    /**
     * Counts one attempt (in the abort handler, outside the critical section) and branches
     * to {@code target} while fewer than {@code max} attempts were made.
     *
     * @param counter the counter's register, or null when {@link #attemptsInMemory()}
     * @param max     the attempt budget, 1 or more
     * @param target  where another attempt starts
     */
    default void countAttemptAndBranchIfBelow(Reg counter, int max, Label target) {
        addImm(counter, 1);
        branchImm(Cond.LT, counter, max, target);
    }

    /** Restores what {@link #enter} saved and returns {@code value}. */
    void returnReg(Reg value);

    /** Restores what {@link #enter} saved and returns the constant. */
    void returnImm(long value);

    /** Atomically adds one to the 64-bit counter at an absolute address (slow paths only). */
    void atomicIncrement(long address, Reg scratch);

    /** A busy loop of {@code loops} iterations (stress builds only). */
    void delay(long loops, Reg scratch);

    // ------------------------------------------------------------------ rseq pieces

    /**
     * Loads the address of the calling thread's rseq area into {@code area}, or jumps to
     * {@code notRegistered} when the thread has none. Reads nothing cached in Java.
     */
    void locateArea(Reg area, Label notRegistered);

    /**
     * Stores the address of the descriptor at {@code descriptor} into area.rseq_cs, using
     * {@code scratch} to form the address.
     */
    void armCriticalSection(Reg area, Label descriptor, Reg scratch);

    /** Emits the signature; the abort handler label must be bound right after it. */
    void abortSignature();

    /** Emits a 32-byte aligned {@code struct rseq_cs} at {@code descriptor}. */
    void descriptor(Label descriptor, Label start, Label postCommit, Label abort);
}
