/* probe.h — the shape every one-operation test-only structure shares (the
 * broken ones of structures.c, the hostile ones of hostile.c): one shared
 * word that stays 0, and one operation, "run", so one scenario file can list
 * them all. */
#ifndef LFS_TESTONLY_PROBE_H
#define LFS_TESTONLY_PROBE_H

#include "lfstress.h"

typedef struct probe_shared {
    lfs_word_t word; /* never changes: 0 */
    lfs_word_t how;  /* wild's option, set once by init (not a shared word of the algorithm) */
} probe_shared_t;

#define LFS_TESTONLY_PROBE(name, what, init_fn, ...)                            \
    const lfs_structure_t lfs_testonly_##name = {                               \
        .family = "testonly",                                                   \
        .variant = #name,                                                       \
        .summary = "tests only: " what,                                         \
        .spec = "none",                                                         \
        .ref_encoding = LFS_REF_POINTER,                                        \
        .memory_promise = LFS_TYPE_STABLE,                                      \
        .shared_size = sizeof(probe_shared_t),                                  \
        .local_size = 0,                                                        \
        .node_words = 1,                                                        \
        .fields = { { "value", LFS_DATA } },                                    \
        .n_roots = 1,                                                           \
        .roots = { { "word", 0, 1, LFS_DATA } },                                \
        .n_ops = 1,                                                             \
        .ops = { { "run", false, true, name##_run, LFS_OP_OTHER } },            \
        .init = init_fn,                                                        \
        .thread_init = 0,                                                       \
        __VA_ARGS__                                                             \
    }

#endif
