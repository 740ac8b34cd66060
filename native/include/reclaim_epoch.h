/*
 * reclaim_epoch.h — epoch-based reclamation (K. Fraser, "Practical
 * lock-freedom", PhD thesis, University of Cambridge, 2004, ch. 5).
 *
 * A structure embeds an lfs_epoch_domain_t in its shared state and declares
 * its two parts as roots of kind LFS_DATA (LFS_EPOCH_ROOTS below). Every
 * operation that reads shared node references runs between
 * lfs_epoch_enter and lfs_epoch_exit (a critical section); unlinked nodes
 * are handed to lfs_epoch_retire, inside the critical section or outside.
 *
 * The global epoch is a counter that only grows; thread t's announcement is
 * (epoch << 1) | 1 while t is inside a critical section, 0 outside.
 */
#ifndef LFS_RECLAIM_EPOCH_H
#define LFS_RECLAIM_EPOCH_H

#include <stddef.h>
#include <stdint.h>

#include "lfstress.h"

typedef struct lfs_epoch_domain {
    lfs_word_t epoch;                      /* the global epoch */
    lfs_word_t announce[LFS_MAX_THREADS];  /* per thread: (epoch << 1) | active */
} lfs_epoch_domain_t;

#define LFS_EPOCH_ACTIVE ((lfs_word_t)1)

/* The two root entries for a domain embedded as member `m` of `type`. */
#define LFS_EPOCH_ROOTS(type, m)                                             \
    { "epoch", offsetof(type, m.epoch), 1, LFS_DATA, LFS_ROOT_RECLAIM },     \
    { "announce", offsetof(type, m.announce), LFS_MAX_THREADS, LFS_DATA,     \
      LFS_ROOT_RECLAIM }

/* Epoch 0, nobody active. For init() (setup mode). */
void lfs_epoch_domain_init(lfs_epoch_domain_t *d);

/* Enter a critical section: announce the global epoch as this thread's, then
 * a seq_cst fence so the announcement is visible before any node reference
 * is read. Returns the epoch announced. */
lfs_word_t lfs_epoch_enter(lfs_epoch_domain_t *d);
/* Leave it (release: every access made inside happens-before a reclaimer
 * that sees this thread inactive). */
void lfs_epoch_exit(lfs_epoch_domain_t *d);

/* Retire an unlinked node, stamped with the global epoch read now (after
 * the unlink). Every time this thread's retired list reaches a multiple of
 * `threshold`, try to advance the global epoch and free every node retired
 * two or more epochs ago. Returns how many nodes were freed. */
uint32_t lfs_epoch_retire(lfs_epoch_domain_t *d, void *node, uint32_t threshold);

/* Advance the global epoch by one if every active thread has announced it.
 * Returns the global epoch as last seen (advanced or not). */
lfs_word_t lfs_epoch_try_advance(lfs_epoch_domain_t *d);
/* Free this thread's retired nodes stamped at most global - 2: the oldest
 * ones, up to the first too recent (every node on the thread's retired list
 * must come from lfs_epoch_retire, so that stamps grow along it). */
uint32_t lfs_epoch_reclaim(lfs_word_t global);

#endif /* LFS_RECLAIM_EPOCH_H */
