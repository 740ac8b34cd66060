/*
 * test_structures.c — structures that exist only to test the harness itself
 * (family "testonly"). Not for users: `lfstress list` shows them as such.
 *
 * testonly/nondet — a counter whose increment reads a process-global
 * variable that survives between executions: the same schedule gives a
 * different trace each time it runs, which is exactly the non-determinism
 * `lfstress replay` must detect and report (tests/test_replay.py). Real code
 * does this by reading a clock, an unseeded RNG or a static cache.
 */
#include "lfstress.h"

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
    .ops = { { "bump", false, true, nondet_bump } },
    .n_options = 0,
    .init = nondet_init,
    .thread_init = 0,
};
