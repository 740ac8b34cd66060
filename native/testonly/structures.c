/*
 * structures.c — structures that exist only to test the harness itself
 * (family "testonly"). Not in the shipped extensions: the tests build them from registry.c.
 *
 * testonly/nondet — a counter whose increment reads a process-global
 * variable that survives between executions: the same schedule gives a
 * different trace each time it runs, which is exactly the non-determinism
 * `lfstress replay` must detect and report (tests/test_replay.py). Real code
 * does this by reading a clock, an unseeded RNG or a static cache.
 *
 * The four below break in the ways code under test breaks, so that tests can
 * check the harness survives each one (tests/test_robustness.py).
 * Each has one operation, "run", so one scenario file can list them all:
 *
 *   variant   what run() does                         stepped         free-running (child)
 *   wild      loads through a pointer to page zero    wild-pointer    crash (SIGSEGV)
 *             (option how=1: plain C dereference,     crash (SIGSEGV)
 *              how=2: runaway recursion,              crash (SIGSEGV)
 *              how=3: CAS with `expected` pointing    crash (SIGSEGV) crash (SIGSEGV)
 *              to page zero: the engine itself        in the engine
 *              faults reading it)
 *   spin      CAS-retry loop that can never succeed   livelock (cap)  livelock (deadline)
 *   abort     calls abort() after one shared load     crash (SIGABRT) crash (SIGABRT)
 *   exhaust   allocates nodes and never frees them    pool-exhausted  pool-exhausted
 *
 * In the stepped build the engine contains the abort (native/engine/crashguard.c):
 * the signal, raised on a virtual thread's fiber, ends that execution with a
 * "crash" violation that replays like any other.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lfstress.h"
#include "probe.h"

typedef struct nondet_shared {
    lfs_word_t counter;
} nondet_shared_t;

/* Deliberately outside the execution's state: never reset by the engine. */
static lfs_word_t nondet_drift;

static int nondet_init(void *shared, const lfs_options_t *opts)
{
    (void)shared;
    (void)opts;
    return LFS_OK;
}

static int nondet_bump(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    (void)local;
    (void)arg;
    nondet_shared_t *s = shared;
    lfs_word_t seen = lfs_load(&s->counter, LFS_RELAXED);
    lfs_word_t drift = __atomic_fetch_add(&nondet_drift, 1, __ATOMIC_RELAXED);
    lfs_store(&s->counter, seen + 1 + drift, LFS_RELAXED);
    *result = seen + 1 + drift;
    return LFS_OK;
}

const lfs_structure_t lfs_testonly_nondet = {
    .family = "testonly",
    .variant = "nondet",
    .summary = "tests only: a counter that reads a global surviving executions (non-deterministic)",
    .spec = "none",
    .ref_encoding = LFS_REF_POINTER,
    .memory_promise = LFS_TYPE_STABLE,
    .shared_size = sizeof(nondet_shared_t),
    .local_size = 0,
    .node_words = 1,
    .fields = { { "value", LFS_DATA } },
    .n_roots = 1,
    .roots = { { "counter", 0, 1, LFS_DATA } },
    .n_ops = 1,
    .ops = { { "bump", false, true, nondet_bump, LFS_OP_OTHER } },
    .n_options = 0,
    .init = nondet_init,
    .thread_init = 0,
};


/* ------------------------------------------------------------------ */
/* Broken on purpose: wild, spin, abort, exhaust                       */
/* ------------------------------------------------------------------ */

static int probe_init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    ((probe_shared_t *)shared)->word = 0;
    return LFS_OK;
}

static int wild_init(void *shared, const lfs_options_t *opts)
{
    probe_shared_t *s = shared;
    s->word = 0;
    s->how = (lfs_word_t)lfs_option(opts, "how");
    return LFS_OK;
}

/* Deep enough to pass any fiber stack and its guard page; the volatile
 * buffer keeps the frames from being optimised away. */
static lfs_word_t __attribute__((noinline)) runaway(lfs_word_t depth)
{
    volatile lfs_word_t frame[64];
    if (depth == UINT64_MAX) /* never: the stack runs out first */
        return 0;
    frame[depth % 64] = depth;
    return runaway(depth + 1) + frame[(depth + 1) % 64];
}

/* A reference read from a word that holds 0, "dereferenced" at the offset of
 * a second field: the classic null-plus-offset wild pointer. Page zero is
 * never mapped, so the free build faults for real. */
static int wild_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    probe_shared_t *s = shared;
    lfs_word_t ref = lfs_load(&s->word, LFS_ACQUIRE);
    lfs_word_t *field = (lfs_word_t *)(uintptr_t)(ref + 2 * sizeof(lfs_word_t));
    if (s->how == 1)      /* rule 1 broken too: no primitive, so only the signal tells */
        *result = *(volatile lfs_word_t *)field;
    else if (s->how == 2) /* a stack overflow on the thread's own stack */
        *result = runaway(ref);
    else if (s->how == 3) /* a private argument the engine dereferences, unchecked */
        *result = lfs_cas(&s->word, (lfs_word_t *)field, 1, LFS_ACQ_REL);
    else
        *result = lfs_load(field, LFS_ACQUIRE);
    return LFS_OK;
}

/* Retries a CAS whose expected value is always one the word does not hold:
 * a lock-free loop that lost its way. Each try is a step, so the stepped
 * build ends it at the step cap; on real threads it never returns. */
static int spin_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    probe_shared_t *s = shared;
    for (;;) {
        lfs_word_t seen = lfs_load(&s->word, LFS_ACQUIRE);
        lfs_word_t stale = seen ^ 1;
        if (lfs_cas(&s->word, &stale, seen + 1, LFS_ACQ_REL))
            break;
        lfs_pause();
    }
    *result = 0;
    return LFS_OK;
}

/* A failed assertion in the code under test, after one shared step (so the
 * stepped trace shows the thread ran before it died). */
static int abort_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    probe_shared_t *s = shared;
    *result = lfs_load(&s->word, LFS_ACQUIRE);
    abort();
}

/* Allocates until the pool says no, keeping nothing: a leak per call. */
static int exhaust_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    for (lfs_word_t n = 0;; n++) {
        lfs_word_t *node = lfs_node_alloc(); /* stepped: does not return when empty */
        if (!node) {
            *result = n;
            return LFS_NOMEM;
        }
        lfs_init_store(node, arg);
    }
}

LFS_TESTONLY_PROBE(wild, "run() loads through a wild pointer (null + 16)", wild_init,
                   .n_options = 1,
                   .options = { { "how", 0, 3, 0,
                                  "0: through lfs_load, 1: plain C dereference, 2: runaway recursion, "
                                  "3: as lfs_cas's expected" } });
LFS_TESTONLY_PROBE(spin, "run() retries a CAS that never succeeds (livelock)", probe_init);
LFS_TESTONLY_PROBE(abort, "run() calls abort()", probe_init);
LFS_TESTONLY_PROBE(exhaust, "run() allocates nodes until the pool runs out", probe_init);
