/* common.c — options and the structure registry, shared by both builds. */
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
