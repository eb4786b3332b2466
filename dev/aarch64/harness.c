/*
 * dev/aarch64/harness.c: runs rseq4j's generated aarch64 critical sections for real, under
 * a kernel's rseq, inside a full-system emulator (dev/aarch64-check builds it static and
 * boots it as /init of an initramfs).
 *
 * As PID 1 it mounts devtmpfs for the console, then starts itself twice as a child:
 *   "run glibc": glibc registered rseq for every thread; code generated for the
 *                thread-pointer offset __rseq_offset (what rseq4j uses on glibc);
 *   "run own":   GLIBC_TUNABLES=glibc.pthread.rseq=0, the harness registers each thread
 *                itself: through rseq4j's generated registration stubs and a pthread key
 *                (code generated for pthread_getspecific), or a TLS area of its own
 *                (code generated for the thread-pointer offset of that area).
 * and powers the machine off. With "probe" instead of "run" it prints the facts code
 * generation needs (offsets, key, function addresses) and exits.
 *
 * Each variant (/code/NAME.bin + NAME.txt, from io.github.rseq4j.testsupport.CodeDump)
 * is mapped at the address it was linked for: written, flushed with the generated
 * cache-maintenance routine (itself flushed with __builtin___clear_cache), then made
 * read+execute. Every operation then runs from more threads than CPUs, one of which
 * migrates between CPUs with sched_setaffinity, one of which is not registered, while a
 * signaller interrupts them (and once with every thread pinned to one CPU); an operation
 * that does not decide (aborted, stopped, not registered) completes on a slice taken with
 * the stop-and-fence protocol (CAS of the owner word from the owner's token to the stopped
 * word, membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ), plain twin, release store of the
 * token), as rseq4j's Java fallback does. Every call passes the token in the top 16 bits of
 * its base, as rseq4j does. Checks: exact sums, exact counts under a per-slice spin lock,
 * every list node / stack value / ring record / log value exactly once and intact (the logs
 * switched from their own CPU with COMPARE_INDEX_AND_STORE or remotely under stop), a
 * stopped and fenced slice stays frozen, the decided failures, STOPPED for a stopped slice,
 * a slice given back or another owner's, and for a caller with a stale token, the index
 * returned on each CPU.
 *
 * Output lines the check script reads: "CHECK <variant> <what>: OK|FAIL ...", "RESULT ...",
 * "INFO ...", "TOTAL ...", "PROBE ...", "HARNESS DONE mode=M glibc=pass|fail own=pass|fail".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SIG_RSEQ 0xd428bc00u
#define MEMBARRIER_QUERY 0
#define MEMBARRIER_RSEQ (1 << 7)
#define MEMBARRIER_REGISTER_RSEQ (1 << 8)
#define MEMBARRIER_FLAG_CPU 1

/* OpResult codes. */
#define COMPARE_FAILED (-1L)
#define ABORTED (-2L)
#define STOPPED (-3L)
#define NOT_REGISTERED (-4L)
#define EMPTY (-5L)
#define FULL (-6L)

enum { ADD, CAS, CAS_RELEASE, CAS2, PUSH, POP, BPUSH, BPOP, RING_WRITE, LOG_APPEND, LOG_APPEND_PAIR, CIDX, NOPS };
static const char *OP_NAMES[NOPS] = {"ADD", "COMPARE_AND_STORE", "COMPARE_AND_STORE_RELEASE",
    "COMPARE2_AND_STORE", "PUSH", "POP", "BOUNDED_PUSH", "BOUNDED_POP", "RING_WRITE", "LOG_APPEND",
    "LOG_APPEND_PAIR", "COMPARE_INDEX_AND_STORE"};

/* The owner word (SliceLayout): the first word of every slice holds the owner's token while the
 * slice runs; a stopper sets bit 32; generated code gets the token in the top 16 bits of base. */
#define TOKEN 0x2a5bUL
#define OTHER_TOKEN 0x2a5cUL
#define STOPPED_WORD (TOKEN | (1UL << 32))

struct rseq_area {
    uint32_t cpu_id_start;
    uint32_t cpu_id;
    uint64_t rseq_cs;
    uint32_t flags;
    uint32_t node_id;
    uint32_t mm_cid;
    uint32_t pad;
} __attribute__((aligned(32)));

/* Own registration: a TLS area (thread-pointer offset) ... */
static __thread struct rseq_area tls_area = {.cpu_id = (uint32_t)-1};
/* ... or slots registered through the generated stubs (AreaSlotLayout: 256 bytes, state at 192). */
#define NSLOTS 128
struct slot {
    struct rseq_area area;
    char pad[192 - sizeof(struct rseq_area)];
    uint64_t state;
    char pad2[256 - 200];
} __attribute__((aligned(256)));
static struct slot slots[NSLOTS];
static struct slot refused_slot;

/* ---------------------------------------------------------------- output */

static int checks_ok, checks_failed;

static void out(const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    ssize_t r = write(1, line, n);
    (void)r;
}

static void check(const char *variant, int ok, const char *fmt, ...) {
    char what[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (ok) checks_ok++; else checks_failed++;
    out("CHECK %s %s: %s", variant, what, ok ? "OK" : "FAIL");
}

static void die(const char *fmt, ...) {
    char what[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    out("CHECK harness %s: FAIL", what);
    exit(2);
}

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* ---------------------------------------------------------------- variants */

enum { LOC_GLIBC, LOC_TLS, LOC_KEY };

struct variant {
    char name[64];
    int mm_cid;
    int loc;
    long tpoff;
    unsigned key;
    uintptr_t getspecific;
    int delay_point;
    long delay_loops;
    int max_attempts;
    int slices;
    int stride_shift;
    uintptr_t load;
    size_t size;
    uintptr_t abort_counter;
    uintptr_t op[NOPS];
    uintptr_t flush;
    uintptr_t reg, unreg, dtor;
    int reps;
    uintptr_t base; /* per-CPU memory */
};

typedef long (*opfn)(long, long, long, long, long, long);
typedef long (*regfn)(long, long, long, long, long);
typedef void (*flushfn)(long, long);

static int nprocs;
static pthread_key_t own_key;
static int own_key_created;

static void parse_variant(struct variant *v, const char *dir, const char *name) {
    char path[256], line[512];
    snprintf(path, sizeof path, "%s/%s.txt", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) die("%s: cannot open %s", name, path);
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    int ops = 0, ended = 0;
    while (fgets(line, sizeof line, f)) {
        char key[64], a[64], b[64];
        unsigned long x;
        if (sscanf(line, "load %lx", &x) == 1) v->load = x;
        else if (sscanf(line, "size %lu", &x) == 1) v->size = x;
        else if (sscanf(line, "index %63s", a) == 1) v->mm_cid = strcmp(a, "mm_cid") == 0;
        else if (sscanf(line, "location %63s %63s %63s", key, a, b) >= 2) {
            if (strcmp(key, "tp") == 0) v->tpoff = strtol(a, NULL, 0);
            else { v->loc = LOC_KEY; v->key = strtoul(a, NULL, 0); v->getspecific = strtoul(b, NULL, 0); }
        }
        else if (sscanf(line, "delay_point %d", &v->delay_point) == 1) {}
        else if (sscanf(line, "delay_loops %ld", &v->delay_loops) == 1) {}
        else if (sscanf(line, "max_attempts %d", &v->max_attempts) == 1) {}
        else if (sscanf(line, "slices %d", &v->slices) == 1) {}
        else if (sscanf(line, "stride_shift %d", &v->stride_shift) == 1) {}
        else if (sscanf(line, "abort_counter %lx", &x) == 1) v->abort_counter = x;
        else if (sscanf(line, "op %63s entry %lx", key, &x) == 2) {
            for (int i = 0; i < NOPS; i++) if (strcmp(key, OP_NAMES[i]) == 0) { v->op[i] = x; ops++; }
        }
        else if (sscanf(line, "flush %lx", &x) == 1) v->flush = x;
        else if (strncmp(line, "stubs", 5) == 0) {
            unsigned long r, u, d;
            if (sscanf(line, "stubs register %lx unregister %lx destructor %lx", &r, &u, &d) == 3) {
                v->reg = r; v->unreg = u; v->dtor = d;
            }
        }
        else if (strncmp(line, "end", 3) == 0) ended = 1;
    }
    fclose(f);
    if (!ended || ops != NOPS || !v->load || !v->size || !v->flush)
        die("%s: incomplete description (%d operations)", name, ops);
}

/* Maps the code as rseq4j's ExecutableMemory does: write, flush, read+execute. */
static void load_variant(struct variant *v, const char *dir) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s.bin", dir, v->name);
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("%s: cannot open %s", v->name, path);
    size_t len = (v->size + 4095) & ~4095UL;
    void *code = mmap((void *)v->load, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (code != (void *)v->load) die("%s: mmap at %#lx failed", v->name, v->load);
    size_t got = 0;
    while (got < v->size) {
        ssize_t n = read(fd, (char *)code + got, v->size - got);
        if (n <= 0) die("%s: short read", v->name);
        got += n;
    }
    close(fd);
    /* The generated flush routine, copied to a page of its own (it is position-independent)
     * and made executable the way rseq4j bootstraps it: flushed with the toolchain's own. */
    void *fp = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fp == MAP_FAILED) die("mmap");
    size_t flen = v->size - v->flush;
    if (flen > 4096) flen = 4096;
    memcpy(fp, (char *)code + v->flush, flen);
    __builtin___clear_cache((char *)fp, (char *)fp + flen);
    if (mprotect(fp, 4096, PROT_READ | PROT_EXEC)) die("mprotect");
    ((flushfn)fp)((long)code, (long)v->size);
    if (mprotect(code, len, PROT_READ | PROT_EXEC)) die("%s: mprotect", v->name);
    if (v->abort_counter) {
        uintptr_t page = v->abort_counter & ~4095UL;
        void *p = mmap((void *)page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (p != (void *)page) die("%s: abort counter page at %#lx", v->name, page);
    }
    size_t mem = (size_t)v->slices << v->stride_shift;
    void *base = mmap(NULL, mem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) die("mmap slices");
    v->base = (uintptr_t)base;
}

static uint64_t abort_count(struct variant *v) {
    return v->abort_counter ? __atomic_load_n((uint64_t *)v->abort_counter, __ATOMIC_RELAXED) : 0;
}

static inline uintptr_t slice(struct variant *v, int s) {
    return v->base + ((uintptr_t)s << v->stride_shift);
}

static inline uint64_t *word(struct variant *v, int s, long off) {
    return (uint64_t *)(slice(v, s) + off);
}

/* Argument 0 of every generated operation: the base with the owner token in its top 16 bits. */
static inline long tagged(struct variant *v, uint64_t token) {
    return (long)(v->base | token << 48);
}

/* Zeroes every slice and gives each the owner's token (as rseq4j's SliceRegions does). */
static void clear_slices(struct variant *v) {
    memset((void *)v->base, 0, (size_t)v->slices << v->stride_shift);
    for (int s = 0; s < v->slices; s++) *word(v, s, 0) = TOKEN;
}

/* ---------------------------------------------------------------- registration */

static __thread struct rseq_area *my_area;
static __thread int my_slot = -1;

static long sys_rseq(void *area, uint32_t len, int flags, uint32_t sig) {
    return syscall(__NR_rseq, area, len, flags, sig);
}

/* Registers the calling thread as the variant expects; returns 0 or a reason. */
static const char *register_thread(struct variant *v, int unregistered) {
    switch (v->loc) {
    case LOC_GLIBC:
        my_area = (struct rseq_area *)((char *)__builtin_thread_pointer() + __rseq_offset);
        if (unregistered) {
            long r = sys_rseq(my_area, 32, 1, SIG_RSEQ);
            if (r) return "unregistering glibc's area failed";
        }
        return NULL;
    case LOC_TLS:
        my_area = &tls_area;
        if (unregistered) return NULL;
        if (sys_rseq(&tls_area, 32, 0, SIG_RSEQ)) return "rseq(2) refused the TLS area";
        return NULL;
    default:
        if (unregistered) return NULL;
        for (int i = 0; i < NSLOTS; i++) {
            uint64_t expect = 0;
            if (__atomic_compare_exchange_n(&slots[i].state, &expect, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
                memset(&slots[i].area, 0, sizeof slots[i].area);
                slots[i].area.cpu_id = (uint32_t)-1;
                long r = ((regfn)(v->load + v->reg))((long)&slots[i].area, 32, (long)(int32_t)SIG_RSEQ, v->key,
                                                     (long)&refused_slot);
                if (r != 0) {
                    static char why[64];
                    snprintf(why, sizeof why, "register stub returned %ld", r);
                    return why;
                }
                my_area = &slots[i].area;
                my_slot = i;
                return NULL;
            }
        }
        return "no free slot";
    }
}

static void unregister_thread(struct variant *v) {
    if (v->loc == LOC_TLS && my_area == &tls_area && tls_area.cpu_id != (uint32_t)-1)
        sys_rseq(&tls_area, 32, 1, SIG_RSEQ);
    /* LOC_KEY: the destructor stub unregisters at thread exit and frees the slot. */
}

/* ---------------------------------------------------------------- stop protocol + twins */

static long fences;
static long fence_failures;

static void fence(struct variant *v, int s) {
    long r = v->mm_cid ? syscall(__NR_membarrier, MEMBARRIER_RSEQ, 0, 0)
                       : syscall(__NR_membarrier, MEMBARRIER_RSEQ, MEMBARRIER_FLAG_CPU, s);
    if (r) __atomic_add_fetch(&fence_failures, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&fences, 1, __ATOMIC_RELAXED);
}

/* Stop any slice, preferring {@code preferred}; returns it, stopped and fenced. */
static int stop_any(struct variant *v, int preferred) {
    for (int round = 0;; round++) {
        for (int k = 0; k < v->slices; k++) {
            int s = (preferred + k) % v->slices;
            uint64_t expect = TOKEN;
            if (__atomic_compare_exchange_n(word(v, s, 0), &expect, STOPPED_WORD, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
                fence(v, s);
                return s;
            }
        }
        sched_yield();
    }
}

static void start_slice(struct variant *v, int s) {
    __atomic_store_n(word(v, s, 0), TOKEN, __ATOMIC_RELEASE);
}

static long twin(struct variant *v, int op, int s, long a1, long a2, long a3, long a4, long a5) {
    uint64_t *p;
    switch (op) {
    case ADD:
        *word(v, s, a1) += a2;
        return s;
    case CAS:
    case CAS_RELEASE:
        p = word(v, s, a1);
        if (*p != (uint64_t)a2) return COMPARE_FAILED;
        *p = a3;
        return s;
    case CAS2:
        if (*word(v, s, a1) != (uint64_t)a2 || *word(v, s, a3) != (uint64_t)a4) return COMPARE_FAILED;
        *word(v, s, a1) = a5;
        return s;
    case PUSH:
        *(uint64_t *)(a2 + a3) = *word(v, s, a1);
        *word(v, s, a1) = a2;
        return s;
    case POP: {
        uint64_t h = *word(v, s, a1);
        if (!h) return EMPTY;
        *word(v, s, a1) = *(uint64_t *)(h + a2);
        return h;
    }
    case BPUSH: {
        uint64_t c = *word(v, s, a1);
        if (c >= (uint64_t)a3) return FULL;
        *word(v, s, a1 + 8 + 8 * c) = a2;
        *word(v, s, a1) = c + 1;
        return s;
    }
    case BPOP: {
        uint64_t c = *word(v, s, a1);
        if (!c) return EMPTY;
        *word(v, s, a1) = c - 1;
        return *word(v, s, a1 + 8 + 8 * (c - 1));
    }
    case RING_WRITE: {
        uint64_t *ring = word(v, s, a1);
        uint64_t wp = ring[0], rp = __atomic_load_n(&ring[1], __ATOMIC_ACQUIRE), mask = ring[2];
        uint64_t need = (a3 + 8 + 7) & ~7UL;
        if (need > mask + 1 - (wp - rp)) return FULL;
        uint8_t *data = (uint8_t *)ring + 64;
        *(uint64_t *)(data + (wp & mask)) = a3;
        for (long i = 0; i < a3; i++) data[(wp + 8 + i) & mask] = ((uint8_t *)a2)[i];
        __atomic_store_n(&ring[0], wp + need, __ATOMIC_RELEASE);
        return s;
    }
    case LOG_APPEND: {
        uint64_t c = *word(v, s, a1);
        if (c >= (uint64_t)a3) return FULL;
        *word(v, s, a1 + 8 + (long)c) = a2;
        __atomic_store_n(word(v, s, a1), c + a4, __ATOMIC_RELEASE);
        return s;
    }
    case LOG_APPEND_PAIR: {
        uint64_t c = *word(v, s, a1);
        if (c >= (uint64_t)a4) return FULL;
        *word(v, s, a1 + 8 + (long)c) = a2;
        *word(v, s, a1 + 16 + (long)c) = a3;
        __atomic_store_n(word(v, s, a1), c + a5, __ATOMIC_RELEASE);
        return s;
    }
    case CIDX:
        if (s != a2 || *word(v, s, a1) != (uint64_t)a3) return COMPARE_FAILED;
        __atomic_store_n(word(v, s, a1), a4, __ATOMIC_RELEASE);
        return s;
    }
    return -100;
}

/* ---------------------------------------------------------------- workers */

struct stats {
    long committed, decided_failures, aborted, stopped, not_registered, fallbacks, empties;
};

struct worker {
    struct variant *v;
    int id;
    int migrate;
    int unregistered;
    pid_t tid;
    pthread_t thread;
    struct stats st;
    long done;
    const char *error;
    void (*body)(struct worker *);
    long scratch[8];
};

static inline int guess_index(struct variant *v) {
    int i = my_area ? (int)(v->mm_cid ? my_area->mm_cid : my_area->cpu_id) : 0;
    if (i < 0 || i >= v->slices) i = 0;
    return i;
}

/* One operation as rseq4j's SliceOps.run does it: the critical section, then the fallback. */
static long run_op(struct worker *w, int op, long a1, long a2, long a3, long a4, long a5) {
    struct variant *v = w->v;
    long r = ((opfn)(v->load + v->op[op]))(tagged(v, TOKEN), a1, a2, a3, a4, a5);
    if (r >= 0) { w->st.committed++; return r; }
    if (r == COMPARE_FAILED || r == EMPTY || r == FULL) { w->st.decided_failures++; return r; }
    if (r == ABORTED) w->st.aborted++;
    else if (r == STOPPED) w->st.stopped++;
    else if (r == NOT_REGISTERED) w->st.not_registered++;
    else { w->error = "unknown result code"; return r; }
    w->st.fallbacks++;
    int s = stop_any(v, guess_index(v));
    long t = twin(v, op, s, a1, a2, a3, a4, a5);
    start_slice(v, s);
    return t;
}

static void maybe_migrate(struct worker *w, long i) {
    if (w->migrate && i % 50 == 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET((i / 50) % nprocs, &set);
        sched_setaffinity(0, sizeof set, &set);
    }
}

static void *worker_main(void *arg) {
    struct worker *w = arg;
    w->tid = gettid();
    const char *why = register_thread(w->v, w->unregistered);
    if (why) { w->error = why; return NULL; }
    w->body(w);
    unregister_thread(w->v);
    return NULL;
}

/* Signals every worker at random every ~0.5 ms while a scenario runs. */
static volatile int scenario_running;
static long signals_sent;
static struct worker *sig_workers;
static int sig_nworkers;

static void on_signal(int sig) { (void)sig; }

static void *signaller_main(void *arg) {
    (void)arg;
    unsigned seed = 12345;
    while (__atomic_load_n(&scenario_running, __ATOMIC_ACQUIRE)) {
        struct timespec t = {0, 500000};
        nanosleep(&t, NULL);
        seed = seed * 1103515245 + 12345;
        struct worker *w = &sig_workers[(seed >> 8) % sig_nworkers];
        pid_t tid = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE);
        if (tid && !__atomic_load_n(&w->done, __ATOMIC_ACQUIRE)) {
            syscall(__NR_tgkill, getpid(), tid, SIGUSR1);
            signals_sent++;
        }
    }
    return NULL;
}

#define NWORKERS_MAX 16
static int nworkers;

struct run {
    struct stats st;
    uint64_t aborts;
    long fences;
    long signals;
    long ms;
};

/* Runs body in nworkers threads (worker 0 migrates, the last one is unregistered) with the signaller. */
static struct run run_workers(struct variant *v, struct worker *ws, void (*body)(struct worker *),
                              void *(*extra)(void *), void *extra_arg) {
    struct run run = {0};
    uint64_t a0 = abort_count(v);
    long f0 = fences;
    signals_sent = 0;
    long t0 = now_ms();
    for (int i = 0; i < nworkers; i++) {
        memset(&ws[i], 0, sizeof ws[i]);
        ws[i].v = v;
        ws[i].id = i;
        ws[i].migrate = i == 0;
        ws[i].unregistered = i == nworkers - 1;
        ws[i].body = body;
    }
    sig_workers = ws;
    sig_nworkers = nworkers;
    __atomic_store_n(&scenario_running, 1, __ATOMIC_RELEASE);
    pthread_t sig, ex;
    pthread_create(&sig, NULL, signaller_main, NULL);
    if (extra) pthread_create(&ex, NULL, extra, extra_arg);
    for (int i = 0; i < nworkers; i++) pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]);
    for (int i = 0; i < nworkers; i++) {
        pthread_join(ws[i].thread, NULL);
        __atomic_store_n(&ws[i].done, 1, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&scenario_running, 0, __ATOMIC_RELEASE);
    if (extra) pthread_join(ex, NULL);
    pthread_join(sig, NULL);
    for (int i = 0; i < nworkers; i++) {
        if (ws[i].error) check(v->name, 0, "worker %d: %s", i, ws[i].error);
        run.st.committed += ws[i].st.committed;
        run.st.decided_failures += ws[i].st.decided_failures;
        run.st.aborted += ws[i].st.aborted;
        run.st.stopped += ws[i].st.stopped;
        run.st.not_registered += ws[i].st.not_registered;
        run.st.fallbacks += ws[i].st.fallbacks;
        run.st.empties += ws[i].st.empties;
    }
    run.aborts = abort_count(v) - a0;
    run.fences = fences - f0;
    run.signals = signals_sent;
    run.ms = now_ms() - t0;
    return run;
}

static long total_ops, total_aborts, total_fences, total_signals, total_fallbacks;

static void report(struct variant *v, const char *scenario, const char *ops, struct run *r) {
    out("RESULT %s %s ops=%s threads=%d (1 migrating, 1 unregistered) reps=%d committed=%ld decided_failures=%ld "
        "fallbacks=%ld (aborted=%ld stopped=%ld not_registered=%ld) aborts=%lu fences=%ld signals=%ld ms=%ld",
        v->name, scenario, ops, nworkers, v->reps, r->st.committed, r->st.decided_failures, r->st.fallbacks,
        r->st.aborted, r->st.stopped, r->st.not_registered, (unsigned long)r->aborts, r->fences, r->signals, r->ms);
    total_ops += r->st.committed + r->st.decided_failures + r->st.fallbacks;
    total_aborts += r->aborts;
    total_fences += r->fences;
    total_signals += r->signals;
    total_fallbacks += r->st.fallbacks;
}

/* ---------------------------------------------------------------- scenarios */

#define ITEM 64
#define ITEM2 128

static void body_add(struct worker *w) {
    for (long i = 0; i < w->v->reps; i++) {
        maybe_migrate(w, i);
        run_op(w, ADD, ITEM, 1, 0, 0, 0);
    }
}

static long sum_words(struct variant *v, long off) {
    long s = 0;
    for (int i = 0; i < v->slices; i++) s += *word(v, i, off);
    return s;
}

static void scenario_add(struct variant *v, struct worker *ws) {
    clear_slices(v);
    struct run r = run_workers(v, ws, body_add, NULL, NULL);
    report(v, "add", "ADD", &r);
    long want = (long)nworkers * v->reps, got = sum_words(v, ITEM);
    check(v->name, got == want, "add: sum %ld, expected %ld", got, want);
}

/* Spin lock per slice: COMPARE_AND_STORE(lock, 0 -> 1), counter under the lock, release store. */
static void body_spinlock(struct worker *w) {
    struct variant *v = w->v;
    for (long i = 0; i < v->reps; i++) {
        maybe_migrate(w, i);
        long s;
        while ((s = run_op(w, CAS, ITEM, 0, 1, 0, 0)) < 0) {
            if (s != COMPARE_FAILED) { w->error = "spin lock: unexpected result"; return; }
            sched_yield();
        }
        if (s >= v->slices) { w->error = "spin lock: index out of range"; return; }
        __atomic_thread_fence(__ATOMIC_ACQUIRE); /* the lock's acquire (after the control dependency) */
        (*word(v, s, ITEM2))++;
        __atomic_store_n(word(v, s, ITEM), 0, __ATOMIC_RELEASE);
    }
}

static void scenario_spinlock(struct variant *v, struct worker *ws) {
    clear_slices(v);
    struct run r = run_workers(v, ws, body_spinlock, NULL, NULL);
    report(v, "spinlock", "COMPARE_AND_STORE", &r);
    long want = (long)nworkers * v->reps, got = sum_words(v, ITEM2);
    check(v->name, got == want, "spinlock: counter under the locks %ld, expected %ld", got, want);
}

/* Counter by compare-and-store (release) and by compare2-and-store: each success adds exactly 1. */
static void body_cas_counter(struct worker *w) {
    struct variant *v = w->v;
    for (long i = 0; i < v->reps; i++) {
        maybe_migrate(w, i);
        for (;;) {
            int g = guess_index(v);
            long expect = __atomic_load_n(word(v, g, ITEM), __ATOMIC_RELAXED);
            long r;
            if (i & 1) {
                r = run_op(w, CAS2, ITEM, expect, ITEM2, 7, expect + 1);
            } else {
                r = run_op(w, CAS_RELEASE, ITEM, expect, expect + 1, 0, 0);
            }
            if (r >= 0) break;
            if (r != COMPARE_FAILED) { w->error = "cas counter: unexpected result"; return; }
        }
        if (i % 16 == 0) { /* a wrong second word must never store */
            int g = guess_index(v);
            long expect = __atomic_load_n(word(v, g, ITEM), __ATOMIC_RELAXED);
            long r = run_op(w, CAS2, ITEM, expect, ITEM2, 8, 1L << 40);
            if (r != COMPARE_FAILED) { w->error = "compare2 with a wrong second word did not fail"; return; }
        }
    }
}

static void scenario_cas_counter(struct variant *v, struct worker *ws) {
    clear_slices(v);
    for (int s = 0; s < v->slices; s++) *word(v, s, ITEM2) = 7;
    struct run r = run_workers(v, ws, body_cas_counter, NULL, NULL);
    report(v, "cas-counter", "COMPARE_AND_STORE_RELEASE,COMPARE2_AND_STORE", &r);
    long want = (long)nworkers * v->reps, got = sum_words(v, ITEM);
    check(v->name, got == want, "cas-counter: sum %ld, expected %ld", got, want);
}

/* Lists: pop a node from the current CPU's list, push it back (possibly elsewhere). */
#define NNODES 96
struct node {
    uint64_t next;
    uint64_t id;
    uint64_t pad[6];
};
static struct node nodes[NNODES] __attribute__((aligned(64)));

static void body_list(struct worker *w) {
    struct variant *v = w->v;
    for (long i = 0; i < v->reps; i++) {
        maybe_migrate(w, i);
        long n = run_op(w, POP, ITEM, 0, 0, 0, 0);
        if (n == EMPTY) { w->st.empties++; continue; }
        struct node *p = (struct node *)n;
        if (n < 0 || p < nodes || p >= nodes + NNODES || p->id != (uint64_t)(p - nodes)) {
            w->error = "pop returned a bad node";
            return;
        }
        long r = run_op(w, PUSH, ITEM, n, 0, 0, 0);
        if (r < 0) { w->error = "push failed"; return; }
    }
}

static void scenario_list(struct variant *v, struct worker *ws) {
    clear_slices(v);
    for (int i = 0; i < NNODES; i++) {
        nodes[i].id = i;
        int s = i % v->slices;
        nodes[i].next = *word(v, s, ITEM);
        *word(v, s, ITEM) = (uint64_t)&nodes[i];
    }
    struct run r = run_workers(v, ws, body_list, NULL, NULL);
    report(v, "list", "POP,PUSH", &r);
    char seen[NNODES] = {0};
    int count = 0, dup = 0, bad = 0;
    for (int s = 0; s < v->slices; s++) {
        for (uint64_t p = *word(v, s, ITEM); p && count <= NNODES; p = ((struct node *)p)->next) {
            struct node *n = (struct node *)p;
            if (n < nodes || n >= nodes + NNODES) { bad++; break; }
            if (seen[n - nodes]++) dup++;
            count++;
        }
    }
    check(v->name, count == NNODES && !dup && !bad, "list: %d of %d nodes in the lists, %d twice, %d bad",
          count, NNODES, dup, bad);
}

/* Bounded stacks: pop a value, push it back. */
#define NVALUES 120
#define CAPACITY 256

static void body_bounded(struct worker *w) {
    struct variant *v = w->v;
    for (long i = 0; i < v->reps; i++) {
        maybe_migrate(w, i);
        long val = run_op(w, BPOP, ITEM, 0, 0, 0, 0);
        if (val == EMPTY) { w->st.empties++; continue; }
        if (val < 1 || val > NVALUES) { w->error = "bounded pop returned a bad value"; return; }
        long r;
        while ((r = run_op(w, BPUSH, ITEM, val, CAPACITY, 0, 0)) == FULL) sched_yield();
        if (r < 0) { w->error = "bounded push failed"; return; }
    }
}

static void scenario_bounded(struct variant *v, struct worker *ws) {
    clear_slices(v);
    for (int i = 1; i <= NVALUES; i++) {
        int s = i % v->slices;
        uint64_t c = *word(v, s, ITEM);
        *word(v, s, ITEM + 8 + 8 * c) = i;
        *word(v, s, ITEM) = c + 1;
    }
    struct run r = run_workers(v, ws, body_bounded, NULL, NULL);
    report(v, "bounded-stack", "BOUNDED_POP,BOUNDED_PUSH", &r);
    char seen[NVALUES + 1] = {0};
    int count = 0, dup = 0, bad = 0;
    for (int s = 0; s < v->slices; s++) {
        uint64_t c = *word(v, s, ITEM);
        if (c > CAPACITY) { bad++; continue; }
        for (uint64_t k = 0; k < c; k++) {
            uint64_t x = *word(v, s, ITEM + 8 + 8 * k);
            if (x < 1 || x > NVALUES) { bad++; continue; }
            if (seen[x]++) dup++;
            count++;
        }
    }
    check(v->name, count == NVALUES && !dup && !bad, "bounded-stack: %d of %d values, %d twice, %d bad",
          count, NVALUES, dup, bad);
}

/* Rings: every worker writes records of 8..61 bytes; one consumer drains every ring. */
#define RING_CAP 2048
#define MAXREPS 20000
static uint8_t *ring_seen; /* [worker][seq] */
static long ring_records, ring_corrupt, ring_dups;

static void record_bytes(uint8_t *b, int tid, long seq, long len) {
    memcpy(b, &seq, 4);
    b[4] = (uint8_t)tid;
    b[5] = (uint8_t)len;
    for (long i = 6; i < len; i++) b[i] = (uint8_t)(tid * 31 + seq * 13 + i);
}

static void body_ring(struct worker *w) {
    struct variant *v = w->v;
    uint8_t src[64];
    for (long i = 0; i < v->reps; i++) {
        maybe_migrate(w, i);
        long len = 8 + (i * 7 + w->id) % 54;
        record_bytes(src, w->id, i, len);
        long r;
        while ((r = run_op(w, RING_WRITE, ITEM, (long)src, len, 0, 0)) == FULL) sched_yield();
        if (r < 0) { w->error = "ring write failed"; return; }
    }
}

static void drain_rings(struct variant *v) {
    uint8_t buf[64], want[64];
    for (int s = 0; s < v->slices; s++) {
        uint64_t *ring = word(v, s, ITEM);
        uint8_t *data = (uint8_t *)ring + 64;
        uint64_t rp = ring[1], wp = __atomic_load_n(&ring[0], __ATOMIC_ACQUIRE), mask = ring[2];
        while (rp < wp) {
            uint64_t len = *(uint64_t *)(data + (rp & mask));
            if (len < 8 || len > 61) { /* unreadable: count it, skip what is there */
                ring_corrupt++;
                __atomic_store_n(&ring[1], wp, __ATOMIC_RELEASE);
                break;
            }
            for (uint64_t i = 0; i < len; i++) buf[i] = data[(rp + 8 + i) & mask];
            rp += (len + 8 + 7) & ~7UL;
            __atomic_store_n(&ring[1], rp, __ATOMIC_RELEASE);
            uint32_t seq;
            memcpy(&seq, buf, 4);
            int tid = buf[4];
            if (tid >= nworkers || seq >= MAXREPS || buf[5] != len) { ring_corrupt++; continue; }
            record_bytes(want, tid, seq, len);
            if (memcmp(buf, want, len)) { ring_corrupt++; continue; }
            if (ring_seen[tid * MAXREPS + seq]++) ring_dups++;
            ring_records++;
        }
    }
}

static void *consumer_main(void *arg) {
    struct variant *v = arg;
    while (__atomic_load_n(&scenario_running, __ATOMIC_ACQUIRE)) {
        drain_rings(v);
        sched_yield();
    }
    drain_rings(v);
    return NULL;
}

static void scenario_ring(struct variant *v, struct worker *ws) {
    clear_slices(v);
    for (int s = 0; s < v->slices; s++) word(v, s, ITEM)[2] = RING_CAP - 1;
    memset(ring_seen, 0, NWORKERS_MAX * MAXREPS);
    ring_records = ring_corrupt = ring_dups = 0;
    struct run r = run_workers(v, ws, body_ring, consumer_main, v);
    report(v, "ring", "RING_WRITE", &r);
    long want = (long)nworkers * v->reps, missing = 0;
    for (int t = 0; t < nworkers; t++)
        for (int q = 0; q < v->reps; q++) missing += ring_seen[t * MAXREPS + q] == 0;
    check(v->name, ring_records == want && !ring_corrupt && !ring_dups && !missing,
          "ring: %ld of %ld records read, %ld corrupt, %ld twice, %ld missing", ring_records, want, ring_corrupt,
          ring_dups, missing);
}

/* Sample logs as the histogram and the histogram group use them: two interleaved logs after a
 * cursor per slice, entries of E = 8 bytes (LOG_APPEND: a value) or E = 16 (LOG_APPEND_PAIR: a tag
 * and a value); cursor = 2E * count + E * log; entry k of log b at ITEM + 8 + 2Ek + Eb. Workers
 * append values (worker, sequence), with the tag ~value for pairs, waiting while their log is
 * FULL; a switcher moves a slice to its other (empty) log with COMPARE_INDEX_AND_STORE on that
 * slice's own CPU (or concurrency id), whose commit proves no append of that slice is in flight,
 * then reads the log it replaced. Exact: every value read once, none twice, none corrupt, and
 * every pair whole (its tag matches its value). */
#define LOGCAP 512
static uint8_t *log_seen; /* [worker][seq] */
static long log_values, log_bad, log_dups, log_switches;
static long log_entry = 8; /* bytes per entry of the scenario running: 8 or 16 */

static void body_log(struct worker *w) {
    struct variant *v = w->v;
    long e = log_entry;
    for (long i = 0; i < v->reps; i++) {
        maybe_migrate(w, i);
        long value = ((long)(w->id + 1) << 32) | i;
        long r;
        if (e == 8)
            while ((r = run_op(w, LOG_APPEND, ITEM, value, 16L * LOGCAP, 16, 0)) == FULL) sched_yield();
        else
            while ((r = run_op(w, LOG_APPEND_PAIR, ITEM, ~value, value, 32L * LOGCAP, 32)) == FULL) sched_yield();
        if (r < 0) { w->error = "log append failed"; return; }
    }
}

static void read_log(struct variant *v, int s, uint64_t cursor) {
    long e = log_entry;
    uint64_t count = cursor / (2 * e), b = (cursor / e) & 1;
    for (uint64_t k = 0; k < count; k++) {
        long at = ITEM + 8 + 2 * e * (long)k + e * (long)b;
        uint64_t *x_at = word(v, s, at + e - 8), *tag_at = word(v, s, at);
        uint64_t x = *x_at, id = (x >> 32) - 1, seq = x & 0xffffffffUL;
        int torn = e == 16 && *tag_at != ~x;
        *x_at = 0;
        *tag_at = 0;
        if (x == 0 || torn || id >= (uint64_t)nworkers || seq >= MAXREPS) { log_bad++; continue; }
        if (log_seen[id * MAXREPS + seq]++) log_dups++;
        log_values++;
    }
}

/* Switches slice t: from its own CPU (concurrency id) with COMPARE_INDEX_AND_STORE when the
 * switcher runs there, else remotely under the stop protocol (CAS, fence), as a snapshot does. */
static void *switcher_main(void *arg) {
    struct variant *v = arg;
    struct worker self = {.v = v, .id = -1};
    if (register_thread(v, 0)) { log_bad++; return NULL; }
    unsigned long round = 0;
    while (__atomic_load_n(&scenario_running, __ATOMIC_ACQUIRE)) {
        int t = round++ % v->slices;
        if (!v->mm_cid) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(t % nprocs, &set);
            sched_setaffinity(0, sizeof set, &set);
        }
        int g = guess_index(v);
        if (g == t) {
            uint64_t cursor = __atomic_load_n(word(v, t, ITEM), __ATOMIC_ACQUIRE);
            if (cursor / (2 * log_entry) == 0) { sched_yield(); continue; }
            long r = run_op(&self, CIDX, ITEM, t, (long)cursor, (long)(log_entry - (cursor & log_entry)), 0);
            if (r == t) {
                read_log(v, t, cursor);
                log_switches++;
            } else if (r != COMPARE_FAILED) {
                log_bad++;
            }
            struct timespec pause = {0, 100000};
            nanosleep(&pause, NULL);   /* leave the CPUs to the appenders between switches */
        } else {
            uint64_t expect = TOKEN;
            if (!__atomic_compare_exchange_n(word(v, t, 0), &expect, STOPPED_WORD, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
                sched_yield();
                continue;
            }
            fence(v, t);
            uint64_t cursor = *word(v, t, ITEM);
            if (cursor / (2 * log_entry)) {
                *word(v, t, ITEM) = log_entry - (cursor & log_entry);
                read_log(v, t, cursor);
                log_switches++;
            }
            start_slice(v, t);
            struct timespec pause = {0, 100000};
            nanosleep(&pause, NULL);
        }
    }
    unregister_thread(v);
    return NULL;
}

static void scenario_log(struct variant *v, struct worker *ws, long entry) {
    clear_slices(v);
    memset(log_seen, 0, NWORKERS_MAX * MAXREPS);
    log_values = log_bad = log_dups = log_switches = 0;
    log_entry = entry;
    struct run r = run_workers(v, ws, body_log, switcher_main, v);
    report(v, entry == 8 ? "log" : "log-pair",
           entry == 8 ? "LOG_APPEND,COMPARE_INDEX_AND_STORE" : "LOG_APPEND_PAIR,COMPARE_INDEX_AND_STORE", &r);
    for (int s = 0; s < v->slices; s++) read_log(v, s, *word(v, s, ITEM));
    long want = (long)nworkers * v->reps, missing = 0;
    for (int t = 0; t < nworkers; t++)
        for (int q = 0; q < v->reps; q++) missing += log_seen[t * MAXREPS + q] == 0;
    check(v->name, log_values == want && !log_bad && !log_dups && !missing && log_switches > 0,
          "%s: %ld of %ld values read over %ld switches, %ld bad, %ld twice, %ld missing",
          entry == 8 ? "log" : "log-pair", log_values, want, log_switches, log_bad, log_dups, missing);
}

/* Same-CPU preemption: every worker pinned to CPU 0, so sections are preempted and resumed
 * on the CPU they started on (and must still abort: arm64 kernels once got this wrong). */
static void body_same_cpu(struct worker *w) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof set, &set);
    for (long i = 0; i < w->v->reps; i++) run_op(w, ADD, ITEM, 1, 0, 0, 0);
}

static void scenario_same_cpu(struct variant *v, struct worker *ws) {
    clear_slices(v);
    struct run r = run_workers(v, ws, body_same_cpu, NULL, NULL);
    report(v, "same-cpu", "ADD", &r);
    long want = (long)nworkers * v->reps, got = sum_words(v, ITEM);
    check(v->name, got == want, "same-cpu: sum %ld with every thread on CPU 0, expected %ld (%lu aborts)", got, want,
          (unsigned long)r.aborts);
}

/* Stop and fence: a manager stops a slice, fences it, and checks it stays frozen while ADDs go on. */
static long frozen_rounds, frozen_violations, manager_adds;
static int manager_fence = 1;

static void *manager_main(void *arg) {
    struct variant *v = arg;
    unsigned long round = 0;
    while (__atomic_load_n(&scenario_running, __ATOMIC_ACQUIRE)) {
        int s = round++ % v->slices;
        uint64_t expect = TOKEN;
        if (!__atomic_compare_exchange_n(word(v, s, 0), &expect, STOPPED_WORD, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            sched_yield();
            continue;
        }
        if (manager_fence) fence(v, s);
        uint64_t snap = __atomic_load_n(word(v, s, ITEM), __ATOMIC_RELAXED);
        for (int k = 0; k < 20; k++) {
            struct timespec t = {0, 50000};
            nanosleep(&t, NULL);
            if (__atomic_load_n(word(v, s, ITEM), __ATOMIC_RELAXED) != snap) {
                frozen_violations++;
                break;
            }
        }
        *word(v, s, ITEM) += 1; /* remote work on the stopped slice */
        manager_adds++;
        frozen_rounds++;
        start_slice(v, s);
    }
    return NULL;
}

static void scenario_stop_fence(struct variant *v, struct worker *ws) {
    clear_slices(v);
    frozen_rounds = frozen_violations = manager_adds = 0;
    manager_fence = 1;
    struct run r = run_workers(v, ws, body_add, manager_main, v);
    report(v, "stop-fence", "ADD", &r);
    long want = (long)nworkers * v->reps + manager_adds, got = sum_words(v, ITEM);
    check(v->name, got == want, "stop-fence: sum %ld, expected %ld (%ld remote adds)", got, want, manager_adds);
    check(v->name, frozen_violations == 0 && frozen_rounds > 0,
          "stop-fence: %ld stopped and fenced slices stayed frozen (%ld changed)", frozen_rounds, frozen_violations);
    /* Control, informational: the same without the fence shows what the fence prevents. */
    clear_slices(v);
    frozen_rounds = frozen_violations = manager_adds = 0;
    manager_fence = 0;
    int saved = v->reps;
    v->reps = saved / 2 > 0 ? saved / 2 : 1;
    run_workers(v, ws, body_add, manager_main, v);
    v->reps = saved;
    out("INFO %s stop-without-fence control: %ld of %ld stopped slices changed afterwards (expected > 0 when "
        "sections are long; never counted as a failure)", v->name, frozen_violations, frozen_rounds);
    manager_fence = 1;
}

/* ---------------------------------------------------------------- decided results, one thread */

struct single_arg {
    struct variant *v;
};

static void *single_main(void *arg) {
    struct variant *v = ((struct single_arg *)arg)->v;
    const char *why = register_thread(v, 0);
    if (why) { check(v->name, 0, "single: %s", why); return NULL; }
    opfn f[NOPS];
    for (int i = 0; i < NOPS; i++) f[i] = (opfn)(v->load + v->op[i]);
    long b = tagged(v, TOKEN);
    clear_slices(v);
    /* The index returned on each CPU equals cpu_id (or mm_cid) read from the area. */
    int good = 0, tried = 0;
    for (int c = 0; c < nprocs; c++) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(c, &set);
        if (sched_setaffinity(0, sizeof set, &set)) continue;
        for (int k = 0; k < 5; k++) {
            long r = f[ADD](b, ITEM, 1, 0, 0, 0);
            int want = v->mm_cid ? (int)my_area->mm_cid : (int)my_area->cpu_id;
            int cpu = sched_getcpu();
            tried++;
            if (r == want && (v->mm_cid || (r == cpu && my_area->cpu_id_start == (uint32_t)cpu))) good++;
        }
    }
    check(v->name, good == tried && tried > 0, "single: ADD returned the area's %s on every CPU (%d of %d)",
          v->mm_cid ? "mm_cid" : "cpu_id", good, tried);
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int c = 0; c < nprocs; c++) CPU_SET(c, &all);
    sched_setaffinity(0, sizeof all, &all);
    /* Decided failures. */
    clear_slices(v);
    for (int s = 0; s < v->slices; s++) *word(v, s, ITEM) = 5;
    long r = f[CAS](b, ITEM, 4, 9, 0, 0);
    check(v->name, r == COMPARE_FAILED && sum_words(v, ITEM) == 5L * v->slices, "single: COMPARE_AND_STORE mismatch -> %ld", r);
    r = f[CAS_RELEASE](b, ITEM, 5, 9, 0, 0);
    check(v->name, r >= 0 && *word(v, r, ITEM) == 9, "single: COMPARE_AND_STORE_RELEASE match -> %ld", r);
    clear_slices(v);
    r = f[POP](b, ITEM, 0, 0, 0, 0);
    check(v->name, r == EMPTY, "single: POP of an empty list -> %ld", r);
    r = f[BPOP](b, ITEM, 0, 0, 0, 0);
    check(v->name, r == EMPTY, "single: BOUNDED_POP of an empty stack -> %ld", r);
    r = f[BPUSH](b, ITEM, 42, 0, 0, 0);
    check(v->name, r == FULL, "single: BOUNDED_PUSH beyond capacity -> %ld", r);
    for (int s = 0; s < v->slices; s++) word(v, s, ITEM)[2] = 63; /* a 64-byte ring */
    uint8_t src[80] = {0};
    r = f[RING_WRITE](b, ITEM, (long)src, 60, 0, 0);
    check(v->name, r == FULL, "single: RING_WRITE of a record larger than the ring -> %ld", r);
    r = f[RING_WRITE](b, ITEM, (long)src, 13, 0, 0);
    check(v->name, r >= 0 && word(v, r, ITEM)[0] == 24, "single: RING_WRITE of 13 bytes -> %ld", r);
    /* LOG_APPEND: the entry after the cursor, the cursor advanced by the step; FULL at the limit. */
    clear_slices(v);
    r = f[LOG_APPEND](b, ITEM, 77, 32, 16, 0);
    check(v->name, r >= 0 && *word(v, r, ITEM) == 16 && *word(v, r, ITEM + 8) == 77 && sum_words(v, ITEM + 8) == 77,
          "single: LOG_APPEND to an empty log -> %ld", r);
    for (int s = 0; s < v->slices; s++) *word(v, s, ITEM) = 8; /* log 1 of 2, empty: the entry lands at 8 + 8 */
    r = f[LOG_APPEND](b, ITEM, 78, 32, 16, 0);
    check(v->name, r >= 0 && *word(v, r, ITEM) == 24 && *word(v, r, ITEM + 16) == 78,
          "single: LOG_APPEND to log 1 -> %ld", r);
    for (int s = 0; s < v->slices; s++) *word(v, s, ITEM) = 32;
    r = f[LOG_APPEND](b, ITEM, 79, 32, 16, 0);
    check(v->name, r == FULL && sum_words(v, ITEM) == 32L * v->slices && sum_words(v, ITEM + 8 + 32) == 0,
          "single: LOG_APPEND at the limit -> %ld", r);
    /* LOG_APPEND_PAIR: the tag and the value after the cursor, the cursor advanced by the step; FULL at the limit. */
    clear_slices(v);
    r = f[LOG_APPEND_PAIR](b, ITEM, 91, 92, 64, 32);
    check(v->name, r >= 0 && *word(v, r, ITEM) == 32 && *word(v, r, ITEM + 8) == 91 && *word(v, r, ITEM + 16) == 92
          && sum_words(v, ITEM + 8) == 91 && sum_words(v, ITEM + 16) == 92,
          "single: LOG_APPEND_PAIR to an empty log -> %ld", r);
    for (int s = 0; s < v->slices; s++) *word(v, s, ITEM) = 16; /* log 1 of 2, empty: the entry lands at 8 + 16 */
    r = f[LOG_APPEND_PAIR](b, ITEM, 93, 94, 64, 32);
    check(v->name, r >= 0 && *word(v, r, ITEM) == 48 && *word(v, r, ITEM + 24) == 93 && *word(v, r, ITEM + 32) == 94,
          "single: LOG_APPEND_PAIR to log 1 -> %ld", r);
    for (int s = 0; s < v->slices; s++) *word(v, s, ITEM) = 64;
    r = f[LOG_APPEND_PAIR](b, ITEM, 95, 96, 64, 32);
    check(v->name, r == FULL && sum_words(v, ITEM) == 64L * v->slices && sum_words(v, ITEM + 8 + 64) == 0
          && sum_words(v, ITEM + 16 + 64) == 0, "single: LOG_APPEND_PAIR at the limit -> %ld", r);
    /* COMPARE_INDEX_AND_STORE: only on the named slice, only over the expected value. */
    clear_slices(v);
    for (int s = 0; s < v->slices; s++) *word(v, s, ITEM) = 5;
    int here = -1;
    for (int k = 0; k < 100 && here < 0; k++) {
        int g = guess_index(v);
        r = f[CIDX](b, ITEM, g, 5, 6, 0);
        if (r == g) here = g;
    }
    check(v->name, here >= 0 && *word(v, here, ITEM) == 6 && sum_words(v, ITEM) == 5L * v->slices + 1,
          "single: COMPARE_INDEX_AND_STORE on its own slice -> index %d", here);
    r = f[CIDX](b, ITEM, v->slices + 3, 5, 9, 0);
    check(v->name, r == COMPARE_FAILED && sum_words(v, ITEM) == 5L * v->slices + 1,
          "single: COMPARE_INDEX_AND_STORE naming no slice -> %ld", r);
    r = f[CIDX](b, ITEM, guess_index(v), 4, 9, 0);
    check(v->name, (r == COMPARE_FAILED || r == ABORTED) && sum_words(v, ITEM) == 5L * v->slices + 1,
          "single: COMPARE_INDEX_AND_STORE over another value -> %ld", r);
    /* The owner word: a slice runs only for its owner's token. A stopped slice, a slice given
     * back (0), another owner's slice, or a caller with a stale token: STOPPED, nothing stored. */
    uint64_t words[3] = {STOPPED_WORD, 0, OTHER_TOKEN};
    const char *what[3] = {"stopped slices", "slices given back (0)", "another owner's slices"};
    for (int k = 0; k < 3; k++) {
        clear_slices(v);
        for (int s = 0; s < v->slices; s++) *word(v, s, 0) = words[k];
        r = f[ADD](b, ITEM, 1, 0, 0, 0);
        check(v->name, (r == STOPPED || r == ABORTED) && sum_words(v, ITEM) == 0, "single: ADD on %s -> %ld", what[k], r);
    }
    clear_slices(v);
    r = f[ADD](tagged(v, OTHER_TOKEN), ITEM, 1, 0, 0, 0);
    check(v->name, (r == STOPPED || r == ABORTED) && sum_words(v, ITEM) == 0, "single: ADD with a stale token -> %ld", r);
    r = f[ADD](tagged(v, 0), ITEM, 1, 0, 0, 0);
    check(v->name, (r == STOPPED || r == ABORTED) && sum_words(v, ITEM) == 0, "single: ADD with token 0 -> %ld", r);
    r = f[ADD](b, ITEM, 1, 0, 0, 0);
    check(v->name, r >= 0 && sum_words(v, ITEM) == 1 && *word(v, r, 0) == TOKEN, "single: ADD with the token -> %ld", r);
    clear_slices(v);
    if (v->loc == LOC_KEY) {
        /* The generated unregister stub: 0, then the key is cleared, the kernel no longer
         * updates the area, and a second call answers -EINVAL (not this thread's area). */
        regfn unreg = (regfn)(v->load + v->unreg);
        long u1 = unreg((long)my_area, 32, (long)(int32_t)SIG_RSEQ, v->key, 0);
        int cleared = pthread_getspecific(own_key) == NULL;
        int reset = my_area->cpu_id == (uint32_t)-1;
        long u2 = unreg((long)my_area, 32, (long)(int32_t)SIG_RSEQ, v->key, 0);
        check(v->name, u1 == 0 && cleared && reset && u2 == -EINVAL,
              "unregister stub: %ld, key %s, cpu_id %s, again: %ld", u1, cleared ? "cleared" : "kept",
              reset ? "reset to -1" : "still set", u2);
        if (u1 == 0) __atomic_store_n(&slots[my_slot].state, 0, __ATOMIC_RELEASE); /* as OwnRegistrar frees it */
    }
    unregister_thread(v);
    return NULL;
}

static void *unregistered_main(void *arg) {
    struct variant *v = ((struct single_arg *)arg)->v;
    const char *why = register_thread(v, 1);
    if (why) { check(v->name, 0, "unregistered: %s", why); return NULL; }
    clear_slices(v);
    long r = ((opfn)(v->load + v->op[ADD]))(tagged(v, TOKEN), ITEM, 1, 0, 0, 0);
    check(v->name, r == NOT_REGISTERED && sum_words(v, ITEM) == 0, "unregistered thread: ADD -> %ld", r);
    return NULL;
}

static void run_single(struct variant *v, void *(*fn)(void *)) {
    struct single_arg a = {v};
    pthread_t t;
    pthread_create(&t, NULL, fn, &a);
    pthread_join(t, NULL);
}

/* ---------------------------------------------------------------- processes */

static void run_variant(struct variant *v, struct worker *ws) {
    long t0 = now_ms();
    out("VARIANT %s index=%s location=%s delay_point=%d delay_loops=%ld max_attempts=%d slices=%d reps=%d code=%zu bytes",
        v->name, v->mm_cid ? "mm_cid" : "cpu_id",
        v->loc == LOC_GLIBC ? "tp(glibc __rseq_offset)" : v->loc == LOC_TLS ? "tp(own TLS area)" : "pthread key (own stubs)",
        v->delay_point, v->delay_loops, v->max_attempts, v->slices, v->reps, v->size);
    if (v->loc == LOC_GLIBC) {
        check(v->name, __rseq_size > 0 && v->tpoff == __rseq_offset, "glibc registered rseq (__rseq_size %u), "
              "generated offset %ld = __rseq_offset %ld", __rseq_size, v->tpoff, (long)__rseq_offset);
    } else if (v->loc == LOC_TLS) {
        long off = (char *)&tls_area - (char *)__builtin_thread_pointer();
        check(v->name, __rseq_size == 0 && v->tpoff == off, "own TLS area at thread pointer %+ld (generated for %+ld)",
              off, v->tpoff);
    } else {
        if (!own_key_created) {
            if (pthread_key_create(&own_key, (void (*)(void *))(v->load + v->dtor))) die("pthread_key_create");
            own_key_created = 1;
        }
        check(v->name, __rseq_size == 0 && own_key == v->key && v->getspecific == (uintptr_t)pthread_getspecific && v->reg,
              "pthread key %u (generated for %u), pthread_getspecific %#lx, stubs present", own_key, v->key,
              (unsigned long)(uintptr_t)pthread_getspecific);
    }
    if (checks_failed) return;
    if (v->mm_cid && getauxval(27) < 28)
        out("INFO %s the kernel has no mm_cid (AT_RSEQ_FEATURE_SIZE %lu < 28): the area's mm_cid stays 0, so this "
            "variant runs everything on slice 0", v->name, getauxval(27));
    run_single(v, single_main);
    run_single(v, unregistered_main);
    scenario_add(v, ws);
    scenario_spinlock(v, ws);
    scenario_cas_counter(v, ws);
    scenario_list(v, ws);
    scenario_bounded(v, ws);
    scenario_ring(v, ws);
    scenario_log(v, ws, 8);
    scenario_log(v, ws, 16);
    scenario_stop_fence(v, ws);
    scenario_same_cpu(v, ws);
    if (v->loc == LOC_KEY) {
        int in_use = 0;
        for (int i = 0; i < NSLOTS; i++) in_use += __atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) != 0;
        check(v->name, in_use == 0, "the generated destructor unregistered every exited thread and freed its area "
              "(%d areas still in use)", in_use);
    }
    out("VARIANT %s done in %ld ms", v->name, now_ms() - t0);
}

static void probe(void) {
    long off = (char *)&tls_area - (char *)__builtin_thread_pointer();
    pthread_key_t key;
    int kr = pthread_key_create(&key, NULL);
    out("PROBE glibc_rseq_size=%u glibc_rseq_offset=%ld tls_offset=%ld key=%d getspecific=%#lx setspecific=%#lx "
        "refused=%#lx nprocs=%d", __rseq_size, (long)__rseq_offset, off, kr ? -1 : (int)key,
        (unsigned long)(uintptr_t)pthread_getspecific, (unsigned long)(uintptr_t)pthread_setspecific,
        (unsigned long)(uintptr_t)&refused_slot, nprocs);
}

static int run_process(const char *kind) {
    alarm(1200); /* a hung process must not keep the other from running; generous for a loaded host */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    if (syscall(__NR_membarrier, MEMBARRIER_REGISTER_RSEQ, 0, 0))
        die("%s: membarrier REGISTER_PRIVATE_EXPEDITED_RSEQ failed: %s", kind, strerror(errno));
    nworkers = 3 * nprocs;
    if (nworkers > NWORKERS_MAX) nworkers = NWORKERS_MAX;
    ring_seen = calloc(NWORKERS_MAX, MAXREPS);
    log_seen = calloc(NWORKERS_MAX, MAXREPS);
    struct worker *ws = calloc(NWORKERS_MAX, sizeof *ws);
    FILE *list = fopen("/code/list.txt", "r");
    if (!list) die("no /code/list.txt");
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, list)) {
        char name[64], proc[32], loc[32];
        int reps;
        if (sscanf(line, "%63s %31s %31s %d", name, proc, loc, &reps) != 4 || strcmp(proc, kind)) continue;
        struct variant v;
        parse_variant(&v, "/code", name);
        v.loc = strcmp(loc, "glibc") == 0 ? LOC_GLIBC : strcmp(loc, "tls") == 0 ? LOC_TLS : LOC_KEY;
        v.reps = reps > MAXREPS ? MAXREPS : reps;
        load_variant(&v, "/code");
        run_variant(&v, ws);
        n++;
    }
    fclose(list);
    out("TOTAL %s variants=%d operations=%ld fallbacks=%ld aborts=%ld fences=%ld (failed %ld) signals=%ld checks_ok=%d "
        "checks_failed=%d", kind, n, total_ops, total_fallbacks, total_aborts, total_fences, fence_failures,
        total_signals, checks_ok, checks_failed);
    return checks_failed || fence_failures || n == 0 ? 1 : 0;
}

static int child(char *self, const char *mode, const char *kind, int own) {
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {self, (char *)mode, (char *)kind, NULL};
        char *env_own[] = {"GLIBC_TUNABLES=glibc.pthread.rseq=0", NULL};
        char *env_glibc[] = {NULL};
        execve("/proc/self/exe", argv, own ? env_own : env_glibc);
        execve(self, argv, own ? env_own : env_glibc);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    out("CHECK harness %s %s: FAIL (killed by signal %d)", mode, kind, WTERMSIG(status));
    return 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
    nprocs = sysconf(_SC_NPROCESSORS_ONLN);
    if (argc >= 3 && strcmp(argv[1], "run") == 0) return run_process(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "probe") == 0) { probe(); return 0; }
    if (getpid() != 1) {
        fprintf(stderr, "usage: as /init of an initramfs (\"probe\" or \"run\" after -- on the kernel command line)\n");
        return 2;
    }
    /* PID 1: a console, /proc, then the two children, then power off. */
    mkdir("/dev", 0755);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    int fd = open("/dev/console", O_RDWR);
    if (fd >= 0) { dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); }
    mkdir("/proc", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    struct utsname u;
    uname(&u);
    long query = syscall(__NR_membarrier, MEMBARRIER_QUERY, 0, 0);
    out("HARNESS kernel %s %s, %d CPUs online, AT_RSEQ_FEATURE_SIZE %lu, AT_RSEQ_ALIGN %lu, membarrier commands %#lx",
        u.release, u.machine, nprocs, getauxval(27), getauxval(28), query);
    const char *mode = argc >= 2 && strcmp(argv[1], "probe") == 0 ? "probe" : "run";
    int a = child(argv[0], mode, "glibc", 0);
    int b = child(argv[0], mode, "own", 1);
    out("HARNESS DONE mode=%s glibc=%s own=%s", mode, a == 0 ? "pass" : "fail", b == 0 ? "pass" : "fail");
    sync();
    reboot(RB_POWER_OFF);
    for (;;) pause();
}
