/*
 * msqueue_leaky.c — Michael & Scott's lock-free queue (PODC 1996) that never
 * gives a node back: the safe baseline every reclamation scheme is measured
 * against (it has the algorithm's cost and none of reclamation's).
 *
 * What protects it: no address is ever reused, so a pointer compared by a CAS
 * names the same node it named when loaded — ABA cannot happen, and every
 * access is to a LIVE (or RETIRED) node. The dequeued node is retired and
 * never freed: garbage by design, visible to the pool and the checker, not a
 * leak.
 * Where it can still go wrong: with cleanup = 1 the dequeuer clears the old
 * head's next; an enqueuer that read tail = A, A->next = null and was
 * preempted can then CAS the cleared A->next and link its node after a
 * dequeued node — a lost value without any reuse (MS96's enqueue relies on
 * a next never returning to null).
 *
 * Memory orders (the loops are msq_ptr_link / msq_ptr_unlink in
 * structures/msqueue/msqueue.h):
 *   load head/tail/next   ACQUIRE  the node read through it was initialised
 *                                  by its enqueuer before being linked.
 *   re-check head/tail    RELAXED  compared, never dereferenced; ordered
 *                                  after the ACQUIRE load of next.
 *   CAS tail->next        RELEASE  publishes the new node's init stores.
 *   CAS tail (swing)      RELEASE  passes on what we acquired of the node.
 *   CAS head              RELEASE  same, for the next dequeuer.
 *   load next->value      RELAXED  ordered by the ACQUIRE load of next.
 *   cleanup store         RELAXED  only clears a dead node's link.
 */
#include "msqueue.h"

typedef struct leaky_shared {
    MSQ_HEAD_TAIL;
} leaky_shared_t;

static int leaky_init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    leaky_shared_t *q = shared;
    return msq_ptr_init(&q->head, &q->tail);
}

static void leaky_thread_init(void *shared, void *local, const lfs_options_t *opts)
{
    (void)shared;
    msq_local_init_cleanup(local, opts);
}

static int leaky_enqueue(void *shared, void *local, lfs_word_t value, lfs_word_t *result)
{
    (void)local;
    (void)result;
    leaky_shared_t *q = shared;
    msq_node_t *node = msq_ptr_new_node(value);
    if (node == NULL)
        return LFS_NOMEM;
    msq_ptr_link(&q->tail, node);
    return LFS_OK;
}

static int leaky_dequeue(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    (void)arg;
    leaky_shared_t *q = shared;
    const msq_local_t *cfg = local;
    msq_node_t *old;
    if (msq_ptr_unlink(&q->head, &q->tail, LFS_RELEASE, &old, result) == LFS_EMPTY)
        return LFS_EMPTY;
    /* Retired, and no scheme will ever free it: the pool (and the checker)
     * see garbage by design, not a leak. */
    lfs_node_retire(old, 0);
    if (cfg->cleanup == LFS_CLEANUP_DEFERRED)
        lfs_store(&old->next, LFS_REF_NULL, LFS_RELAXED);
    return LFS_OK;
}

const lfs_structure_t lfs_msqueue_leaky = {
    .family = "msqueue",
    .variant = "leaky",
    .summary = "MS96 queue that never frees: the safe, leaking baseline",
    .spec = "queue",
    .ref_encoding = LFS_REF_POINTER,
    .memory_promise = LFS_NO_STALE_ACCESS,
    .shared_size = sizeof(leaky_shared_t),
    .local_size = sizeof(msq_local_t),
    MSQ_NODE_FIELDS,
    .n_roots = 2,
    .roots = { MSQ_HEAD_TAIL_ROOTS(leaky_shared_t) },
    MSQ_OPS(leaky_enqueue, leaky_dequeue),
    .n_options = 1,
    .options = { MSQ_OPTION_CLEANUP },
    .init = leaky_init,
    .thread_init = leaky_thread_init,
};
