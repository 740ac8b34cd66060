/*
 * provenance.h — the stepped engine's pointer checks: stale pointers,
 * harmful and benign ABA, use-after-free. The stepper calls one hook per
 * shared action, after the memory model has done the access; the hooks read
 * the node pool's generations and states, never memory words. The checks
 * every step runs are static inline here (the stepper's hot path); what
 * reports a violation or a note, and the per-operation and per-node hooks,
 * are in provenance.c.
 *
 * Design. Each thread remembers, per slot, the generation it saw when it last
 * loaded a reference to that slot (its *provenance*), where it read that
 * reference from, and whether its current operation has read one of the
 * node's own words. A stale pointer (its node freed or reincarnated
 * since) is reported only where it does harm:
 *   . a store or RMW through it: a write into a life it does not know;
 *   . a successful CAS expecting it after the operation read the node's
 *     words (pop's CAS(top, A, A.next)): they came from a life that is
 *     over, or from one the pointer does not name, and what it derived
 *     from them — the value it writes, the result it returns — is stale
 *     too. The classic MS96 and Treiber ABA;
 *   . linking a reference read from a node's earlier life, or one to a
 *     node known only from an earlier life;
 *   . returning to the caller a value read through it (type-stable
 *     structures: the read alone is benign, its escape is not).
 * A successful CAS expecting a stale pointer whose node the thread never
 * read (Treiber's push: load top = A; node.next = A; CAS(top, A, node))
 * depends on nothing but the address, which still matches: a benign ABA,
 * recorded as a note in the trace, not as a violation. A stale read is
 * benign for type-stable variants and "use-after-free" for schemes that
 * promise no stale access.
 *
 * The ABA itself is the one of Michael & Scott 1996 (PODC, the queue's
 * dequeue) and Michael 2004 (IEEE TPDS, section 1, Treiber's pop).
 */
#ifndef LFS_PROVENANCE_H
#define LFS_PROVENANCE_H

#include "exec.h"

enum lfs_access_mode { LFS_ACC_READ = 0, LFS_ACC_WRITE = 1 };

#pragma GCC visibility push(hidden) /* engine-internal: direct calls, not exported */
int lfs_prov_init(lfs_provenance_t *p, uint32_t capacity);
void lfs_prov_destroy(lfs_provenance_t *p);
/* Forget everything: a thread starts an execution knowing no node. */
void lfs_prov_reset(lfs_provenance_t *p, uint32_t capacity);

/* Per operation and per pool action on slot s (its event is the last one). */
void lfs_prov_operation_returns(lfs_exec_t *ex, lfs_vthread_t *t, lfs_word_t value);
void lfs_prov_node_freed(lfs_exec_t *ex, lfs_vthread_t *t, uint32_t s, int32_t last_freed_by,
                         uint32_t last_freed_step);
void lfs_prov_node_retired(lfs_exec_t *ex, lfs_vthread_t *t, lfs_event_t *ev, uint32_t s);

/* The reports behind the inline checks below. */
void lfs_prov_stale_access(lfs_exec_t *ex, lfs_vthread_t *t, lfs_event_t *ev, int32_t s,
                           enum lfs_access_mode mode);
int32_t lfs_prov_stale_cas_expected(lfs_exec_t *ex, lfs_vthread_t *t, lfs_event_t *ev,
                                    int32_t e);
void lfs_prov_note_benign_aba(lfs_exec_t *ex, lfs_vthread_t *t, const lfs_event_t *cas,
                              int32_t e);
void lfs_prov_bad_publish(lfs_exec_t *ex, lfs_vthread_t *t, int32_t s);
#pragma GCC visibility pop

static inline int lfs_prov_is_stale(const lfs_exec_t *ex, const lfs_vthread_t *t, int32_t s)
{
    uint32_t seen = t->prov.gen[s];
    return seen != NO_PROVENANCE && seen != ex->gen[s];
}

/* The kind of a harmful stale access: aba while the node lives again,
 * use-after-free while it is free. */
static inline int lfs_prov_stale_kind(const lfs_exec_t *ex, int32_t s)
{
    return ex->state[s] == LFS_SLOT_FREE ? LFS_V_USE_AFTER_FREE : LFS_V_ABA;
}

/* A reference value was read from a link or hazard word: remember which
 * incarnation of the node this thread now points to. */
static inline void lfs_prov_note_ref_read(lfs_exec_t *ex, lfs_vthread_t *t, const lfs_loc_t *loc,
                                          lfs_event_t *ev, lfs_word_t value)
{
    if (loc->kind == LFS_DATA)
        return;
    int32_t s = lfs_decode_ref(ex, value);
    if (s < 0)
        return;
    ev->ref_slot = s;
    ev->ref_gen = ex->gen[s];
    if (loc->kind == LFS_LINK) {
        t->prov.gen[s] = ex->gen[s];
        t->prov.step[s] = ev->step;
        t->prov.src[s] = loc->slot;
        t->prov.src_gen[s] = loc->slot >= 0 ? ex->gen[loc->slot] : 0;
    }
}

static inline void lfs_prov_note_ref_written(lfs_exec_t *ex, const lfs_loc_t *loc,
                                             lfs_event_t *ev, lfs_word_t value)
{
    if (loc->kind == LFS_DATA)
        return;
    int32_t s = lfs_decode_ref(ex, value);
    if (s >= 0) {
        ev->ref_slot = s;
        ev->ref_gen = ex->gen[s];
    }
}

/* Is this access to a node word harmful? Returns whether it was stale (the
 * node freed or reincarnated since this thread loaded its pointer). */
static inline int lfs_prov_check_node_access(lfs_exec_t *ex, lfs_vthread_t *t,
                                             const lfs_loc_t *loc, lfs_event_t *ev,
                                             enum lfs_access_mode mode)
{
    int32_t s = loc->slot;
    if (s < 0)
        return 0;
    if (mode == LFS_ACC_READ)
        t->prov.read_op[s] = t->prov.op_seq;
    if (!lfs_prov_is_stale(ex, t, s) && ex->state[s] != LFS_SLOT_FREE)
        return 0;
    lfs_prov_stale_access(ex, t, ev, s, mode);
    return 1;
}

/* Remember a read of a node's data word, for lfs_prov_operation_returns. */
static inline void lfs_prov_log_data_read(lfs_exec_t *ex, lfs_vthread_t *t, const lfs_loc_t *loc,
                                          lfs_word_t value, int stale)
{
    if (loc->slot < 0 || loc->kind != LFS_DATA)
        return;
    lfs_data_read_t *r = &t->prov.data_reads[t->prov.n_data_reads++ % DATA_READ_LOG];
    r->value = value;
    r->slot = loc->slot;
    r->gen_loaded = t->prov.gen[loc->slot];
    r->load_step = t->prov.step[loc->slot];
    r->stale = (uint8_t)stale;
    r->kind = (uint8_t)lfs_prov_stale_kind(ex, loc->slot);
}

/* A successful CAS on a link expected the word `expected`: when it names a
 * node this thread knows from an earlier life, harmful or benign
 * (lfs_prov_stale_cas_expected). Returns the node for a benign ABA's note,
 * NO_SLOT when there is nothing to note. */
static inline int32_t lfs_prov_check_cas_expected(lfs_exec_t *ex, lfs_vthread_t *t,
                                                  const lfs_loc_t *loc, lfs_event_t *ev,
                                                  lfs_word_t expected)
{
    if (loc->kind != LFS_LINK)
        return NO_SLOT;
    int32_t e = lfs_decode_ref(ex, expected);
    if (e < 0 || !lfs_prov_is_stale(ex, t, e))
        return NO_SLOT;
    return lfs_prov_stale_cas_expected(ex, t, ev, e);
}

/* A link is being set to value: publishing a freed node, one this thread
 * knows only from an earlier incarnation, or a reference read from a node's
 * earlier life (the MS96 ABA signature: B read from A.next, then A
 * recycled, and B installed as if A's old successor were still current)
 * corrupts the structure. */
static inline void lfs_prov_check_publish(lfs_exec_t *ex, lfs_vthread_t *t, const lfs_loc_t *loc,
                                          lfs_word_t value)
{
    if (loc->kind != LFS_LINK)
        return;
    int32_t s = lfs_decode_ref(ex, value);
    if (s < 0)
        return;
    int32_t src = t->prov.src[s];
    int from_stale = t->prov.gen[s] != NO_PROVENANCE && src >= 0 &&
                     ex->gen[src] != t->prov.src_gen[s];
    if (from_stale || ex->state[s] == LFS_SLOT_FREE || lfs_prov_is_stale(ex, t, s))
        lfs_prov_bad_publish(ex, t, s);
}

/* ------------------------------------------------------------------ */
/* Hooks, one per shared action, called while recording                */
/* ------------------------------------------------------------------ */

static inline void lfs_prov_operation_begins(lfs_vthread_t *t)
{
    t->prov.n_data_reads = 0;
    t->prov.op_seq++;
}

static inline void lfs_prov_load(lfs_exec_t *ex, lfs_vthread_t *t, const lfs_loc_t *loc,
                                 lfs_event_t *ev, lfs_word_t value)
{
    int stale = lfs_prov_check_node_access(ex, t, loc, ev, LFS_ACC_READ);
    lfs_prov_log_data_read(ex, t, loc, value, stale);
    lfs_prov_note_ref_read(ex, t, loc, ev, value);
}

static inline void lfs_prov_store(lfs_exec_t *ex, lfs_vthread_t *t, const lfs_loc_t *loc,
                                  lfs_event_t *ev, lfs_word_t value)
{
    lfs_prov_note_ref_written(ex, loc, ev, value);
    lfs_prov_check_node_access(ex, t, loc, ev, LFS_ACC_WRITE);
    lfs_prov_check_publish(ex, t, loc, value);
}

static inline void lfs_prov_init_store(lfs_exec_t *ex, lfs_vthread_t *t, const lfs_loc_t *loc,
                                       lfs_event_t *ev, lfs_word_t value)
{
    lfs_prov_note_ref_written(ex, loc, ev, value);
    lfs_prov_check_node_access(ex, t, loc, ev, LFS_ACC_WRITE);
}

static inline void lfs_prov_cas_ok(lfs_exec_t *ex, lfs_vthread_t *t, const lfs_loc_t *loc,
                                   lfs_event_t *ev, lfs_word_t expected, lfs_word_t desired)
{
    lfs_prov_note_ref_written(ex, loc, ev, desired);
    lfs_prov_check_node_access(ex, t, loc, ev, LFS_ACC_WRITE);
    int32_t benign = lfs_prov_check_cas_expected(ex, t, loc, ev, expected);
    lfs_prov_check_publish(ex, t, loc, desired);
    if (benign >= 0) /* after every check, so no violation lands on the note */
        lfs_prov_note_benign_aba(ex, t, ev, benign);
}

static inline void lfs_prov_cas_fail(lfs_exec_t *ex, lfs_vthread_t *t, const lfs_loc_t *loc,
                                     lfs_event_t *ev, lfs_word_t seen)
{
    lfs_prov_check_node_access(ex, t, loc, ev, LFS_ACC_READ);
    lfs_prov_note_ref_read(ex, t, loc, ev, seen);
}

static inline void lfs_prov_rmw(lfs_exec_t *ex, lfs_vthread_t *t, const lfs_loc_t *loc,
                                lfs_event_t *ev, lfs_word_t old, lfs_word_t new_value)
{
    lfs_prov_check_node_access(ex, t, loc, ev, LFS_ACC_WRITE);
    lfs_prov_note_ref_read(ex, t, loc, ev, old);
    lfs_prov_check_publish(ex, t, loc, new_value);
}

/* Also in setup: the node t allocated is one it knows, fresh. */
static inline void lfs_prov_node_allocated(lfs_exec_t *ex, lfs_vthread_t *t, uint32_t s)
{
    t->prov.gen[s] = ex->gen[s];
    t->prov.step[s] = ex->alloc_step[s];
    t->prov.src[s] = NO_SLOT; /* a fresh node: not read from anyone's link */
}

#endif
