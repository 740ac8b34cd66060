/*
 * msqueue_epoch.c — Michael & Scott's lock-free queue (PODC 1996) with
 * epoch-based reclamation (Fraser 2004, "Practical lock-freedom"; see
 * reclaim/epoch.c for why two epochs of distance suffice).
 *
 * What protects it: each operation is one epoch critical section; a dequeued
 * node is retired with the global epoch as stamp and freed only once the
 * epoch is two ahead, i.e. after every thread that could have loaded it has
 * left its section. So no node is freed while anyone holds its address: no
 * ABA on head, tail or next, and no access to a freed node.
 * Costs: a stalled thread inside enqueue/dequeue pins the epoch and garbage
 * grows without bound (expected; the benchmarks show it).
 * Where it can still go wrong: with cleanup = 1, an enqueuer that read
 * tail = A, A->next = null and was preempted can CAS the cleared A->next of
 * a dequeued A: a lost value (see structures/msqueue/msqueue.h, note 4). Reuse is not
 * involved, so epochs cannot prevent it.
 *
 * Memory orders (the loops are msq_ptr_link / msq_ptr_unlink in
 * structures/msqueue/msqueue.h; the epoch's own in reclaim/epoch.c):
 *   load head/tail/next   ACQUIRE  the node read through it was initialised
 *                                  by its enqueuer before being linked.
 *   re-check head/tail    RELAXED  compared, never dereferenced.
 *   CAS tail->next        RELEASE  publishes the new node's init stores.
 *   CAS tail (swing)      RELEASE  passes on what we acquired of the node.
 *   CAS head              SEQ_CST  the unlink must precede the SEQ_CST load
 *                                  of the global epoch that stamps the node
 *                                  (a RELEASE CAS lets that load move up).
 *   load next->value      RELAXED  ordered by the ACQUIRE load of next.
 *   cleanup store         RELAXED  the node is retired, not free: still ours.
 */
#include "msqueue.h"
#include "reclaim_epoch.h"

typedef struct epoch_shared {
    MSQ_HEAD_TAIL;
    lfs_epoch_domain_t ebr;
} epoch_shared_t;

static int epoch_init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    epoch_shared_t *q = shared;
    if (msq_ptr_init(&q->head, &q->tail) != LFS_OK)
        return LFS_NOMEM;
    lfs_epoch_domain_init(&q->ebr);
    return LFS_OK;
}

static void epoch_thread_init(void *shared, void *local, const lfs_options_t *opts)
{
    (void)shared;
    msq_local_t *cfg = local;
    msq_local_init_cleanup(cfg, opts);
    cfg->threshold = lfs_option(opts, "epoch_threshold");
}

static int epoch_enqueue(void *shared, void *local, lfs_word_t value, lfs_word_t *result)
{
    (void)local;
    (void)result;
    epoch_shared_t *q = shared;
    msq_node_t *node = msq_ptr_new_node(value); /* private until linked: no section yet */
    if (node == NULL)
        return LFS_NOMEM;
    lfs_epoch_enter(&q->ebr);
    msq_ptr_link(&q->tail, node);
    lfs_epoch_exit(&q->ebr);
    return LFS_OK;
}

static int epoch_dequeue(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    (void)arg;
    epoch_shared_t *q = shared;
    const msq_local_t *cfg = local;
    msq_node_t *old;
    lfs_epoch_enter(&q->ebr);
    if (msq_ptr_unlink(&q->head, &q->tail, LFS_SEQ_CST, &old, result) == LFS_EMPTY) {
        lfs_epoch_exit(&q->ebr);
        return LFS_EMPTY;
    }
    /* Stamped now, freed two epochs later — never while we are inside. */
    lfs_epoch_retire(&q->ebr, old, (uint32_t)cfg->threshold);
    if (cfg->cleanup == LFS_CLEANUP_DEFERRED)
        lfs_store(&old->next, LFS_REF_NULL, LFS_RELAXED);
    lfs_epoch_exit(&q->ebr);
    return LFS_OK;
}

/* A benchmark's stalled thread holds what any operation holds: a critical
 * section. */
static int epoch_stall(void *shared, void *local)
{
    (void)local;
    lfs_epoch_enter(&((epoch_shared_t *)shared)->ebr);
    return 0;
}

static void epoch_unstall(void *shared, void *local)
{
    (void)local;
    lfs_epoch_exit(&((epoch_shared_t *)shared)->ebr);
}

const lfs_structure_t lfs_msqueue_epoch = {
    .family = "msqueue",
    .variant = "epoch",
    .summary = "MS96 queue with epoch-based reclamation (Fraser 2004)",
    .spec = "queue",
    .ref_encoding = LFS_REF_POINTER,
    .memory_promise = LFS_NO_STALE_ACCESS,
    .shared_size = sizeof(epoch_shared_t),
    .local_size = sizeof(msq_local_t),
    MSQ_NODE_FIELDS,
    .n_roots = 4,
    .roots = { MSQ_HEAD_TAIL_ROOTS(epoch_shared_t), LFS_EPOCH_ROOTS(epoch_shared_t, ebr) },
    MSQ_OPS(epoch_enqueue, epoch_dequeue),
    .n_options = 2,
    .options = { MSQ_OPTION_CLEANUP,
                 { "epoch_threshold", 1, 1024, 4,
                   "retires between attempts to advance the global epoch" } },
    .init = epoch_init,
    .thread_init = epoch_thread_init,
    .reclaim = { .scheme = LFS_RECLAIM_EPOCH, .threshold_option = "epoch_threshold",
                 .stall = epoch_stall, .unstall = epoch_unstall },
};
