/*
 * treiber_naive.c — Treiber's lock-free stack (IBM RJ 5118, 1986) with plain
 * pointers and NO protection: the textbook ABA, kept as a known-bad
 * baseline (structures/treiber/treiber.h tells the story and has the table).
 *
 * What protects it: nothing. A popped node goes straight back to the pool
 * with lfs_node_free, and the pool reuses addresses LIFO.
 * Where ABA strikes: a popper that read top = A and next = B and was
 * preempted can find A popped, freed, reallocated and pushed again; its
 * CAS(top, A, B) compares addresses only and succeeds on the reincarnation,
 * installing a B read from A's previous life. A pusher's CAS can succeed
 * against a reincarnated top too: benign, since push never reads the node
 * (lfstress notes it in the trace, docs/structures.md).
 *
 * Memory orders: as in structures/treiber/treiber.h —
 *   load top           ACQUIRE  the node was initialised before its push CAS.
 *   load t->next/value RELAXED  ordered after the ACQUIRE load of top; may
 *                               be stale (benign unless the CAS then
 *                               succeeds on a reincarnation: the bug).
 *   CAS top (push)     RELEASE  publishes the new node's init stores.
 *   CAS top (pop)      RELEASE  passes on what we acquired of next.
 */
#include "treiber.h"

typedef struct naive_shared {
    TREIBER_TOP;
} naive_shared_t;

static int naive_init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    naive_shared_t *s = shared;
    lfs_store(&s->top, LFS_REF_NULL, LFS_RELAXED); /* setup: no thread runs yet */
    return LFS_OK;
}

static int naive_push(void *shared, void *local, lfs_word_t value, lfs_word_t *result)
{
    (void)local;
    (void)result;
    naive_shared_t *s = shared;
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

static int naive_pop(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    (void)local;
    (void)arg;
    naive_shared_t *s = shared;
    lfs_word_t top, value;
    for (;;) {
        top = lfs_load(&s->top, LFS_ACQUIRE);
        if (top == LFS_REF_NULL)
            return LFS_EMPTY;
        lfs_word_t next = lfs_load(&treiber_ptr(top)->next, LFS_RELAXED);
        value = lfs_load(&treiber_ptr(top)->value, LFS_RELAXED);
        lfs_word_t expected = top;
        if (lfs_cas(&s->top, &expected, next, LFS_RELEASE)) /* the ABA-prone CAS */
            break;
    }
    lfs_node_free(treiber_ptr(top)); /* straight back to the pool: the address may return at once */
    *result = value;
    return LFS_OK;
}

const lfs_structure_t lfs_treiber_naive = {
    .family = "treiber",
    .variant = "naive",
    .summary = "Treiber stack, plain pointers, frees at once: no ABA protection",
    .spec = "stack",
    .ref_encoding = LFS_REF_POINTER,
    .memory_promise = LFS_TYPE_STABLE,
    .shared_size = sizeof(naive_shared_t),
    .local_size = 0,
    TREIBER_NODE_FIELDS,
    .n_roots = 1,
    .roots = { TREIBER_TOP_ROOT(naive_shared_t) },
    TREIBER_OPS(naive_push, naive_pop),
    .n_options = 0,
    .init = naive_init,
    .thread_init = NULL,
};
