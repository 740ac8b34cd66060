/* builtin.h — the structures compiled into every lfstress build. */
#ifndef LFS_BUILTIN_H
#define LFS_BUILTIN_H

#include "lfstress.h"

/* Michael–Scott queue variants (family "msqueue"), one per reclamation
 * scheme; see structures/msqueue/msqueue.h for which is safe against what. */
extern const lfs_structure_t lfs_msqueue_naive;
extern const lfs_structure_t lfs_msqueue_leaky;
extern const lfs_structure_t lfs_msqueue_tagged;
extern const lfs_structure_t lfs_msqueue_hazard;
extern const lfs_structure_t lfs_msqueue_epoch;
extern const lfs_structure_t lfs_msqueue_locked;

/* Treiber stack variants (family "treiber"); see structures/treiber/treiber.h. */
extern const lfs_structure_t lfs_treiber_naive;
extern const lfs_structure_t lfs_treiber_tagged;
extern const lfs_structure_t lfs_treiber_hazard;

#endif /* LFS_BUILTIN_H */
