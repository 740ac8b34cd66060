/*
 * ring_buffer.c — a bounded MPMC queue with per-slot sequence numbers
 * (D. Vyukov, "Bounded MPMC queue", 1024cores.net, 2010), written the way a
 * user of lfstress writes a structure: one file, only lfstress.h, built by
 * the scenario beside it (source = "ring_buffer.c"). Nothing here is
 * compiled into lfstress itself.
 *
 * The algorithm. RING_CELLS cells, each a sequence number and a value, and
 * two positions that only grow: enqueue_pos and dequeue_pos. Cell i starts
 * with seq = i. A producer at position p owns cell p % RING_CELLS when its
 * seq == p (free for round p / RING_CELLS); it claims p with a CAS on
 * enqueue_pos, writes the value, then publishes seq = p + 1. A consumer at
 * position p takes the cell when seq == p + 1 (filled for this round),
 * claims p with a CAS on dequeue_pos, reads the value, then frees the cell
 * for the next round: seq = p + RING_CELLS. seq < expected means the
 * queue is full (producer) or empty (consumer); seq > expected means
 * another thread got there first, so reload the position and retry.
 *
 * It needs no reclamation: no node is ever allocated (the descriptor still
 * declares one data word per node, which the engine requires, and the
 * scenario gives the pool one slot). Its correctness rests on the sequence
 * numbers alone, which is what the harness checks: every value out once, in
 * FIFO order (linearizability against the queue spec).
 *
 * Variants:
 *   vyukov  the algorithm as published.
 *   nocas   the position is claimed by a load and a store instead of a CAS:
 *           two producers can claim the same cell (one value overwrites the
 *           other), two consumers the same value. A bug the scenario expects
 *           the harness to find.
 *
 * Full: enqueue returns LFS_NOMEM when every cell is taken (the value is not
 * added). The queue spec knows nothing of a bound, so the scenarios keep the
 * ring from filling.
 *
 * Memory orders:
 *   load position        RELAXED  a guess, checked against the cell's seq.
 *   load seq             ACQUIRE  consumer: the producer's value store is
 *                                 visible once its seq store is; producer:
 *                                 the previous consumer's value load is done
 *                                 before we overwrite the value.
 *   CAS position         RELAXED  only claims the position; the cell's seq
 *                                 carries all the ordering.
 *   store/load value     RELAXED  ordered by the seq store/load around it.
 *   store seq            RELEASE  publishes the value (producer) or the end
 *                                 of our read of it (consumer).
 */
#include "lfstress.h"

#define RING_CELLS 4
_Static_assert((RING_CELLS & (RING_CELLS - 1)) == 0, "RING_CELLS must be a power of two");

typedef struct ring_shared {
    lfs_word_t enqueue_pos;
    lfs_word_t pad_enqueue_[7];  /* producers and consumers on separate lines */
    lfs_word_t dequeue_pos;
    lfs_word_t pad_dequeue_[7];
    lfs_word_t seq[RING_CELLS];
    lfs_word_t value[RING_CELLS];
} ring_shared_t;

typedef struct ring_local {
    int claim_with_cas;  /* 1: vyukov; 0: nocas */
} ring_local_t;

static int ring_init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    ring_shared_t *r = shared;
    for (lfs_word_t i = 0; i < RING_CELLS; i++) {  /* setup: no thread runs yet */
        lfs_store(&r->seq[i], i, LFS_RELAXED);
        lfs_store(&r->value[i], 0, LFS_RELAXED);
    }
    lfs_store(&r->enqueue_pos, 0, LFS_RELAXED);
    lfs_store(&r->dequeue_pos, 0, LFS_RELAXED);
    return LFS_OK;
}

/* Claim position *pos (CAS: on failure *pos is the current position). */
static bool ring_claim(const ring_local_t *cfg, lfs_word_t *position, lfs_word_t *pos)
{
    if (!cfg->claim_with_cas) {  /* nocas: the race under test */
        lfs_store(position, *pos + 1, LFS_RELAXED);
        return true;
    }
    return lfs_cas(position, pos, *pos + 1, LFS_RELAXED);
}

static int ring_enqueue(void *shared, void *local, lfs_word_t value, lfs_word_t *result)
{
    (void)result;
    ring_shared_t *r = shared;
    const ring_local_t *cfg = local;
    lfs_word_t pos = lfs_load(&r->enqueue_pos, LFS_RELAXED);
    lfs_word_t cell;
    for (;;) {
        cell = pos & (RING_CELLS - 1);
        int64_t dif = (int64_t)(lfs_load(&r->seq[cell], LFS_ACQUIRE) - pos);
        if (dif == 0) {
            if (ring_claim(cfg, &r->enqueue_pos, &pos))
                break;
        } else if (dif < 0) {
            return LFS_NOMEM;  /* full */
        } else {
            pos = lfs_load(&r->enqueue_pos, LFS_RELAXED);
        }
    }
    lfs_store(&r->value[cell], value, LFS_RELAXED);
    lfs_store(&r->seq[cell], pos + 1, LFS_RELEASE);
    return LFS_OK;
}

static int ring_dequeue(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    (void)arg;
    ring_shared_t *r = shared;
    const ring_local_t *cfg = local;
    lfs_word_t pos = lfs_load(&r->dequeue_pos, LFS_RELAXED);
    lfs_word_t cell;
    for (;;) {
        cell = pos & (RING_CELLS - 1);
        int64_t dif = (int64_t)(lfs_load(&r->seq[cell], LFS_ACQUIRE) - (pos + 1));
        if (dif == 0) {
            if (ring_claim(cfg, &r->dequeue_pos, &pos))
                break;
        } else if (dif < 0) {
            return LFS_EMPTY;
        } else {
            pos = lfs_load(&r->dequeue_pos, LFS_RELAXED);
        }
    }
    *result = lfs_load(&r->value[cell], LFS_RELAXED);
    lfs_store(&r->seq[cell], pos + RING_CELLS, LFS_RELEASE);
    return LFS_OK;
}

static void vyukov_thread_init(void *shared, void *local, const lfs_options_t *opts)
{
    (void)shared, (void)opts;
    ((ring_local_t *)local)->claim_with_cas = 1;
}

static void nocas_thread_init(void *shared, void *local, const lfs_options_t *opts)
{
    (void)shared, (void)opts;
    ((ring_local_t *)local)->claim_with_cas = 0;
}

/* Roles: enqueue inserts and dequeue removes (the queue spec and the value
 * checks count them). The state is all data words, no chain of nodes: no
 * root or field has a chain role, and the pool's node word is unused. */
#define RING_DESCRIPTOR(name, summary_text, thread_init_fn)                     \
    {                                                                           \
        .family = "ring",                                                       \
        .variant = name,                                                        \
        .summary = summary_text,                                                \
        .spec = "queue",                                                        \
        .ref_encoding = LFS_REF_POINTER,                                        \
        .memory_promise = LFS_NO_STALE_ACCESS,                                  \
        .shared_size = sizeof(ring_shared_t),                                   \
        .local_size = sizeof(ring_local_t),                                     \
        .node_words = 1,                                                        \
        .fields = { { "unused", LFS_DATA, LFS_FIELD_OTHER } },                  \
        .n_roots = 4,                                                           \
        .roots = {                                                              \
            { "enqueue_pos", offsetof(ring_shared_t, enqueue_pos), 1, LFS_DATA }, \
            { "dequeue_pos", offsetof(ring_shared_t, dequeue_pos), 1, LFS_DATA }, \
            { "seq", offsetof(ring_shared_t, seq), RING_CELLS, LFS_DATA },     \
            { "value", offsetof(ring_shared_t, value), RING_CELLS, LFS_DATA }, \
        },                                                                      \
        .n_ops = 2,                                                             \
        .ops = { { "enqueue", true, false, ring_enqueue, LFS_OP_INSERT },       \
                 { "dequeue", false, true, ring_dequeue, LFS_OP_REMOVE } },     \
        .n_options = 0,                                                         \
        .init = ring_init,                                                      \
        .thread_init = thread_init_fn,                                          \
    }

const lfs_structure_t ring_vyukov = RING_DESCRIPTOR(
    "vyukov", "bounded MPMC ring, per-slot sequence numbers (Vyukov)", vyukov_thread_init);
const lfs_structure_t ring_nocas = RING_DESCRIPTOR(
    "nocas", "the same ring claiming positions with load+store, not CAS (buggy)", nocas_thread_init);

LFS_EXPORT_STRUCTURES(&ring_vyukov, &ring_nocas);
