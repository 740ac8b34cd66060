/*
 * freerun.h — the free-running build's run API (pthreads, real atomics), for
 * the Python driver and the benchmark/stress drivers.
 */
#ifndef LFS_FREERUN_H
#define LFS_FREERUN_H

#include "common/common.h"

/* BEGIN CDEF: the run API (read by native/build_cffi.py) */
typedef struct lfs_run lfs_run_t;

lfs_run_t *lfs_run_new(const lfs_structure_t *s, int nthreads, uint32_t capacity,
                       const int64_t *options);
void lfs_run_delete(lfs_run_t *r);
/* Empty pool and structure (call lfs_run_init next). No thread may be running. */
void lfs_run_reset(lfs_run_t *r);
/* The structure's init and every thread's thread_init. */
int lfs_run_init(lfs_run_t *r);
/* Call operation op as thread tid on the calling OS thread. */
int lfs_run_call(lfs_run_t *r, int tid, int op, int64_t arg, int64_t *result);
/* Make the calling OS thread act as virtual thread tid (for drivers). */
void lfs_run_enter(lfs_run_t *r, int tid);
/* Return per-thread caches to the shared free list (before an audit). */
void lfs_run_quiesce(lfs_run_t *r);

void *lfs_run_shared(lfs_run_t *r);
void *lfs_run_local(lfs_run_t *r, int tid);
const lfs_structure_t *lfs_run_structure(lfs_run_t *r);
int lfs_run_threads(lfs_run_t *r);
uint32_t lfs_run_capacity(lfs_run_t *r);
const uint8_t *lfs_run_slot_states(lfs_run_t *r);
const uint32_t *lfs_run_slot_gens(lfs_run_t *r);
const lfs_word_t *lfs_run_node_words(lfs_run_t *r);
const lfs_word_t *lfs_run_shared_words(lfs_run_t *r);
uint32_t lfs_run_retired_count(lfs_run_t *r, int tid);
int32_t lfs_run_decode_ref(lfs_run_t *r, lfs_word_t word);
/* Free slots now: the shared free list plus every thread's cache. Racy reads,
 * for a sampler while threads run (pool use = capacity - free). */
uint32_t lfs_run_free_slots(lfs_run_t *r);
/* The shared free list (after lfs_run_quiesce, every free slot is on it). */
const uint32_t *lfs_run_free_list(lfs_run_t *r, uint32_t *count);
enum lfs_run_limits { LFS_RUN_MAX_CAPACITY = 1 << 28 }; /* pool slots of a run */
/* END CDEF */

/* The real-thread drivers (bench.c). */
#include "bench.h"

#endif
