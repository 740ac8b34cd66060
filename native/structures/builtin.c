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
    &lfs_treiber_hazard
);
