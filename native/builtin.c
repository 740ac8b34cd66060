/* builtin.c — the registry of built-in structures, in `lfstress list` order. */
#include "builtin.h"

const lfs_structure_t *const lfs_builtin_structures[] = {
    &lfs_msqueue_naive,
    &lfs_msqueue_leaky,
    &lfs_msqueue_tagged,
    &lfs_msqueue_hazard,
    &lfs_msqueue_epoch,
    &lfs_msqueue_locked,
    &lfs_testonly_nondet, /* harness self-tests only */
};

const unsigned lfs_builtin_structure_count =
    sizeof lfs_builtin_structures / sizeof lfs_builtin_structures[0];
