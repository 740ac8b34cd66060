/* common.h — pieces both builds share: the options record, the registry. */
#ifndef LFS_COMMON_H
#define LFS_COMMON_H

#include "lfstress.h"

enum lfs_slot_state { LFS_SLOT_FREE = 0, LFS_SLOT_LIVE = 1, LFS_SLOT_RETIRED = 2 };

struct lfs_options {
    const lfs_structure_t *structure;
    int64_t values[LFS_MAX_OPTIONS]; /* in the order of structure->options */
};

/* Fill opts from values (NULL: defaults). Returns -1 (and the index of the
 * offending option in *bad) if a value is outside the declared range. */
int lfs_options_fill(struct lfs_options *opts, const lfs_structure_t *s,
                     const int64_t *values, int *bad);

#endif
