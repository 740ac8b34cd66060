/*
 * reclaim_hazard.h — hazard pointers (M. M. Michael, "Hazard Pointers: Safe
 * Memory Reclamation for Lock-Free Objects", IEEE TPDS 15(6), 2004).
 *
 * A structure embeds an lfs_hp_domain_t in its shared state and declares its
 * `hazard` array as one root of kind LFS_HAZARD (LFS_HP_ROOT below). Thread t
 * owns hazard slots [t * LFS_HP_PER_THREAD, (t + 1) * LFS_HP_PER_THREAD).
 * A hazard holds a node *pointer* (LFS_REF_POINTER encoding), 0 when clear.
 *
 * Protocol, per access to a shared node reference:
 *   p = lfs_hp_protect(d, k, &src)     load, publish, fence, re-validate
 *   ... use p ...
 *   lfs_hp_clear(d, k)
 * and, after unlinking a node:
 *   lfs_hp_retire(d, node, R)          retire; scan once R nodes wait
 */
#ifndef LFS_RECLAIM_HAZARD_H
#define LFS_RECLAIM_HAZARD_H

#include <stddef.h>
#include <stdint.h>

#include "lfstress.h"

#define LFS_HP_PER_THREAD 2
#define LFS_HP_SLOTS (LFS_MAX_THREADS * LFS_HP_PER_THREAD)

_Static_assert(LFS_HP_PER_THREAD >= 1 && LFS_HP_PER_THREAD <= 8,
               "hazards per thread: 1..8");

typedef struct lfs_hp_domain {
    lfs_word_t hazard[LFS_HP_SLOTS];
} lfs_hp_domain_t;

/* The root entry a structure puts in its descriptor for a domain embedded as
 * member `m` of shared-state type `type`. */
#define LFS_HP_ROOT(type, m)                                                 \
    { "hazard", offsetof(type, m.hazard), LFS_HP_SLOTS, LFS_HAZARD, LFS_ROOT_RECLAIM }

/* A private copy of every thread's hazards, taken by a scan. */
typedef struct lfs_hp_snapshot {
    uint32_t n;
    lfs_word_t hazard[LFS_HP_SLOTS];
} lfs_hp_snapshot_t;

/* Clear every hazard. For init() (setup mode), before any thread runs. */
void lfs_hp_domain_init(lfs_hp_domain_t *d);

/* Publish p in this thread's hazard k, then a seq_cst fence: the publication
 * is ordered before the caller's re-validating load (store-load). The caller
 * must re-validate (see lfs_hp_protect) before trusting p. */
void lfs_hp_publish(lfs_hp_domain_t *d, int k, const void *p);

/* Load the node pointer in *src and protect it in hazard k: load, publish,
 * fence, reload until two loads agree. On return the node (if not null) was
 * still referenced from *src after the hazard became visible, so no scan
 * that starts later can free it. Returns the pointer word read. */
lfs_word_t lfs_hp_protect(lfs_hp_domain_t *d, int k, lfs_word_t *src);

/* Clear this thread's hazard k (release: this thread's accesses to the node
 * happen before a scan that sees the hazard cleared frees it). */
void lfs_hp_clear(lfs_hp_domain_t *d, int k);

/* Read every active thread's hazards into *snap (lfs_load each, after a
 * seq_cst fence that orders the caller's earlier unlink before the reads). */
void lfs_hp_snapshot(lfs_hp_domain_t *d, lfs_hp_snapshot_t *snap);
/* Whether node appears in a snapshot (an lfs_still_needed_fn; ctx = snap). */
bool lfs_hp_snapshot_holds(void *node, lfs_word_t stamp, void *ctx);

/* Retire an unlinked node; once this thread has `threshold` or more retired
 * nodes, scan: snapshot the hazards and free every retired node that none
 * names. Returns how many nodes were freed. */
uint32_t lfs_hp_retire(lfs_hp_domain_t *d, void *node, uint32_t threshold);
/* The scan alone. */
uint32_t lfs_hp_scan(lfs_hp_domain_t *d);

#endif /* LFS_RECLAIM_HAZARD_H */
