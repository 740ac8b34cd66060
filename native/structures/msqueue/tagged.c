/*
 * msqueue_tagged.c — Michael & Scott's lock-free queue exactly as in the
 * paper (PODC 1996): every link is a <pointer, count> pair and the count
 * goes up on every successful CAS, over type-stable memory.
 *
 * Encoding (LFS_REF_INDEX): a link word is (tag << 32) | (slot + 1), null is
 * slot 0 with any tag. Option "tag_bits" (1..32, default 16): the tag wraps
 * modulo 2^tag_bits, so small widths make the wrap-around ABA reachable on
 * purpose.
 * What protects it: a dequeued node goes straight back to the pool
 * (lfs_node_free) and may be reused at once, but any CAS on head, tail or
 * next that was prepared before the reuse carries an older tag and fails.
 * A reinitialised node's next keeps counting from its previous incarnation
 * (+1), so a stale CAS on the *node's* next fails too.
 * Where ABA could still strike: after exactly 2^tag_bits successful CASes on
 * the same word between a thread's load and its CAS. And stale *reads* do
 * happen (next->value or next of a freed node) — benign under type-stable
 * memory, since the CAS that would act on them fails. With cleanup = 1 the
 * late plain store to the old head's next is not tag-checked: if the slot
 * was reused and linked meanwhile, it severs the queue (the essay's bug).
 *
 * Memory orders:
 *   load head/tail/next   ACQUIRE  the node reached through it was
 *                                  initialised before it was linked.
 *   re-check head/tail    RELAXED  compared, never dereferenced; ordered
 *                                  after the ACQUIRE load of next.
 *   load new node's next  RELAXED  private node; only the old tag matters.
 *   CAS tail->next        RELEASE  publishes the new node's init stores.
 *   CAS tail (swing)      RELEASE  passes on what we acquired of the node.
 *   CAS head              RELEASE  same, for the next dequeuer.
 *   load next->value      RELAXED  ordered by the ACQUIRE load of next; may
 *                                  be stale, then the head CAS fails.
 *   cleanup store         RELAXED  the bug under study; no order fixes it.
 */
#include "msqueue.h"
#include "tagged_ref.h"


typedef struct tagged_shared {
    MSQ_HEAD_TAIL;
} tagged_shared_t;

static msq_node_t *tnode(lfs_word_t link) { return lfs_tagged_node(link); }

static bool tis_null(lfs_word_t link) { return lfs_ref_slot_plus_one(link) == 0; }

/* The word that replaces `old`: points at `node` (NULL: null) with old's tag + 1. */
static lfs_word_t tbump(const msq_local_t *cfg, lfs_word_t old, const msq_node_t *node)
{
    return lfs_tag_bump(old, node == NULL ? 0 : lfs_node_index(node) + 1, cfg->tag_mask);
}

static int tagged_init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    tagged_shared_t *q = shared;
    msq_node_t *dummy = lfs_node_alloc();
    if (dummy == NULL)
        return LFS_NOMEM;
    lfs_init_store(&dummy->next, lfs_ref_pack(0, 0));
    lfs_init_store(&dummy->value, 0);
    lfs_word_t link = lfs_ref_pack(lfs_node_index(dummy) + 1, 0);
    lfs_store(&q->head, link, LFS_RELAXED); /* setup mode */
    lfs_store(&q->tail, link, LFS_RELAXED);
    return LFS_OK;
}

static void tagged_thread_init(void *shared, void *local, const lfs_options_t *opts)
{
    (void)shared;
    msq_local_t *cfg = local;
    msq_local_init_cleanup(cfg, opts);
    cfg->tag_mask = lfs_tag_mask(lfs_option(opts, "tag_bits"));
}

static int tagged_enqueue(void *shared, void *local, lfs_word_t value, lfs_word_t *result)
{
    (void)result;
    tagged_shared_t *q = shared;
    const msq_local_t *cfg = local;
    msq_node_t *node = lfs_node_alloc();
    if (node == NULL)
        return LFS_NOMEM;
    lfs_init_store(&node->value, value);
    /* MS96 E3 "node->next.ptr = NULL": the count lives on across
     * incarnations; we also bump it, so a CAS prepared against the previous
     * incarnation's null next cannot succeed on this one. */
    lfs_word_t previous = lfs_load(&node->next, LFS_RELAXED);
    lfs_init_store(&node->next, tbump(cfg, previous, NULL));

    lfs_word_t tail;
    for (;;) {
        tail = lfs_load(&q->tail, LFS_ACQUIRE);
        lfs_word_t next = lfs_load(&tnode(tail)->next, LFS_ACQUIRE);
        if (lfs_load(&q->tail, LFS_RELAXED) != tail)
            continue;
        if (tis_null(next)) {
            lfs_word_t expected = next;
            if (lfs_cas(&tnode(tail)->next, &expected, tbump(cfg, next, node), LFS_RELEASE))
                break;
        } else {
            lfs_word_t expected = tail; /* tail is lagging: help it along */
            lfs_cas(&q->tail, &expected, tbump(cfg, tail, tnode(next)), LFS_RELEASE);
        }
    }
    lfs_word_t expected = tail; /* may fail: somebody helped already */
    lfs_cas(&q->tail, &expected, tbump(cfg, tail, node), LFS_RELEASE);
    return LFS_OK;
}

static int tagged_dequeue(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    (void)arg;
    tagged_shared_t *q = shared;
    const msq_local_t *cfg = local;
    lfs_word_t head, next, value;
    for (;;) {
        head = lfs_load(&q->head, LFS_ACQUIRE);
        lfs_word_t tail = lfs_load(&q->tail, LFS_ACQUIRE);
        next = lfs_load(&tnode(head)->next, LFS_ACQUIRE);
        if (lfs_load(&q->head, LFS_RELAXED) != head)
            continue;
        if (lfs_ref_slot_plus_one(head) == lfs_ref_slot_plus_one(tail)) {
            if (tis_null(next))
                return LFS_EMPTY;
            lfs_word_t expected = tail; /* tail is lagging: help it along */
            lfs_cas(&q->tail, &expected, tbump(cfg, tail, tnode(next)), LFS_RELEASE);
            continue;
        }
        if (tis_null(next)) /* impossible unless broken: see msq_ptr_unlink */
            continue;
        value = lfs_load(&tnode(next)->value, LFS_RELAXED);
        lfs_word_t expected = head;
        if (lfs_cas(&q->head, &expected, tbump(cfg, head, tnode(next)), LFS_RELEASE))
            break;
    }
    msq_node_t *old = tnode(head);
    lfs_node_free(old); /* type-stable: the slot may be reused at once */
    if (cfg->cleanup == LFS_CLEANUP_DEFERRED)
        lfs_store(&old->next, lfs_ref_pack(0, lfs_ref_tag(next)), LFS_RELAXED);
    *result = value;
    return LFS_OK;
}

const lfs_structure_t lfs_msqueue_tagged = {
    .family = "msqueue",
    .variant = "tagged",
    .summary = "MS96 queue with <pointer, count> links over type-stable memory",
    .spec = "queue",
    .ref_encoding = LFS_REF_INDEX,
    .memory_promise = LFS_TYPE_STABLE,
    .shared_size = sizeof(tagged_shared_t),
    .local_size = sizeof(msq_local_t),
    MSQ_NODE_FIELDS,
    .n_roots = 2,
    .roots = { MSQ_HEAD_TAIL_ROOTS(tagged_shared_t) },
    MSQ_OPS(tagged_enqueue, tagged_dequeue),
    .n_options = 2,
    .options = { MSQ_OPTION_CLEANUP,
                 { "tag_bits", LFS_TAG_BITS_MIN, LFS_TAG_BITS_MAX, LFS_TAG_BITS_DEFAULT,
                   "width of the modification count; it wraps modulo 2^tag_bits" } },
    .init = tagged_init,
    .thread_init = tagged_thread_init,
};
