/*
 * treiber_tagged.c — Treiber's stack (IBM RJ 5118, 1986) as IBM's System/370
 * code had it: top is a <pointer, count> pair and the count goes up on
 * every successful CAS, over type-stable memory.
 *
 * Encoding (LFS_REF_INDEX): top is (tag << 32) | (slot + 1), null is slot 0
 * with any tag. A node's next is an index reference with tag 0: it is written
 * only while the node is private and never CASed, so it needs no count.
 * Option "tag_bits" (1..32, default 16): the tag wraps modulo 2^tag_bits, so
 * small widths make the wrap-around ABA reachable on purpose.
 * What protects it: a popped node goes straight back to the pool and may be
 * reused at once, but a CAS on top prepared before that carries an older
 * tag and fails. Where ABA could still strike: after exactly 2^tag_bits
 * successful CASes on top between a thread's load and its CAS. Stale reads
 * of a freed node's next/value do happen, and are benign: the CAS that
 * would act on them fails.
 *
 * Memory orders: as in structures/treiber/treiber.h —
 *   load top           ACQUIRE  the node was initialised before its push CAS.
 *   load t->next/value RELAXED  ordered after the ACQUIRE load of top; may
 *                               be stale, then the tagged CAS fails.
 *   CAS top (push)     RELEASE  publishes the new node's init stores.
 *   CAS top (pop)      RELEASE  passes on what we acquired of next.
 */
#include "tagged_ref.h"
#include "treiber.h"


typedef struct tagged_shared {
    TREIBER_TOP;
} tagged_shared_t;

static treiber_node_t *tnode(lfs_word_t ref) { return lfs_tagged_node(ref); }

/* The top word that replaces `old`: names the node `ref` names, old's tag + 1. */
static lfs_word_t tbump(const treiber_local_t *cfg, lfs_word_t old, lfs_word_t ref)
{
    return lfs_tag_bump(old, lfs_ref_slot_plus_one(ref), cfg->tag_mask);
}

static int tagged_init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    tagged_shared_t *s = shared;
    lfs_store(&s->top, lfs_ref_pack(0, 0), LFS_RELAXED); /* setup: no thread runs yet */
    return LFS_OK;
}

static void tagged_thread_init(void *shared, void *local, const lfs_options_t *opts)
{
    (void)shared;
    treiber_local_t *cfg = local;
    cfg->threshold = 0;
    cfg->tag_mask = lfs_tag_mask(lfs_option(opts, "tag_bits"));
}

static int tagged_push(void *shared, void *local, lfs_word_t value, lfs_word_t *result)
{
    (void)result;
    tagged_shared_t *s = shared;
    const treiber_local_t *cfg = local;
    treiber_node_t *node = lfs_node_alloc();
    if (node == NULL)
        return LFS_NOMEM;
    lfs_init_store(&node->value, value);
    lfs_word_t self = lfs_ref_pack(lfs_node_index(node) + 1, 0);
    lfs_word_t top = lfs_load(&s->top, LFS_ACQUIRE);
    for (;;) {
        lfs_init_store(&node->next, lfs_ref_pack(lfs_ref_slot_plus_one(top), 0));
        if (lfs_cas(&s->top, &top, tbump(cfg, top, self), LFS_RELEASE))
            return LFS_OK;
    }
}

static int tagged_pop(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    (void)arg;
    tagged_shared_t *s = shared;
    const treiber_local_t *cfg = local;
    lfs_word_t top, value;
    for (;;) {
        top = lfs_load(&s->top, LFS_ACQUIRE);
        treiber_node_t *t = tnode(top);
        if (t == NULL)
            return LFS_EMPTY;
        lfs_word_t next = lfs_load(&t->next, LFS_RELAXED);
        value = lfs_load(&t->value, LFS_RELAXED);
        lfs_word_t expected = top;
        if (lfs_cas(&s->top, &expected, tbump(cfg, top, next), LFS_RELEASE))
            break;
    }
    lfs_node_free(tnode(top)); /* type-stable: the slot may be reused at once */
    *result = value;
    return LFS_OK;
}

const lfs_structure_t lfs_treiber_tagged = {
    .family = "treiber",
    .variant = "tagged",
    .summary = "Treiber stack with a <pointer, count> top over type-stable memory",
    .spec = "stack",
    .ref_encoding = LFS_REF_INDEX,
    .memory_promise = LFS_TYPE_STABLE,
    .shared_size = sizeof(tagged_shared_t),
    .local_size = sizeof(treiber_local_t),
    TREIBER_NODE_FIELDS,
    .n_roots = 1,
    .roots = { TREIBER_TOP_ROOT(tagged_shared_t) },
    TREIBER_OPS(tagged_push, tagged_pop),
    .n_options = 1,
    .options = { { "tag_bits", LFS_TAG_BITS_MIN, LFS_TAG_BITS_MAX, LFS_TAG_BITS_DEFAULT,
                   "width of top's modification count; it wraps modulo 2^tag_bits" } },
    .init = tagged_init,
    .thread_init = tagged_thread_init,
};
