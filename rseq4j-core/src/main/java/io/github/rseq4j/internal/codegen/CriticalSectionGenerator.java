package io.github.rseq4j.internal.codegen;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.abi.OpResult;

import io.github.rseq4j.internal.asm.Cond;
import io.github.rseq4j.internal.asm.MacroAssembler;
import io.github.rseq4j.internal.asm.Ordering;
import io.github.rseq4j.internal.asm.Reg;

import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.abi.SliceLayout;

/**
 * Wraps an {@link OperationTemplate} body in the skeleton every rseq operation shares.
 *
 * <p><b>Implementation notes.</b> The emitted function is:
 * <pre>
 *   area = locate the thread's rseq area        (or return NOT_REGISTERED)
 *   token = base &gt;&gt;&gt; 48; base &amp;= 2^48 - 1      (the owner token rides in base's top bits)
 *   attempts = 0                               (a register; on x86-64 the stack's red zone)
 * restart:
 *   area.rseq_cs = &amp;descriptor                 (arm)
 * start:                                        --- critical section begins
 *   idx = area.cpu_id;  if idx &lt; 0 return NOT_REGISTERED
 *   [CONCURRENCY_ID] idx = area.mm_cid
 *   if idx &gt;= slices return STOPPED           (never past the mapping)
 *   (delay point 1)
 *   slice = base + (idx &lt;&lt; strideShift)
 *   if slice.owner != token return STOPPED    (stopped, closed, or another owner's)
 *   body ...                                    (may exit with a decided failure)
 *   (delay point 2)
 *   committing store                            --- last instruction of the section
 * postCommit:
 *   (delay point 3)
 *   return idx (or the body's result)
 *   signature
 * abort:                                        the kernel resumes here
 *   abortCounter++ (atomic, slow path only)
 *   if ++attempts &lt; maxAttempts goto restart
 *   return ABORTED
 *   descriptor: {0, 0, start, postCommit - start, abort}
 * </pre>
 * Everything between {@code start} and the commit only reads shared memory or writes
 * memory private to the caller, so it is safe to redo after an abort. The index is read
 * inside the section, so a preempted, migrated or signalled thread can never commit to a
 * slice that is not its own. Exits before the commit leave the section by jumping out
 * of the range, which the kernel ignores. The owner check is what the stop-and-fence
 * protocol relies on: a stopper changes the word from the token to another value, then a
 * membarrier(RSEQ) fence aborts any section that had already read the token. It is also
 * what keeps a stale caller out of a reused range: a section called for an owner that
 * has since been closed carries that owner's token, and the word now holds 0 (pages
 * given back) or the next owner's token, so it fails with STOPPED instead of committing
 * into memory another owner holds. The token is split off {@code base} before the
 * section (once per call, not per attempt), so the section itself compares with a
 * register instead of with zero: {@code cmp [slice], token; jne} on x86-64, the same
 * count as {@code cmp [slice], 0; jne}; {@code ldr; cmp; b.ne} on aarch64, one more than
 * {@code ldr; cbnz}.
 */
public final class CriticalSectionGenerator {
    private CriticalSectionGenerator() {}

    /** Temporaries every function has: area, slice, index, token, and attempts unless the back end keeps it in memory. */
    private static int fixedTemps(MacroAssembler a) {
        return a.attemptsInMemory() ? 4 : 5;
    }

    /**
     * The labels of one emitted function: its entry, its {@code rseq_cs} descriptor, and
     * the critical section's start, post-commit and abort addresses (for dumps and checks
     * of code generated for another architecture).
     *
     * @param entry      the function's first instruction
     * @param descriptor the function's {@code struct rseq_cs}
     * @param start      the first instruction of the critical section ({@code start_ip})
     * @param postCommit the first instruction after the commit
     * @param abort      the abort handler, right after the signature ({@code abort_ip})
     */
    public record Function(Label entry, Label descriptor, Label start, Label postCommit, Label abort) {}

    /**
     * Emits {@code template} into {@code a}; returns the label of the function's entry.
     *
     * @param a        the assembler to emit into
     * @param template the operation whose body goes inside the critical section
     * @param cfg      the index field, slice geometry, attempt budget and delay settings
     * @return the label of the emitted function's entry
     */
    public static Label emit(MacroAssembler a, OperationTemplate template, GeneratorConfig cfg) {
        return emitFunction(a, template, cfg).entry();
    }

    /**
     * Emits {@code template} into {@code a}.
     *
     * @param a        the macro-assembler to emit into
     * @param template the operation
     * @param cfg      how to instantiate it
     * @return the function's labels
     */
    public static Function emitFunction(MacroAssembler a, OperationTemplate template, GeneratorConfig cfg) {
        Label entry = a.label(template.name());
        a.bind(entry);
        int delayTemps = cfg.delays() ? 1 : 0;
        int fixed = fixedTemps(a);
        a.enter(template.args(), fixed + template.temps() + delayTemps);
        Reg area = a.temp(0);
        Reg slice = a.temp(1);
        Reg index = a.temp(2);
        Reg token = a.temp(3);
        Reg attempts = a.attemptsInMemory() ? null : a.temp(4);
        Reg delayScratch = delayTemps == 1 ? a.temp(fixed + template.temps()) : null;

        Label notRegistered = a.label("notRegistered");
        Label stopped = a.label("stopped");
        Label restart = a.label("restart");
        Label start = a.label("start");
        Label postCommit = a.label("postCommit");
        Label abort = a.label("abort");
        Label descriptor = a.label("descriptor");

        a.locateArea(area, notRegistered);
        a.splitTag(a.arg(0), token, SliceLayout.TOKEN_BITS);
        a.resetAttempts(attempts);
        a.bind(restart);
        a.armCriticalSection(area, descriptor, index);
        a.bind(start);
        a.loadInt32(index, area, RseqAbi.CPU_ID);
        a.branchImm(Cond.LT, index, 0, notRegistered);
        if (cfg.indexField() == IndexField.MM_CID) {
            a.loadInt32(index, area, RseqAbi.MM_CID);
        }
        // An index the slices do not cover (a CPU that appeared after start-up) never
        // reaches memory: report the slice as unavailable and let the fallback pick one.
        a.branchImm(Cond.GE_UNSIGNED, index, cfg.slices(), stopped);
        delayAt(1, a, cfg, delayScratch);
        a.mov(slice, index);
        a.shlImm(slice, cfg.strideShift());
        a.add(slice, a.arg(0));
        a.branchIfMemNotEqualAcquire(slice, SliceLayout.OWNER_WORD_OFFSET, token, stopped);

        Body body = new Body(a, template, slice, index, fixed, cfg, delayScratch, postCommit);
        template.body(body);
        if (!body.committed) {
            throw new IllegalStateException(template.name() + ": body emitted no commit");
        }
        delayAt(3, a, cfg, delayScratch);
        a.returnReg(body.result == null ? index : body.result);

        a.bind(notRegistered);
        a.returnImm(OpResult.NOT_REGISTERED);
        a.bind(stopped);
        a.returnImm(OpResult.STOPPED);
        for (var f : body.failures.entrySet()) {
            a.bind(f.getValue());
            a.returnImm(f.getKey());
        }

        a.abortSignature();
        a.bind(abort);
        if (cfg.abortCounterAddress() != 0) {
            a.atomicIncrement(cfg.abortCounterAddress(), index);
        }
        a.countAttemptAndBranchIfBelow(attempts, cfg.maxAttempts(), restart);
        a.returnImm(OpResult.ABORTED);

        a.descriptor(descriptor, start, postCommit, abort);
        return new Function(entry, descriptor, start, postCommit, abort);
    }

    private static void delayAt(int point, MacroAssembler a, GeneratorConfig cfg, Reg scratch) {
        if (cfg.delays() && cfg.delayPoint() == point) {
            a.delay(cfg.delayLoops(), scratch);
        }
    }

    private static final class Body implements CriticalSection {
        private final MacroAssembler a;
        private final OperationTemplate template;
        private final Reg slice;
        private final Reg index;
        /** Decided-failure exits the body asked for, by result code, in first-use order. */
        final java.util.Map<Long, Label> failures = new java.util.LinkedHashMap<>();
        private final GeneratorConfig cfg;
        private final Reg delayScratch;
        private final Label postCommit;
        /** The temporaries before the body's: {@link #fixedTemps}. */
        private final int fixed;
        boolean committed;
        Reg result;

        Body(MacroAssembler a, OperationTemplate template, Reg slice, Reg index, int fixed,
             GeneratorConfig cfg, Reg delayScratch, Label postCommit) {
            this.fixed = fixed;
            this.a = a;
            this.template = template;
            this.slice = slice;
            this.index = index;
            this.cfg = cfg;
            this.delayScratch = delayScratch;
            this.postCommit = postCommit;
        }

        @Override
        public MacroAssembler asm() {
            return a;
        }

        @Override
        public Reg arg(int i) {
            return a.arg(i);
        }

        @Override
        public Reg temp(int i) {
            if (i < 0 || i >= template.temps()) {
                throw new IllegalArgumentException(template.name() + " declared " + template.temps() + " temps");
            }
            return a.temp(fixed + i);
        }

        @Override
        public Reg slice() {
            return slice;
        }

        @Override
        public Reg index() {
            return index;
        }

        @Override
        public Label fail(long code) {
            if (OpResult.decided(code) && code < 0) {
                return failures.computeIfAbsent(code, c -> a.label("fail" + c));
            }
            throw new IllegalArgumentException(template.name() + ": not a decided failure: " + OpResult.describe(code));
        }

        @Override
        public void commit(Reg base, Reg idx, int disp, Reg src, Ordering ordering) {
            if (committed) {
                throw new IllegalStateException(template.name() + ": a critical section commits once");
            }
            delayAt(2, a, cfg, delayScratch);
            a.storeOrdered(base, idx, disp, src, ordering);
            a.bind(postCommit);
            committed = true;
        }

        @Override
        public void result(Reg value) {
            result = value;
        }
    }
}
