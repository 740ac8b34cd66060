/*
 * provenance.c — the provenance state's lifecycle and the checks' reports
 * (the rule, and the checks every step runs: provenance.h).
 */
#include <stdlib.h>
#include <string.h>

#include "provenance.h"

int lfs_prov_init(lfs_provenance_t *p, uint32_t capacity)
{
    memset(p, 0, sizeof *p);
    p->gen = malloc(capacity * sizeof(uint32_t));
    p->step = malloc(capacity * sizeof(uint32_t));
    p->src = malloc(capacity * sizeof(int32_t));
    p->src_gen = malloc(capacity * sizeof(uint32_t));
    p->read_op = malloc(capacity * sizeof(uint32_t));
    return p->gen && p->step && p->src && p->src_gen && p->read_op ? 0 : -1;
}

void lfs_prov_destroy(lfs_provenance_t *p)
{
    free(p->gen);
    free(p->step);
    free(p->src);
    free(p->src_gen);
    free(p->read_op);
}

void lfs_prov_reset(lfs_provenance_t *p, uint32_t capacity)
{
    memset(p->gen, 0xff, capacity * sizeof(uint32_t)); /* NO_PROVENANCE */
    memset(p->step, 0, capacity * sizeof(uint32_t));
    memset(p->src, 0xff, capacity * sizeof(int32_t));  /* NO_SLOT */
    memset(p->src_gen, 0, capacity * sizeof(uint32_t));
    memset(p->read_op, 0, capacity * sizeof(uint32_t)); /* op_seq 0: no operation */
    p->op_seq = 0;
    p->n_data_reads = 0;
}

/* Node s was accessed through a stale pointer (or is free): a write is
 * harmful; a read only under LFS_NO_STALE_ACCESS. */
void lfs_prov_stale_access(lfs_exec_t *ex, lfs_vthread_t *t, lfs_event_t *ev, int32_t s,
                           enum lfs_access_mode mode)
{
    ev->flags |= LFS_EVF_STALE;
    if (mode == LFS_ACC_WRITE)
        lfs_record_violation(ex, t, lfs_prov_stale_kind(ex, s), LFS_D_STORE_STALE, s);
    else if (ex->s->memory_promise == LFS_NO_STALE_ACCESS)
        lfs_record_violation(ex, t, LFS_V_USE_AFTER_FREE, LFS_D_READ_FREED, s);
}

/* Did the current operation read node s's words? When its pointer to s is
 * stale, they came from a life that is over or from one the pointer does
 * not name, and what it derived from them — a value it writes, the result
 * it returns, the decision to go on — is stale too. */
static int operation_read_node(const lfs_vthread_t *t, int32_t s)
{
    return t->prov.read_op[s] == t->prov.op_seq;
}

/* A harmful CAS on node s was reported: the operation's reads through that
 * pointer are accounted for, and their values escaping is the same story. */
static void account_data_reads(lfs_vthread_t *t, int32_t s)
{
    for (uint32_t i = 0; i < DATA_READ_LOG; i++)
        if (t->prov.data_reads[i].slot == s)
            t->prov.data_reads[i].stale = 0;
}

/* A successful CAS on a link expected node e, which this thread knows from
 * an earlier life. Harmful when the operation read e's words (the CAS then
 * vouches for stale knowledge). Otherwise only the address was compared,
 * and it still matches: a benign ABA. Returns e for that note, NO_SLOT when
 * there is nothing to note. */
int32_t lfs_prov_stale_cas_expected(lfs_exec_t *ex, lfs_vthread_t *t, lfs_event_t *ev, int32_t e)
{
    ev->flags |= LFS_EVF_STALE;
    if (!operation_read_node(t, e))
        return e;
    lfs_record_violation(ex, t, LFS_V_ABA, LFS_D_CAS_EXPECTED, e);
    account_data_reads(t, e);
    return NO_SLOT;
}

/* The trace's note after a benign ABA at the CAS event cas: which node the
 * CAS expected, the generation and step this thread loaded it at, the
 * generation it has now. */
void lfs_prov_note_benign_aba(lfs_exec_t *ex, lfs_vthread_t *t, const lfs_event_t *cas, int32_t e)
{
    lfs_event_t *note = lfs_record_event(ex, t, LFS_EV_NOTE);
    note->status = LFS_NOTE_BENIGN_ABA;
    note->slot = cas->slot;
    note->field = cas->field;
    note->elem = cas->elem;
    note->gen = cas->gen;
    note->ref_slot = e;
    note->ref_gen = t->prov.gen[e];
    note->value = t->prov.step[e];
    note->expected = ex->gen[e];
}

/* A link was set to node s, and lfs_prov_check_publish found something
 * wrong with it: say what. */
void lfs_prov_bad_publish(lfs_exec_t *ex, lfs_vthread_t *t, int32_t s)
{
    int32_t src = t->prov.src[s];
    if (t->prov.gen[s] != NO_PROVENANCE && src >= 0 && ex->gen[src] != t->prov.src_gen[s]) {
        lfs_violation_t *v = lfs_record_violation(ex, t, LFS_V_ABA, LFS_D_PUBLISH_FROM_STALE, src);
        if (v) {
            v->gen_loaded = t->prov.src_gen[s];
            v->load_step = t->prov.step[s];
            v->other_slot = s;
        }
    }
    if (ex->state[s] == LFS_SLOT_FREE)
        lfs_record_violation(ex, t, LFS_V_USE_AFTER_FREE, LFS_D_PUBLISH_FREED, s);
    else if (lfs_prov_is_stale(ex, t, s))
        lfs_record_violation(ex, t, LFS_V_ABA, LFS_D_PUBLISH_STALE, s);
}

/* An operation returns value: harmful if its newest read of that value went
 * through a stale pointer. Under LFS_NO_STALE_ACCESS the read itself was
 * already reported. */
void lfs_prov_operation_returns(lfs_exec_t *ex, lfs_vthread_t *t, lfs_word_t value)
{
    if (ex->s->memory_promise == LFS_NO_STALE_ACCESS)
        return;
    uint32_t logged = t->prov.n_data_reads < DATA_READ_LOG ? t->prov.n_data_reads : DATA_READ_LOG;
    for (uint32_t i = 1; i <= logged; i++) {
        const lfs_data_read_t *r = &t->prov.data_reads[(t->prov.n_data_reads - i) % DATA_READ_LOG];
        if (r->value != value)
            continue;
        if (r->stale) {
            lfs_violation_t *v =
                lfs_record_violation(ex, t, r->kind, LFS_D_RETURN_STALE, r->slot);
            if (v) {
                v->gen_loaded = r->gen_loaded;
                v->load_step = r->load_step;
            }
        }
        return;
    }
}

void lfs_prov_node_freed(lfs_exec_t *ex, lfs_vthread_t *t, uint32_t s, int32_t last_freed_by,
                         uint32_t last_freed_step)
{
    if (!lfs_prov_is_stale(ex, t, (int32_t)s))
        return;
    ex->events[ex->n_events - 1].flags |= LFS_EVF_STALE;
    lfs_violation_t *v = lfs_record_violation(ex, t, LFS_V_ABA, LFS_D_FREE_STALE, (int32_t)s);
    if (v) { /* the story is the free before this one */
        v->freed_by = last_freed_by;
        v->freed_step = last_freed_step;
        v->state_now = LFS_SLOT_LIVE;
    }
}

void lfs_prov_node_retired(lfs_exec_t *ex, lfs_vthread_t *t, lfs_event_t *ev, uint32_t s)
{
    if (!lfs_prov_is_stale(ex, t, (int32_t)s))
        return;
    ev->flags |= LFS_EVF_STALE;
    lfs_record_violation(ex, t, LFS_V_ABA, LFS_D_FREE_STALE, (int32_t)s);
}
