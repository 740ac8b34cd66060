/* common.c — options, the structure registry and the roles' defaults,
 * shared by both builds. */
#include "common.h"

#include <string.h>

#ifndef LFS_VERSION
#error "the build passes -DLFS_VERSION=\"x.y.z\""
#endif
#ifndef LFS_SOURCE_HASH
#error "the build passes -DLFS_SOURCE_HASH=\"<sha256 of native/>\""
#endif
#ifndef LFS_BUILD_FLAGS
#error "the build passes -DLFS_BUILD_FLAGS=\"<the compiler flags it chose>\""
#endif

const char *lfs_build_version(void) { return LFS_VERSION; }
const char *lfs_build_source_hash(void) { return LFS_SOURCE_HASH; }
/* The flags build_cffi.py compiled this extension with (after Python's own
 * CFLAGS), for the benchmark reports to print as built. */
const char *lfs_build_flags(void) { return LFS_BUILD_FLAGS; }

/* The registry is whatever the build's one LFS_EXPORT_STRUCTURES line
 * exported: builtin.c in lfstress's own extensions, the user's file in a
 * user build (stress/usercode.py). */
unsigned lfs_structure_count(void) { return lfs_exported_structure_count; }

const lfs_structure_t *lfs_structure_get(unsigned i)
{
    return i < lfs_exported_structure_count ? lfs_exported_structures[i] : NULL;
}

int lfs_options_fill(struct lfs_options *opts, const lfs_structure_t *s,
                     const int64_t *values, int *bad)
{
    memset(opts, 0, sizeof *opts);
    opts->structure = s;
    for (uint32_t i = 0; i < s->n_options && i < LFS_MAX_OPTIONS; i++) {
        const lfs_option_desc_t *d = &s->options[i];
        int64_t v = values ? values[i] : d->dflt;
        if (v < d->min || v > d->max) {
            if (bad)
                *bad = (int)i;
            return -1;
        }
        opts->values[i] = v;
    }
    return 0;
}

int64_t lfs_option(const lfs_options_t *opts, const char *name)
{
    const lfs_structure_t *s = opts->structure;
    for (uint32_t i = 0; i < s->n_options && i < LFS_MAX_OPTIONS; i++)
        if (strcmp(s->options[i].name, name) == 0)
            return opts->values[i];
    /* A structure asking for an option it never declared is its author's bug;
     * 0 is the least surprising answer and `lfstress list` shows the table. */
    return 0;
}

/* ------------------------------------------------------------------ */
/* Roles                                                               */
/* ------------------------------------------------------------------ */

/* The op declaring `role`, else the first undeclared op of its shape. */
static int32_t op_with_role(const lfs_structure_t *s, uint8_t role, bool takes_arg,
                            bool returns_value)
{
    for (uint32_t i = 0; i < s->n_ops && i < LFS_MAX_OPS; i++)
        if (s->ops[i].role == role)
            return (int32_t)i;
    for (uint32_t i = 0; i < s->n_ops && i < LFS_MAX_OPS; i++) {
        const lfs_op_desc_t *op = &s->ops[i];
        if (op->role == LFS_OP_UNDECLARED && op->takes_arg == takes_arg &&
            (!returns_value || op->returns_value))
            return (int32_t)i;
    }
    return -1;
}

/* The field declaring `role`, else the first undeclared field of `kind`. */
static int32_t field_with_role(const lfs_structure_t *s, uint8_t role, uint8_t kind)
{
    for (uint32_t i = 0; i < s->node_words && i < LFS_MAX_FIELDS; i++)
        if (s->fields[i].role == role)
            return (int32_t)i;
    for (uint32_t i = 0; i < s->node_words && i < LFS_MAX_FIELDS; i++)
        if (s->fields[i].role == LFS_FIELD_UNDECLARED && s->fields[i].kind == kind)
            return (int32_t)i;
    return -1;
}

/* The root declaring `role`, else the first undeclared one-word link root
 * after root `after`. */
static int32_t root_with_role(const lfs_structure_t *s, uint8_t role, int32_t after)
{
    for (uint32_t i = 0; i < s->n_roots && i < LFS_MAX_ROOTS; i++)
        if (s->roots[i].role == role)
            return (int32_t)i;
    for (uint32_t i = (uint32_t)(after + 1); i < s->n_roots && i < LFS_MAX_ROOTS; i++) {
        const lfs_root_desc_t *r = &s->roots[i];
        if (r->role == LFS_ROOT_UNDECLARED && r->kind == LFS_LINK && r->count == 1)
            return (int32_t)i;
    }
    return -1;
}

static bool spec_is(const lfs_structure_t *s, const char *name)
{
    return s->spec != NULL && strcmp(s->spec, name) == 0;
}

void lfs_structure_roles(const lfs_structure_t *s, lfs_roles_t *out)
{
    out->insert_op = op_with_role(s, LFS_OP_INSERT, true, false);
    out->remove_op = op_with_role(s, LFS_OP_REMOVE, false, true);
    out->value_field = field_with_role(s, LFS_FIELD_VALUE, LFS_DATA);
    out->next_field = field_with_role(s, LFS_FIELD_NEXT, LFS_LINK);
    out->entry_root = root_with_role(s, LFS_ROOT_ENTRY, -1);
    out->exit_root = -1;
    for (uint32_t i = 0; i < s->n_roots && i < LFS_MAX_ROOTS; i++)
        if (s->roots[i].role == LFS_ROOT_EXIT)
            out->exit_root = (int32_t)i;
    if (out->exit_root < 0 && out->entry_root >= 0 && spec_is(s, "queue"))
        out->exit_root = root_with_role(s, LFS_ROOT_EXIT, out->entry_root);
    out->sentinel = s->chain_start == LFS_CHAIN_DEFAULT ? spec_is(s, "queue")
                                                        : s->chain_start == LFS_CHAIN_SENTINEL;
}
