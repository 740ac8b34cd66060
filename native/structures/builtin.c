/* builtin.c — the registry of built-in structures, in `lfstress list` order:
 * the same LFS_EXPORT_STRUCTURES line a user's structure file ends with. */
#include "builtin.h"

LFS_EXPORT_STRUCTURES(
    &lfs_msqueue_naive,
    &lfs_msqueue_leaky,
    &lfs_msqueue_tagged,
    &lfs_msqueue_hazard,
    &lfs_msqueue_epoch,
    &lfs_msqueue_locked,
    &lfs_treiber_naive,
    &lfs_treiber_tagged,
    &lfs_treiber_hazard,
    /* harness self-tests only (testonly/structures.c) */
    &lfs_testonly_nondet,
    &lfs_testonly_wild,
    &lfs_testonly_spin,
    &lfs_testonly_abort,
    &lfs_testonly_exhaust,
    &lfs_testonly_primitives
);
