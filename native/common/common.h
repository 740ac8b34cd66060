/* common.h — pieces both builds share: the options record, the registry,
 * the roles of a structure with their defaults applied. */
#ifndef LFS_COMMON_H
#define LFS_COMMON_H

#include "lfstress.h"

/* BEGIN CDEF: slots, registry, roles */
enum lfs_slot_state { LFS_SLOT_FREE = 0, LFS_SLOT_LIVE = 1, LFS_SLOT_RETIRED = 2 };

/* Structures compiled into this build. */
unsigned lfs_structure_count(void);
const lfs_structure_t *lfs_structure_get(unsigned i);

/* Build identity, checked by the Python loader against its own version. */
const char *lfs_build_version(void);
const char *lfs_build_source_hash(void);
/* The compiler flags it was built with, for the reports to print. */
const char *lfs_build_flags(void);

/* A structure's roles as they apply: the declared ones, and for every role
 * left undeclared its default (the rules are in lfstress.h, "Roles").
 * Indices into ops / roots / fields; -1: the structure has none. */
typedef struct lfs_roles {
    int32_t insert_op;
    int32_t remove_op;
    int32_t entry_root;
    int32_t exit_root;
    int32_t value_field;
    int32_t next_field;
    int32_t sentinel;      /* 1: the entry root points at a sentinel node */
} lfs_roles_t;
void lfs_structure_roles(const lfs_structure_t *s, lfs_roles_t *out);
/* END CDEF */

struct lfs_options {
    const lfs_structure_t *structure;
    int64_t values[LFS_MAX_OPTIONS]; /* in the order of structure->options */
};

/* Fill opts from values (NULL: defaults). Returns -1 (and the index of the
 * offending option in *bad) if a value is outside the declared range. */
int lfs_options_fill(struct lfs_options *opts, const lfs_structure_t *s,
                     const int64_t *values, int *bad);

#endif
