/*
 * treiber_hazard.c — Treiber's stack (IBM RJ 5118, 1986) with hazard
 * pointers (Michael 2004, IEEE TPDS, where the stack is a worked example).
 * The hazard helpers are reclaim/hazard.c's, as any structure may use them.
 *
 * What protects it: one hazard per thread (hazard 0). pop protects top
 * (lfs_hp_protect: load, publish, fence, re-load until the two agree), so
 * the node it reads next/value from and CASes against cannot be freed — let
 * alone reused — before the hazard is cleared. A popped node is retired and
 * freed only by a scan that finds it in no hazard. push needs no hazard, as
 * in Michael 2004: it never reads the node top points to, only its address,
 * which it stores into its own node and compares in its CAS. If that node is
 * freed and reused at the same address in between, the CAS still installs a
 * node whose next is exactly the current top: a benign ABA
 * (structures/treiber/treiber.h note 2), which lfstress notes in the trace.
 * No thread ever reads or writes a freed node (LFS_NO_STALE_ACCESS).
 *
 * Memory orders:
 *   protect top         see reclaim/hazard.c: loads ACQUIRE (the node is
 *                       read next), publish RELAXED + fence SEQ_CST.
 *   load t->next/value  RELAXED  ordered after the ACQUIRE load of top.
 *   CAS top (push)      RELEASE  publishes the new node's init stores.
 *   CAS top (pop)       RELEASE  for the next popper; the scan's SEQ_CST
 *                                fence orders the unlink before it reads
 *                                the hazards.
 *   clear hazard        RELEASE  (reclaim/hazard.c).
 */
#include "reclaim_hazard.h"
#include "treiber.h"

enum { HP_TOP = 0 };

typedef struct hazard_shared {
    TREIBER_TOP;
    lfs_hp_domain_t hp;
} hazard_shared_t;

static int hazard_init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    hazard_shared_t *s = shared;
    lfs_store(&s->top, LFS_REF_NULL, LFS_RELAXED); /* setup: no thread runs yet */
    lfs_hp_domain_init(&s->hp);
    return LFS_OK;
}

static void hazard_thread_init(void *shared, void *local, const lfs_options_t *opts)
{
    (void)shared;
    treiber_local_t *cfg = local;
    cfg->threshold = lfs_option(opts, "hp_threshold");
    cfg->tag_mask = 0;
}

static int hazard_push(void *shared, void *local, lfs_word_t value, lfs_word_t *result)
{
    (void)local;
    (void)result;
    hazard_shared_t *s = shared;
    treiber_node_t *node = lfs_node_alloc();
    if (node == NULL)
        return LFS_NOMEM;
    lfs_init_store(&node->value, value);
    lfs_word_t top = lfs_load(&s->top, LFS_ACQUIRE);
    for (;;) {
        lfs_init_store(&node->next, top); /* still private: not a step */
        if (lfs_cas(&s->top, &top, treiber_word(node), LFS_RELEASE))
            return LFS_OK;
        /* a failed CAS left the current top in `top`: try again on it */
    }
}

static int hazard_pop(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    (void)arg;
    hazard_shared_t *s = shared;
    const treiber_local_t *cfg = local;
    lfs_word_t top, value;
    for (;;) {
        top = lfs_hp_protect(&s->hp, HP_TOP, &s->top);
        if (top == LFS_REF_NULL) {
            lfs_hp_clear(&s->hp, HP_TOP);
            return LFS_EMPTY;
        }
        lfs_word_t next = lfs_load(&treiber_ptr(top)->next, LFS_RELAXED);
        value = lfs_load(&treiber_ptr(top)->value, LFS_RELAXED);
        lfs_word_t expected = top;
        if (lfs_cas(&s->top, &expected, next, LFS_RELEASE))
            break;
    }
    /* Done with the node: drop the hazard first, so the scan retire may run
     * can free it at once. */
    lfs_hp_clear(&s->hp, HP_TOP);
    lfs_hp_retire(&s->hp, treiber_ptr(top), (uint32_t)cfg->threshold);
    *result = value;
    return LFS_OK;
}

/* A benchmark's stalled thread holds what a popper holds: a hazard on top. */
static int hazard_stall(void *shared, void *local)
{
    (void)local;
    hazard_shared_t *s = shared;
    lfs_hp_protect(&s->hp, HP_TOP, &s->top);
    return 0;
}

static void hazard_unstall(void *shared, void *local)
{
    (void)local;
    lfs_hp_clear(&((hazard_shared_t *)shared)->hp, HP_TOP);
}

const lfs_structure_t lfs_treiber_hazard = {
    .family = "treiber",
    .variant = "hazard",
    .summary = "Treiber stack with hazard pointers (Michael 2004)",
    .spec = "stack",
    .ref_encoding = LFS_REF_POINTER,
    .memory_promise = LFS_NO_STALE_ACCESS,
    .shared_size = sizeof(hazard_shared_t),
    .local_size = sizeof(treiber_local_t),
    TREIBER_NODE_FIELDS,
    .n_roots = 2,
    .roots = { TREIBER_TOP_ROOT(hazard_shared_t), LFS_HP_ROOT(hazard_shared_t, hp) },
    TREIBER_OPS(hazard_push, hazard_pop),
    .n_options = 1,
    .options = { { "hp_threshold", 1, 1024, 4,
                   "R: retired nodes a thread keeps before it scans the hazards" } },
    .init = hazard_init,
    .thread_init = hazard_thread_init,
    .reclaim = { .scheme = LFS_RECLAIM_HAZARD, .threshold_option = "hp_threshold",
                 .stall = hazard_stall, .unstall = hazard_unstall },
};
