/*
 * msqueue_hazard.c — Michael & Scott's lock-free queue (PODC 1996) with
 * hazard pointers (Michael 2004, IEEE TPDS, where this queue is one of the
 * worked examples). Helpers in reclaim/hazard.c.
 *
 * What protects it: two hazards per thread. Enqueue protects tail (hp0).
 * Dequeue protects head (hp0), then publishes head->next (hp1) and re-checks
 * head: if head is unchanged, next was still head's successor while hp1 was
 * visible, so it cannot be retired yet. A dequeued node is retired and freed
 * only by a scan that finds it in no hazard. No pointer a thread compares in
 * a CAS can be freed and reused meanwhile, so head/tail/next ABA is gone and
 * no thread ever touches a freed node.
 * Where it can still go wrong: with cleanup = 1, an enqueuer that read
 * tail = A, A->next = null and was preempted can CAS the cleared A->next of
 * a dequeued A — a lost value (structures/msqueue/msqueue.h, note 4); A is protected,
 * so this is not a reclamation bug and hazards cannot prevent it.
 *
 * Option "mutant" (tests only: the harness must catch each):
 *   1  dequeue publishes hp0 = head without re-validating head: head may
 *      have been retired and scanned before the hazard became visible.
 *   2  the scan reads the hazards and then frees every retired node anyway.
 *   3  retire frees at once, no scan.
 *
 * Memory orders:
 *   protect / publish     see reclaim/hazard.c: store RELAXED + fence
 *                         SEQ_CST, loads ACQUIRE (dereferenced next).
 *   load tail (dequeue)   ACQUIRE  compared with head; may be CASed forward.
 *   load head/tail->next  ACQUIRE  the successor was initialised before it
 *                                  was linked.
 *   re-check head/tail    RELAXED  compared only; the fence in publish (or
 *                                  the ACQUIRE load of next) orders it.
 *   CAS tail->next        RELEASE  publishes the new node's init stores.
 *   CAS tail (swing)      RELEASE  passes on what we acquired of the node.
 *   CAS head              RELEASE  for the next dequeuer; the scan's SEQ_CST
 *                                  fence orders the unlink before it reads
 *                                  hazards.
 *   load next->value      RELAXED  ordered by the ACQUIRE load of next.
 *   clear hazard          RELEASE  (reclaim/hazard.c).
 *   cleanup store         RELAXED  the old head is retired and still named
 *                                  by our hp0, so it cannot be freed yet.
 */
#include "msqueue.h"
#include "reclaim_hazard.h"

enum { HP_NODE = 0, HP_NEXT = 1 };

enum hazard_mutant {
    MUTANT_NONE = 0,
    MUTANT_NO_REVALIDATE = 1,
    MUTANT_SCAN_IGNORES_HAZARDS = 2,
    MUTANT_FREE_AT_RETIRE = 3,
};

typedef struct hazard_shared {
    MSQ_HEAD_TAIL;
    lfs_hp_domain_t hp;
} hazard_shared_t;

static int hazard_init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    hazard_shared_t *q = shared;
    if (msq_ptr_init(&q->head, &q->tail) != LFS_OK)
        return LFS_NOMEM;
    lfs_hp_domain_init(&q->hp);
    return LFS_OK;
}

static void hazard_thread_init(void *shared, void *local, const lfs_options_t *opts)
{
    (void)shared;
    msq_local_t *cfg = local;
    msq_local_init_cleanup(cfg, opts);
    cfg->threshold = lfs_option(opts, "hp_threshold");
    cfg->mutant = lfs_option(opts, "mutant");
}

static bool ignores_hazards(void *node, lfs_word_t stamp, void *ctx)
{
    (void)node, (void)stamp, (void)ctx;
    return false; /* mutant 2: "nobody needs it" */
}

/* Hand an unlinked node to the reclamation scheme (or to a broken one). */
static void hazard_give_back(hazard_shared_t *q, const msq_local_t *cfg, msq_node_t *old)
{
    switch (cfg->mutant) {
    case MUTANT_FREE_AT_RETIRE:
        lfs_node_free(old);
        break;
    case MUTANT_SCAN_IGNORES_HAZARDS:
        lfs_node_retire(old, 0);
        if (lfs_retired_count() >= (uint32_t)cfg->threshold) {
            lfs_hp_snapshot_t snap;
            lfs_hp_snapshot(&q->hp, &snap);
            lfs_reclaim(ignores_hazards, &snap);
        }
        break;
    default:
        lfs_hp_retire(&q->hp, old, (uint32_t)cfg->threshold);
        break;
    }
}

static int hazard_enqueue(void *shared, void *local, lfs_word_t value, lfs_word_t *result)
{
    (void)local;
    (void)result;
    hazard_shared_t *q = shared;
    msq_node_t *node = msq_ptr_new_node(value);
    if (node == NULL)
        return LFS_NOMEM;

    lfs_word_t tail;
    for (;;) {
        tail = lfs_hp_protect(&q->hp, HP_NODE, &q->tail);
        lfs_word_t next = lfs_load(&msq_ptr(tail)->next, LFS_ACQUIRE);
        if (lfs_load(&q->tail, LFS_RELAXED) != tail)
            continue;
        if (next == LFS_REF_NULL) {
            lfs_word_t expected = LFS_REF_NULL;
            if (lfs_cas(&msq_ptr(tail)->next, &expected, msq_word(node), LFS_RELEASE))
                break;
        } else {
            lfs_word_t expected = tail; /* tail is lagging: help it along */
            lfs_cas(&q->tail, &expected, next, LFS_RELEASE);
        }
    }
    lfs_word_t expected = tail; /* tail is still protected by hp0 */
    lfs_cas(&q->tail, &expected, msq_word(node), LFS_RELEASE);
    lfs_hp_clear(&q->hp, HP_NODE);
    return LFS_OK;
}

static int hazard_dequeue(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    (void)arg;
    hazard_shared_t *q = shared;
    const msq_local_t *cfg = local;
    lfs_word_t head, next, value;
    for (;;) {
        if (cfg->mutant == MUTANT_NO_REVALIDATE) {
            head = lfs_load(&q->head, LFS_ACQUIRE);
            lfs_hp_publish(&q->hp, HP_NODE, msq_ptr(head)); /* ...and trusts it */
        } else {
            head = lfs_hp_protect(&q->hp, HP_NODE, &q->head);
        }
        lfs_word_t tail = lfs_load(&q->tail, LFS_ACQUIRE);
        next = lfs_load(&msq_ptr(head)->next, LFS_ACQUIRE);
        lfs_hp_publish(&q->hp, HP_NEXT, msq_ptr(next));
        /* head unchanged => next was head's successor while hp1 was visible */
        if (lfs_load(&q->head, LFS_RELAXED) != head)
            continue;
        if (head == tail) {
            if (next == LFS_REF_NULL) {
                lfs_hp_clear(&q->hp, HP_NODE);
                lfs_hp_clear(&q->hp, HP_NEXT);
                return LFS_EMPTY;
            }
            lfs_word_t expected = tail; /* tail is lagging: help it along */
            lfs_cas(&q->tail, &expected, next, LFS_RELEASE);
            continue;
        }
        if (next == LFS_REF_NULL) /* impossible unless broken: see msq_ptr_unlink */
            continue;
        value = lfs_load(&msq_ptr(next)->value, LFS_RELAXED);
        lfs_word_t expected = head;
        if (lfs_cas(&q->head, &expected, next, LFS_RELEASE))
            break;
    }
    msq_node_t *old = msq_ptr(head);
    if (cfg->cleanup == LFS_CLEANUP_DEFERRED) {
        /* Retire first, clear later: our hp0 keeps the old head from being
         * freed until the cleanup store is done. */
        hazard_give_back(q, cfg, old);
        lfs_store(&old->next, LFS_REF_NULL, LFS_RELAXED);
        lfs_hp_clear(&q->hp, HP_NODE);
        lfs_hp_clear(&q->hp, HP_NEXT);
    } else {
        /* Done with both nodes: drop the hazards first, so the scan that
         * retire may run can free the old head at once. */
        lfs_hp_clear(&q->hp, HP_NODE);
        lfs_hp_clear(&q->hp, HP_NEXT);
        hazard_give_back(q, cfg, old);
    }
    *result = value;
    return LFS_OK;
}

/* A benchmark's stalled thread holds what a dequeuer holds: a hazard on head. */
static int hazard_stall(void *shared, void *local)
{
    (void)local;
    hazard_shared_t *q = shared;
    lfs_hp_protect(&q->hp, HP_NODE, &q->head);
    return 0;
}

static void hazard_unstall(void *shared, void *local)
{
    (void)local;
    lfs_hp_clear(&((hazard_shared_t *)shared)->hp, HP_NODE);
}

const lfs_structure_t lfs_msqueue_hazard = {
    .family = "msqueue",
    .variant = "hazard",
    .summary = "MS96 queue with hazard pointers (Michael 2004)",
    .spec = "queue",
    .ref_encoding = LFS_REF_POINTER,
    .memory_promise = LFS_NO_STALE_ACCESS,
    .shared_size = sizeof(hazard_shared_t),
    .local_size = sizeof(msq_local_t),
    MSQ_NODE_FIELDS,
    .n_roots = 3,
    .roots = { MSQ_HEAD_TAIL_ROOTS(hazard_shared_t), LFS_HP_ROOT(hazard_shared_t, hp) },
    MSQ_OPS(hazard_enqueue, hazard_dequeue),
    .n_options = 3,
    .options = { MSQ_OPTION_CLEANUP,
                 { "hp_threshold", 1, 1024, 4,
                   "R: retired nodes a thread keeps before it scans the hazards" },
                 { "mutant", 0, 3, 0,
                   "tests only: 0 correct; 1 no re-validation after publishing "
                   "head's hazard; 2 scan ignores hazards; 3 free at retire" } },
    .init = hazard_init,
    .thread_init = hazard_thread_init,
    .reclaim = { .scheme = LFS_RECLAIM_HAZARD, .threshold_option = "hp_threshold",
                 .stall = hazard_stall, .unstall = hazard_unstall },
};
