/**
 * Per-CPU data structures for the JVM on Linux restartable sequences (rseq), with the same
 * API and guarantees where rseq is unavailable.
 *
 * <p>rseq4j generates each per-CPU operation as an rseq critical section (machine code made
 * at run time) and calls it through a {@code java.lang.foreign} critical downcall: the
 * operation reads the CPU it runs on and updates that CPU's copy of the data with no lock
 * and no atomic instruction; the kernel restarts it if the thread is preempted, migrated
 * or signalled before its single committing store. {@link io.github.rseq4j.Rseq#status()}
 * says what was detected and chosen.
 *
 * <h2>Data structures</h2>
 *
 * Ready to use; each documents its own memory and ordering guarantees.
 * <ul>
 * <li>{@link io.github.rseq4j.PerCpuCounter}: a drop-in for {@code LongAdder}, 8 bytes per
 *     CPU, with an exact {@code sumThenReset()}.</li>
 * <li>{@link io.github.rseq4j.PerCpuPool}: an object pool with a per-CPU cache of free
 *     objects, a shared depot and rebalancing.</li>
 * <li>{@link io.github.rseq4j.PerCpuBufferPool}: the same for fixed-size off-heap
 *     buffers.</li>
 * <li>{@link io.github.rseq4j.PerCpuRingBuffer}: per-CPU byte rings for recording events
 *     from any number of threads, drained by one consumer.</li>
 * </ul>
 * Pools hand out objects as the object itself ({@code acquire}, null when none is free)
 * or as a {@link io.github.rseq4j.Lease} for try-with-resources ({@code lease}, which
 * throws {@link java.util.NoSuchElementException} when none is free); the forms taking a
 * {@link java.time.Duration} wait that long. Ring drains take a
 * {@link io.github.rseq4j.RecordHandler}, which may throw checked exceptions.
 *
 * <h2>The low-level toolkit</h2>
 *
 * What the data structures are built on, for library authors:
 * <ul>
 * <li>{@link io.github.rseq4j.PerCpuMemory}: a slice of memory per CPU (or per
 *     concurrency id, see {@link io.github.rseq4j.IndexMode}), items at the same offset in
 *     every slice, and the stop protocol.</li>
 * <li>{@link io.github.rseq4j.StoppedSlice}: proof that the caller holds one slice
 *     stopped (from {@link io.github.rseq4j.PerCpuMemory#stop(int)} or
 *     {@link io.github.rseq4j.PerCpuMemory#tryStop(int)}); closing it restarts the
 *     slice.</li>
 * <li>{@link io.github.rseq4j.PerCpuItem}: 64-bit words of an item (add, compare-and-store,
 *     compare-two-and-store, reads of any slice).</li>
 * <li>{@link io.github.rseq4j.PerCpuList}: a per-CPU LIFO list of nodes (push, ABA-free
 *     pop, migrate, drain).</li>
 * <li>{@link io.github.rseq4j.PerCpuRing}: per-CPU byte rings (write, drain).</li>
 * <li>{@link io.github.rseq4j.PerCpuSpinLock}: a spin lock per slice.</li>
 * <li>{@link io.github.rseq4j.RseqResult}: the result codes of the operations above.</li>
 * </ul>
 *
 * <h2>Creating things</h2>
 *
 * One rule for the whole API:
 * <ul>
 * <li>A structure that stands alone and owns its memory has a public constructor, as
 *     {@code java.util.concurrent} does: {@code new PerCpuCounter()},
 *     {@code new PerCpuPool<>(factory, capacity)}, {@code new PerCpuBufferPool(size, n)},
 *     {@code new PerCpuRingBuffer(capacity, policy)}, {@code new PerCpuObjectCache<>(factory)},
 *     {@code new PerCpuHistogram(layout)}, {@code new PerCpuTimer()},
 *     {@code new HistogramGroup()}, {@code new PerCpuMemory(IndexMode.CPU_ID)}. Its
 *     {@code close()} gives the memory back.</li>
 * <li>A part that lives inside an owner is made by the owner, {@code owner.newX(...)}:
 *     {@link io.github.rseq4j.PerCpuMemory#newItem}, {@link io.github.rseq4j.PerCpuMemory#newList},
 *     {@link io.github.rseq4j.PerCpuMemory#newRing}, {@link io.github.rseq4j.PerCpuMemory#newSpinLock},
 *     {@link io.github.rseq4j.HistogramGroup#newSeries}, {@link io.github.rseq4j.HistogramGroup#newTimer}.
 *     Closing the owner ends its parts too.</li>
 * <li>An immutable value (a descriptor) has static factories named for what they make, as
 *     {@code java.time} does: {@link io.github.rseq4j.BucketLayout#logLinear},
 *     {@link io.github.rseq4j.BucketLayout#explicit}, {@link io.github.rseq4j.BucketLayout#exponential}.
 *     So a log-linear histogram is {@code new PerCpuHistogram(BucketLayout.logLinear(highest, precision))}.</li>
 * </ul>
 * The exporter modules follow the same rule, and assemble their collectors from many
 * registrations with a {@code builder()}, as the metrics libraries they plug into do.
 * {@link io.github.rseq4j.Rseq#status()} returns the process's status rather than making
 * one.
 *
 * <h2>Naming conventions</h2>
 *
 * <ul>
 * <li>{@code try*} (for example {@link io.github.rseq4j.PerCpuItem#tryAdd}): one raw
 *     attempt of the critical section, returning its {@link io.github.rseq4j.RseqResult}
 *     code: a slice index {@code >= 0} when it committed, else a negative code and nothing
 *     was stored. It never registers the thread and never takes the fallback path, so it
 *     returns {@link io.github.rseq4j.RseqResult#NOT_REGISTERED} in portable mode and on a
 *     thread with no rseq registration.</li>
 * <li>Methods without {@code try} always complete: when the critical section cannot
 *     commit (the thread is not registered, it was aborted too often, the slice is
 *     stopped) they finish on the stop-and-fence path, and report only success or a
 *     decision such as {@link io.github.rseq4j.RseqResult#COMPARE_FAILED} or
 *     {@link io.github.rseq4j.RseqResult#FULL}.</li>
 * <li>{@code *Stopped} (for example {@link io.github.rseq4j.PerCpuItem#setStopped},
 *     {@link io.github.rseq4j.PerCpuList#popStopped}): works with plain accesses on the
 *     slice held through the given {@link io.github.rseq4j.StoppedSlice}.</li>
 * <li>{@code *Release} (for example {@link io.github.rseq4j.PerCpuItem#compareAndStoreRelease}):
 *     the committing store has release ordering.</li>
 * </ul>
 *
 * <h2>Memory ordering</h2>
 *
 * <ul>
 * <li>A committed operation's store is atomic with respect to every other operation on the
 *     same slice (rseq makes the plain load-modify-store indivisible there), and relaxed
 *     with respect to other memory unless the method is named {@code *Release} or says it
 *     releases (a list push, a ring write).</li>
 * <li>Reads of other slices without stopping them ({@link io.github.rseq4j.PerCpuItem#get},
 *     {@link io.github.rseq4j.PerCpuItem#sum}, {@link io.github.rseq4j.PerCpuCounter#sum},
 *     {@link io.github.rseq4j.PerCpuList#isEmpty}) use acquire loads; a sum of slices is not
 *     a snapshot.</li>
 * <li>Stopping and restarting a slice give happens-before: stopping makes every operation
 *     committed to the slice before it visible to the stopper, and restarting (closing the
 *     {@link io.github.rseq4j.StoppedSlice}) publishes the holder's writes with a release
 *     store to whoever stops or operates on the slice next.</li>
 * <li>Pools: releasing an object or buffer happens-before its next acquisition.</li>
 * <li>Rings: everything a writer did before a write happens-before the consumer's handler
 *     call for that record.</li>
 * </ul>
 *
 * <h2>Modes</h2>
 *
 * Chosen once per process ({@link io.github.rseq4j.RseqStatus#mode()},
 * {@link io.github.rseq4j.RseqStatus#registrationStrategy()}):
 * <ul>
 * <li><b>rseq</b> with glibc's registration: glibc 2.35+ registered every thread, and
 *     rseq4j uses glibc's areas.</li>
 * <li><b>rseq with rseq4j's own registration</b>, where the C library registered nothing:
 *     rseq4j registers each thread on its first operation (or through
 *     {@link io.github.rseq4j.Rseq#register()} and {@link io.github.rseq4j.RseqThreads})
 *     and unregisters it when the thread exits.</li>
 * <li><b>portable</b> ({@link io.github.rseq4j.RseqStatus.Mode#PORTABLE}): no rseq (another
 *     OS or architecture, an old kernel, a seccomp filter, or {@code -Drseq4j.mode=portable});
 *     every operation runs in Java on a slice it locks through the slice's owner word.
 *     Same API, same guarantees, slower.</li>
 * </ul>
 * A thread without a usable registration (for example one the kernel refused because
 * something else had registered it first) runs its operations on the fallback path. The system properties {@code rseq4j.mode} ({@code auto}, {@code rseq},
 * {@code portable}), {@code rseq4j.fence} ({@code auto}, {@code affinity}) and
 * {@code rseq4j.maxAttempts} (1 to 1000000, default 8) and {@code rseq4j.stopWaitSeconds} (1 to
 * 86400, default 10: how long an operation on the stop-and-fence path waits for a free slice)
 * are read once; a value that is not
 * accepted is ignored with a warning and listed in
 * {@link io.github.rseq4j.RseqStatus#settingProblems()}.
 *
 * <p>rseq4j calls restricted methods of {@code java.lang.foreign}: run with
 * {@code --enable-native-access=io.github.rseq4j} on the module path, or
 * {@code --enable-native-access=ALL-UNNAMED} on the class path.
 */
package io.github.rseq4j;
