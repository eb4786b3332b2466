/*
 * A per-CPU add written in C with rseq, for comparison with rseq4j's generated code.
 * Not part of the build (rseq4j needs no C toolchain); run it by hand where gcc exists:
 *
 *   gcc -O2 -o /tmp/percpu_add rseq4j-bench/c/percpu_add.c && /tmp/percpu_add
 *
 * It uses glibc's registration (glibc 2.35+, <sys/rseq.h>): the same critical section as
 * rseq4j's ADD template (arm rseq_cs, read cpu_id, one committing add to this CPU's
 * word), with the abort handler out of line, then an uncontended lock xadd.
 */
#define _GNU_SOURCE
#include <sys/rseq.h>
#include <stdio.h>
#include <stdint.h>
#include <time.h>
#include <stdatomic.h>

static intptr_t counters[64 * 16] __attribute__((aligned(64)));

static inline struct rseq *area(void) {
    return (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

/* One rseq per-CPU add, retried on abort. */
static inline int percpu_add(intptr_t delta) {
    struct rseq *rs = area();
    __asm__ __volatile__ goto (
        ".pushsection __rseq_cs, \"aw\"\n\t"
        ".balign 32\n\t"
        "3:\n\t"
        ".long 0x0, 0x0\n\t"
        ".quad 1f, (2f - 1f), 4f\n\t"
        ".popsection\n\t"
        "leaq 3b(%%rip), %%rax\n\t"
        "movq %%rax, 8(%[rs])\n\t"
        "1:\n\t"
        "movl 4(%[rs]), %%ecx\n\t"
        "movslq %%ecx, %%rcx\n\t"
        "shlq $10, %%rcx\n\t"
        "addq %[delta], (%[base], %%rcx)\n\t"
        "2:\n\t"
        ".pushsection __rseq_failure, \"ax\"\n\t"
        ".byte 0x0f, 0xb9, 0x3d\n\t"
        ".long 0x53053053\n\t"
        "4:\n\t"
        "jmp %l[abort]\n\t"
        ".popsection\n\t"
        : : [rs] "r"(rs), [delta] "r"(delta), [base] "r"(counters)
        : "rax", "rcx", "memory", "cc" : abort);
    return 0;
abort:
    return -1;
}

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }

int main(void) {
    long n = 200000000;
    _Atomic long a = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        for (long i = 0; i < n; i++) while (percpu_add(1)) ;
        double t1 = now();
        for (long i = 0; i < n; i++) atomic_fetch_add_explicit(&a, 1, memory_order_relaxed);
        double t2 = now();
        printf("C rseq add %.2f ns, lock xadd %.2f ns\n", (t1 - t0) / n, (t2 - t1) / n);
    }
    long s = 0; for (int c = 0; c < 8; c++) s += counters[c * 128];
    printf("sum %ld (expect %ld), atomic %ld\n", s, 3 * n, (long) a);
    return 0;
}
