/*
 * msqueue_naive.c — Michael & Scott's lock-free queue (PODC 1996) with plain
 * pointers and NO protection: the textbook bug, kept as a known-bad baseline.
 *
 * What protects it: nothing beyond the MS96 algorithm itself. A dequeued
 * node goes straight back to the pool with lfs_node_free, and the pool
 * reuses addresses LIFO.
 * Where ABA strikes: a thread that loaded head (or tail, or tail->next) = A
 * and is preempted can find A freed, reallocated and back in the queue; its
 * CAS compares addresses only and succeeds on the reincarnation — head jumps
 * to a stale `next`, or a node is linked after a dequeued one. With option
 * cleanup = 1 the dequeuer also clears A->next after freeing A, which severs
 * the queue when A was reused meanwhile (the essay's story).
 * Stale reads (next->value of a freed node) are benign here in the paper's
 * type-stable sense: the CAS that would publish them fails.
 *
 * Memory orders (the loops are msq_ptr_link / msq_ptr_unlink in
 * structures/msqueue/msqueue.h):
 *   load head/tail/next   ACQUIRE  the node read through it was initialised
 *                                  by its enqueuer before being linked.
 *   re-check head/tail    RELAXED  compared, never dereferenced; ordered
 *                                  after the ACQUIRE load of next.
 *   CAS tail->next        RELEASE  publishes the new node's init stores.
 *   CAS tail (swing)      RELEASE  passes on what we acquired of the node.
 *   CAS head              RELEASE  same, for the next dequeuer; the free
 *                                  needs no more (nothing protects it anyway).
 *   load next->value      RELAXED  ordered by the ACQUIRE load of next.
 *   cleanup store         RELAXED  the bug under study; no order fixes it.
 */
#include "msqueue.h"

typedef struct naive_shared {
    MSQ_HEAD_TAIL;
} naive_shared_t;

static int naive_init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    naive_shared_t *q = shared;
    return msq_ptr_init(&q->head, &q->tail);
}

static void naive_thread_init(void *shared, void *local, const lfs_options_t *opts)
{
    (void)shared;
    msq_local_init_cleanup(local, opts);
}

static int naive_enqueue(void *shared, void *local, lfs_word_t value, lfs_word_t *result)
{
    (void)local;
    (void)result;
    naive_shared_t *q = shared;
    msq_node_t *node = msq_ptr_new_node(value);
    if (node == NULL)
        return LFS_NOMEM;
    msq_ptr_link(&q->tail, node);
    return LFS_OK;
}

static int naive_dequeue(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    (void)arg;
    naive_shared_t *q = shared;
    const msq_local_t *cfg = local;
    msq_node_t *old;
    if (msq_ptr_unlink(&q->head, &q->tail, LFS_RELEASE, &old, result) == LFS_EMPTY)
        return LFS_EMPTY;
    lfs_node_free(old); /* straight back to the pool: the address may return at once */
    if (cfg->cleanup == LFS_CLEANUP_DEFERRED)
        lfs_store(&old->next, LFS_REF_NULL, LFS_RELAXED); /* may hit a reincarnation */
    return LFS_OK;
}

const lfs_structure_t lfs_msqueue_naive = {
    .family = "msqueue",
    .variant = "naive",
    .summary = "MS96 queue, plain pointers, frees at once: no ABA protection",
    .spec = "queue",
    .ref_encoding = LFS_REF_POINTER,
    .memory_promise = LFS_TYPE_STABLE,
    .shared_size = sizeof(naive_shared_t),
    .local_size = sizeof(msq_local_t),
    MSQ_NODE_FIELDS,
    .n_roots = 2,
    .roots = { MSQ_HEAD_TAIL_ROOTS(naive_shared_t) },
    MSQ_OPS(naive_enqueue, naive_dequeue),
    .n_options = 1,
    .options = { MSQ_OPTION_CLEANUP },
    .init = naive_init,
    .thread_init = naive_thread_init,
};
