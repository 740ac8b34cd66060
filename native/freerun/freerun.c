/*
 * freerun.c — the free-running build: the node pool and thread context behind
 * lfstress.h when the primitives are real atomics and threads are pthreads.
 *
 * The pool keeps the same per-slot state and generation as the stepped build,
 * so a run can be audited afterwards (LIVE + RETIRED + FREE = capacity, the
 * reachability walk). Allocation is the hot path of every enqueue, so each
 * thread keeps a private cache of free slots and touches the shared free list
 * (under a mutex) only to move a batch of CACHE_BATCH slots in or out.
 *
 * Slot state and generation are written with relaxed atomics: they are
 * bookkeeping read by the auditor after the threads have been joined (the join
 * orders them), never used to synchronise the structure itself.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "freerun.h"

#define CACHE_SIZE 64
#define CACHE_BATCH 32

/* A slot's place on its retirer's list, and the stamp it was retired with:
 * one 16-byte record, so that a retire writes one cache line, not three. */
struct retired_link {
    int32_t next, prev;
    lfs_word_t stamp;
};

struct lfs_fthread {
    struct lfs_run *run;
    int tid;
    void *local;
    uint32_t cache[CACHE_SIZE];
    uint32_t cached;
    int32_t retired_head, retired_tail;
    uint32_t retired_count;
};

struct lfs_run {
    const lfs_structure_t *s;
    struct lfs_options opts;
    int nthreads;
    uint32_t capacity;
    uint32_t node_words;
    int node_shift;       /* log2(node_words) when a power of two, else -1 */
    lfs_word_t *nodes;
    uint8_t *state;
    uint32_t *gen;
    struct retired_link *retired; /* per slot: the retired list and its stamp */
    pthread_mutex_t lock; /* guards free_stack/free_count */
    uint32_t *free_stack;
    uint32_t free_count;
    lfs_word_t *shared;
    unsigned char *locals;
    size_t local_stride;
    struct lfs_fthread threads[LFS_MAX_THREADS];
};

static __thread struct lfs_run *cur_run;
static __thread struct lfs_fthread *cur_ft;

void lfs_run_enter(lfs_run_t *r, int tid)
{
    cur_run = r;
    cur_ft = &r->threads[tid];
}

lfs_run_t *lfs_run_new(const lfs_structure_t *s, int nthreads, uint32_t capacity,
                       const int64_t *options)
{
    if (!s || nthreads < 1 || nthreads > LFS_MAX_THREADS || capacity < 1 ||
        capacity > LFS_RUN_MAX_CAPACITY || s->node_words < 1 || s->node_words > LFS_MAX_FIELDS)
        return NULL;
    lfs_run_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (lfs_options_fill(&r->opts, s, options, NULL) != 0) {
        free(r);
        return NULL;
    }
    r->s = s;
    r->nthreads = nthreads;
    r->capacity = capacity;
    r->node_words = s->node_words;
    /* lfs_node_index runs on every free and retire: a shift, not a 64-bit
     * division (~30 cycles), when the node size allows it. */
    r->node_shift = (s->node_words & (s->node_words - 1)) ? -1 : __builtin_ctz(s->node_words);
    /* Nodes cache-line aligned, so that two threads' nodes do not share a
     * line by accident of the allocator (the peers' nodes do not either). */
    if (posix_memalign((void **)&r->nodes, 64,
                       (size_t)capacity * s->node_words * sizeof(lfs_word_t)) != 0)
        r->nodes = NULL;
    r->state = calloc(capacity, 1);
    r->gen = calloc(capacity, sizeof(uint32_t));
    r->retired = malloc((size_t)capacity * sizeof *r->retired);
    r->free_stack = calloc(capacity, sizeof(uint32_t));
    size_t shared = s->shared_size ? s->shared_size : 8;
    if (posix_memalign((void **)&r->shared, 64, (shared + 63) & ~(size_t)63) != 0)
        r->shared = NULL;
    /* Each thread's private state on its own cache lines. */
    r->local_stride = ((s->local_size ? s->local_size : 1) + 63) & ~(size_t)63;
    if (posix_memalign((void **)&r->locals, 64, r->local_stride * (size_t)nthreads) != 0)
        r->locals = NULL;
    if (!r->nodes || !r->state || !r->gen || !r->retired ||
        !r->free_stack || !r->shared || !r->locals) {
        lfs_run_delete(r);
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    lfs_run_reset(r);
    return r;
}

/* Writes every byte of the pool's arrays, so that each page is faulted in
 * here and not in the middle of a timed run. */
void lfs_run_reset(lfs_run_t *r)
{
    memset(r->nodes, 0, (size_t)r->capacity * r->node_words * sizeof(lfs_word_t));
    memset(r->state, LFS_SLOT_FREE, r->capacity);
    memset(r->gen, 0, r->capacity * sizeof(uint32_t));
    memset(r->shared, 0, r->s->shared_size);
    memset(r->locals, 0, r->local_stride * (size_t)r->nthreads);
    for (uint32_t i = 0; i < r->capacity; i++) {
        r->free_stack[i] = r->capacity - 1 - i;
        r->retired[i] = (struct retired_link){ .next = -1, .prev = -1, .stamp = 0 };
    }
    r->free_count = r->capacity;
    for (int i = 0; i < r->nthreads; i++) {
        struct lfs_fthread *t = &r->threads[i];
        t->run = r;
        t->tid = i;
        t->local = r->locals + r->local_stride * (size_t)i;
        t->cached = 0;
        t->retired_head = t->retired_tail = -1;
        t->retired_count = 0;
    }
}

void lfs_run_delete(lfs_run_t *r)
{
    if (!r)
        return;
    free(r->nodes); free(r->state); free(r->gen); free(r->retired);
    free(r->free_stack); free(r->shared); free(r->locals);
    free(r);
}

int lfs_run_init(lfs_run_t *r)
{
    int rc = 0;
    lfs_run_enter(r, 0);
    if (r->s->init)
        rc = r->s->init(r->shared, &r->opts);
    for (int i = 0; i < r->nthreads && r->s->thread_init; i++) {
        lfs_run_enter(r, i);
        r->s->thread_init(r->shared, r->threads[i].local, &r->opts);
    }
    return rc;
}

int lfs_run_call(lfs_run_t *r, int tid, int op, int64_t arg, int64_t *result)
{
    if (tid < 0 || tid >= r->nthreads || op < 0 || (uint32_t)op >= r->s->n_ops)
        return -2;
    lfs_run_enter(r, tid);
    lfs_word_t out = 0;
    int rc = r->s->ops[op].fn(r->shared, r->threads[tid].local, (lfs_word_t)arg, &out);
    *result = (int64_t)out;
    return rc;
}

/* Give every thread's cached free slots back to the shared list, so that the
 * audit's FREE count and the free list agree. Call with no thread running. */
void lfs_run_quiesce(lfs_run_t *r)
{
    for (int i = 0; i < r->nthreads; i++) {
        struct lfs_fthread *t = &r->threads[i];
        while (t->cached)
            r->free_stack[r->free_count++] = t->cache[--t->cached];
    }
}

void *lfs_run_shared(lfs_run_t *r) { return r->shared; }
void *lfs_run_local(lfs_run_t *r, int tid) { return r->threads[tid].local; }
const lfs_structure_t *lfs_run_structure(lfs_run_t *r) { return r->s; }
int lfs_run_threads(lfs_run_t *r) { return r->nthreads; }
uint32_t lfs_run_capacity(lfs_run_t *r) { return r->capacity; }
const uint8_t *lfs_run_slot_states(lfs_run_t *r) { return r->state; }
const uint32_t *lfs_run_slot_gens(lfs_run_t *r) { return r->gen; }
const lfs_word_t *lfs_run_node_words(lfs_run_t *r) { return r->nodes; }
const lfs_word_t *lfs_run_shared_words(lfs_run_t *r) { return r->shared; }
uint32_t lfs_run_retired_count(lfs_run_t *r, int tid) { return r->threads[tid].retired_count; }

uint32_t lfs_run_free_slots(lfs_run_t *r)
{
    uint32_t n = __atomic_load_n(&r->free_count, __ATOMIC_RELAXED);
    for (int i = 0; i < r->nthreads; i++)
        n += __atomic_load_n(&r->threads[i].cached, __ATOMIC_RELAXED);
    return n;
}

const uint32_t *lfs_run_free_list(lfs_run_t *r, uint32_t *count)
{
    *count = r->free_count;
    return r->free_stack;
}

int32_t lfs_run_decode_ref(lfs_run_t *r, lfs_word_t word)
{
    if (word == 0)
        return -1;
    if (r->s->ref_encoding == LFS_REF_INDEX) {
        uint32_t low = lfs_ref_slot_plus_one(word);
        return (low && low - 1 < r->capacity) ? (int32_t)(low - 1) : -1;
    }
    uintptr_t off = (uintptr_t)word - (uintptr_t)r->nodes;
    uintptr_t node_bytes = r->node_words * sizeof(lfs_word_t);
    return (off < r->capacity * node_bytes && off % node_bytes == 0)
               ? (int32_t)(off / node_bytes) : -1;
}

/* ------------------------------------------------------------------ */
/* lfstress.h, free-running                                            */
/* ------------------------------------------------------------------ */

int lfs_thread_id(void) { return cur_ft->tid; }
int lfs_thread_count(void) { return cur_run->nthreads; }
size_t lfs_node_size(void) { return cur_run->node_words * sizeof(lfs_word_t); }

void *lfs_node_at(uint32_t index)
{
    return cur_run->nodes + (size_t)index * cur_run->node_words;
}

uint32_t lfs_node_index(const void *node)
{
    const lfs_run_t *r = cur_run;
    size_t words = (size_t)((const lfs_word_t *)node - r->nodes);
    return (uint32_t)(r->node_shift >= 0 ? words >> r->node_shift : words / r->node_words);
}

void *lfs_node_alloc(void)
{
    struct lfs_fthread *t = cur_ft;
    lfs_run_t *r = cur_run;
    if (t->cached == 0) {
        /* The batch goes into the cache so that it pops out in the shared
         * stack's own order. A fresh pool's stack pops slots 0, 1, 2, ...:
         * a thread that never frees (leaky) then walks memory upwards, a
         * stream the hardware prefetcher follows, instead of jumping back 32
         * slots at every batch (measured at 1 thread: leaky 72 -> 90 Mops/s;
         * schemes that reuse nodes live on their cache and do not notice). */
        pthread_mutex_lock(&r->lock);
        uint32_t batch = r->free_count < CACHE_BATCH ? r->free_count : CACHE_BATCH;
        for (uint32_t i = batch; i > 0; i--)
            t->cache[i - 1] = r->free_stack[--r->free_count];
        t->cached = batch;
        pthread_mutex_unlock(&r->lock);
        if (t->cached == 0)
            return NULL;
    }
    uint32_t s = t->cache[--t->cached];
    __atomic_store_n(&r->state[s], LFS_SLOT_LIVE, __ATOMIC_RELAXED);
    __atomic_fetch_add(&r->gen[s], 1, __ATOMIC_RELAXED);
    return r->nodes + (size_t)s * r->node_words;
}

static void unlink_retired(lfs_run_t *r, struct lfs_fthread *t, uint32_t s)
{
    int32_t p = r->retired[s].prev, n = r->retired[s].next;
    if (p >= 0) r->retired[p].next = n; else t->retired_head = n;
    if (n >= 0) r->retired[n].prev = p; else t->retired_tail = p;
    r->retired[s].next = r->retired[s].prev = -1;
    t->retired_count--;
}

static void release_slot(lfs_run_t *r, struct lfs_fthread *t, uint32_t s)
{
    __atomic_store_n(&r->state[s], LFS_SLOT_FREE, __ATOMIC_RELAXED);
    if (t->cached == CACHE_SIZE) {
        pthread_mutex_lock(&r->lock);
        while (t->cached > CACHE_SIZE - CACHE_BATCH)
            r->free_stack[r->free_count++] = t->cache[--t->cached];
        pthread_mutex_unlock(&r->lock);
    }
    t->cache[t->cached++] = s;
}

void lfs_node_free(void *node)
{
    lfs_run_t *r = cur_run;
    struct lfs_fthread *t = cur_ft;
    uint32_t s = lfs_node_index(node);
    uint8_t old = __atomic_load_n(&r->state[s], __ATOMIC_RELAXED);
    if (old == LFS_SLOT_FREE)
        return; /* a double free: keep the pool consistent, the audit reports it */
    if (old == LFS_SLOT_RETIRED) /* only its retirer frees a retired node */
        unlink_retired(r, t, s);
    release_slot(r, t, s);
}

void lfs_node_retire(void *node, lfs_word_t stamp)
{
    lfs_run_t *r = cur_run;
    struct lfs_fthread *t = cur_ft;
    uint32_t s = lfs_node_index(node);
    __atomic_store_n(&r->state[s], LFS_SLOT_RETIRED, __ATOMIC_RELAXED);
    r->retired[s] = (struct retired_link){ .next = -1, .prev = t->retired_tail, .stamp = stamp };
    if (t->retired_tail >= 0) r->retired[t->retired_tail].next = (int32_t)s;
    else t->retired_head = (int32_t)s;
    t->retired_tail = (int32_t)s;
    t->retired_count++;
}

static uint32_t reclaim_walk(lfs_still_needed_fn still_needed, void *ctx, bool stop_at_needed)
{
    lfs_run_t *r = cur_run;
    struct lfs_fthread *t = cur_ft;
    uint32_t freed = 0;
    for (int32_t s = t->retired_head; s >= 0;) {
        int32_t next = r->retired[s].next;
        if (!still_needed(r->nodes + (size_t)s * r->node_words, r->retired[s].stamp, ctx)) {
            unlink_retired(r, t, (uint32_t)s);
            release_slot(r, t, (uint32_t)s);
            freed++;
        } else if (stop_at_needed) {
            break;
        }
        s = next;
    }
    return freed;
}

uint32_t lfs_reclaim(lfs_still_needed_fn still_needed, void *ctx)
{
    return reclaim_walk(still_needed, ctx, false);
}

uint32_t lfs_reclaim_oldest(lfs_still_needed_fn still_needed, void *ctx)
{
    return reclaim_walk(still_needed, ctx, true);
}

uint32_t lfs_retired_count(void) { return cur_ft->retired_count; }
