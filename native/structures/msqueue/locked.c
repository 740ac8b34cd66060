/*
 * msqueue_locked.c — Michael & Scott's two-lock queue (PODC 1996, the
 * blocking algorithm of the same paper): a head lock serialises dequeuers, a
 * tail lock serialises enqueuers, and the dummy node keeps them apart.
 *
 * What protects it: the locks. A dequeuer reads head and head->next only
 * under the head lock, an enqueuer reads tail only under the tail lock, so a
 * node is given back only after it left the queue and nobody holds its
 * address: no ABA, no stale access — with cleanup = 0. The one word both
 * sides touch is the last node's next (the enqueuer writes it, a dequeuer
 * may read it), hence the RELEASE/ACQUIRE pair on it.
 * Where it goes wrong: with cleanup = 1 the dequeuer frees the old head and
 * clears its next afterwards; an enqueuer allocates without any lock, so the
 * slot may be reused and linked in between, and the late store severs the
 * queue. Not lock-free: a lock holder that never runs again blocks everyone
 * (in the stepped build the waiters are simply not enabled; all waiting is
 * a deadlock).
 *
 * Memory orders:
 *   lock CAS 0->1         ACQUIRE  the critical section starts after it.
 *   unlock store 0        RELEASE  the section's writes are visible to the
 *                                  next holder.
 *   load head / tail      RELAXED  only written under the same lock.
 *   store head / tail     RELAXED  read only under the same lock.
 *   store tail->next      RELEASE  publishes the node's init stores to a
 *                                  dequeuer holding the *other* lock.
 *   load head->next       ACQUIRE  pairs with that store.
 *   load next->value      RELAXED  ordered by the ACQUIRE load of next.
 *   cleanup store         RELAXED  the bug under study; no order fixes it.
 */
#include "msqueue.h"

typedef struct locked_shared {
    MSQ_HEAD_TAIL;
    lfs_word_t head_lock;
    lfs_word_t pad_head_lock_[7];
    lfs_word_t tail_lock;
    lfs_word_t pad_tail_lock_[7];
} locked_shared_t;

static void locked_acquire(lfs_word_t *lock)
{
    for (;;) {
        lfs_word_t expected = 0;
        if (lfs_cas(lock, &expected, 1, LFS_ACQUIRE))
            return;
        lfs_wait_while(lock, 1);
    }
}

static void locked_release(lfs_word_t *lock)
{
    lfs_store(lock, 0, LFS_RELEASE);
}

static int locked_init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    locked_shared_t *q = shared;
    if (msq_ptr_init(&q->head, &q->tail) != LFS_OK)
        return LFS_NOMEM;
    lfs_store(&q->head_lock, 0, LFS_RELAXED);
    lfs_store(&q->tail_lock, 0, LFS_RELAXED);
    return LFS_OK;
}

static void locked_thread_init(void *shared, void *local, const lfs_options_t *opts)
{
    (void)shared;
    msq_local_init_cleanup(local, opts);
}

static int locked_enqueue(void *shared, void *local, lfs_word_t value, lfs_word_t *result)
{
    (void)local;
    (void)result;
    locked_shared_t *q = shared;
    msq_node_t *node = msq_ptr_new_node(value);
    if (node == NULL)
        return LFS_NOMEM;

    locked_acquire(&q->tail_lock);
    lfs_word_t tail = lfs_load(&q->tail, LFS_RELAXED);
    lfs_store(&msq_ptr(tail)->next, msq_word(node), LFS_RELEASE);
    lfs_store(&q->tail, msq_word(node), LFS_RELAXED);
    locked_release(&q->tail_lock);
    return LFS_OK;
}

static int locked_dequeue(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    (void)arg;
    locked_shared_t *q = shared;
    const msq_local_t *cfg = local;

    locked_acquire(&q->head_lock);
    lfs_word_t head = lfs_load(&q->head, LFS_RELAXED);
    lfs_word_t next = lfs_load(&msq_ptr(head)->next, LFS_ACQUIRE);
    if (next == LFS_REF_NULL) {
        locked_release(&q->head_lock);
        return LFS_EMPTY;
    }
    *result = lfs_load(&msq_ptr(next)->value, LFS_RELAXED);
    lfs_store(&q->head, next, LFS_RELAXED); /* next is the new dummy */
    locked_release(&q->head_lock);

    msq_node_t *old = msq_ptr(head);
    lfs_node_free(old);
    if (cfg->cleanup == LFS_CLEANUP_DEFERRED)
        lfs_store(&old->next, LFS_REF_NULL, LFS_RELAXED); /* may hit a reincarnation */
    return LFS_OK;
}

const lfs_structure_t lfs_msqueue_locked = {
    .family = "msqueue",
    .variant = "locked",
    .summary = "MS96 two-lock queue (blocking): head lock and tail lock",
    .spec = "queue",
    .ref_encoding = LFS_REF_POINTER,
    .memory_promise = LFS_NO_STALE_ACCESS,
    .shared_size = sizeof(locked_shared_t),
    .local_size = sizeof(msq_local_t),
    MSQ_NODE_FIELDS,
    .n_roots = 4,
    .roots = { MSQ_HEAD_TAIL_ROOTS(locked_shared_t),
               MSQ_ROOT(locked_shared_t, head_lock, LFS_DATA, LFS_ROOT_OTHER),
               MSQ_ROOT(locked_shared_t, tail_lock, LFS_DATA, LFS_ROOT_OTHER) },
    MSQ_OPS(locked_enqueue, locked_dequeue),
    .n_options = 1,
    .options = { MSQ_OPTION_CLEANUP },
    .init = locked_init,
    .thread_init = locked_thread_init,
};
