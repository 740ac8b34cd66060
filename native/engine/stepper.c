/*
 * stepper.c — the stepped build: node pool, instrumented primitives, fibers.
 *
 * Design. Each virtual thread is a fiber (fiber.h) running its program of
 * operations against the structure. Every shared action — a primitive on a
 * shared word, or a pool alloc/free/retire/reclaim — begins with
 * begin_step(): the fiber records what it is about to do (its *pending*
 * action) and switches back to the driver. lfs_exec_step(tid) resumes that
 * fiber: it performs the pending action, records the events, runs its private
 * code up to its next shared action, and switches back. Only one fiber runs at
 * a time, on the caller's OS thread, so an execution is a pure function of
 * (structure, options, setup, programs, the sequence of tids chosen): that is
 * what makes replay byte-identical.
 *
 * Each primitive does four things: begin_step yields; resolve maps the
 * address to a node slot + field or a named root, and any other address ends
 * the execution ("wild-pointer"), so broken code under test cannot crash the
 * harness; the memory model does the access itself (memory_model.h); and
 * provenance checks the pointers involved (provenance.h). This file does the
 * first two, records the events, and owns the node pool and the executions'
 * lifecycle.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "crashguard.h"
#include "exec.h"
#include "memory_model.h"
#include "provenance.h"

#define FIBER_STACK_SIZE (128 * 1024)

/* The execution and thread running on this OS thread (a driver may run
 * executions in several OS threads, one each). */
static __thread struct lfs_exec *cur_ex;
static __thread lfs_vthread_t *cur_t;

/* ------------------------------------------------------------------ */
/* Events and violations                                               */
/* ------------------------------------------------------------------ */

lfs_event_t *lfs_record_event(lfs_exec_t *ex, lfs_vthread_t *t, int kind)
{
    if (ex->n_events == ex->cap_events) {
        uint32_t cap = ex->cap_events ? ex->cap_events * 2 : 256;
        lfs_event_t *grown = realloc(ex->events, cap * sizeof *grown);
        if (!grown)
            abort(); /* out of host memory: nothing sensible to do */
        ex->events = grown;
        ex->cap_events = cap;
    }
    lfs_event_t *ev = &ex->events[ex->n_events++];
    memset(ev, 0, sizeof *ev);
    ev->step = ex->steps ? ex->steps - 1 : 0;
    ev->tid = (uint8_t)t->tid;
    ev->kind = (uint8_t)kind;
    ev->slot = NO_SLOT;
    ev->field = -1;
    ev->ref_slot = NO_SLOT;
    ev->op = -1;
    return ev;
}

lfs_violation_t *lfs_record_violation(lfs_exec_t *ex, lfs_vthread_t *t, int kind, int detail,
                                      int32_t slot)
{
    if (ex->n_events)
        ex->events[ex->n_events - 1].flags |= LFS_EVF_VIOLATION;
    if (ex->n_violations == MAX_VIOLATIONS)
        return NULL; /* the first ones tell the story; a looping thread would repeat it */
    lfs_violation_t *v = &ex->violations[ex->n_violations++];
    memset(v, 0, sizeof *v);
    v->kind = kind;
    v->detail = detail;
    v->step = ex->steps ? ex->steps - 1 : 0;
    v->tid = t ? t->tid : -1;
    v->event = ex->n_events ? ex->n_events - 1 : 0;
    v->slot = slot;
    v->other_slot = NO_SLOT;
    if (slot >= 0) {
        v->gen_loaded = t ? t->prov.gen[slot] : NO_PROVENANCE;
        v->load_step = t ? t->prov.step[slot] : 0;
        v->gen_now = ex->gen[slot];
        v->state_now = ex->state[slot];
        v->freed_by = ex->freed_by[slot];
        v->freed_step = ex->freed_step[slot];
        v->alloc_by = ex->alloc_by[slot];
        v->alloc_step = ex->alloc_step[slot];
    }
    return v;
}

/* The thread cannot go on: the execution ends here. */
static void __attribute__((noreturn)) abandon_thread(lfs_exec_t *ex, lfs_vthread_t *t)
{
    ex->status = LFS_EXEC_ABORTED;
    t->status = T_CRASHED;
    t->pending = -1;
    lfs_fiber_switch(&t->fiber, &ex->driver);
    abort(); /* never resumed */
}

/* A fatal violation: the thread cannot go on, the execution ends here. */
static void __attribute__((noreturn)) fatal(lfs_exec_t *ex, lfs_vthread_t *t, int kind,
                                            int detail, int64_t offset)
{
    lfs_violation_t *v = lfs_record_violation(ex, t, kind, detail, NO_SLOT);
    if (v)
        v->address_offset = offset;
    abandon_thread(ex, t);
}

/* The crash guard's hook: a fatal signal (abort(), a raw dereference) taken
 * while a virtual thread runs ends the execution with a "crash" violation
 * naming the signal and where it faulted; taken anywhere else, it is not ours
 * (we return). */
static void crashed_on_fiber(const lfs_crash_site_t *site)
{
    lfs_vthread_t *t = cur_t;
    lfs_exec_t *ex = cur_ex;
    if (!t || !ex || t->status != T_READY)
        return;
    lfs_violation_t *v = lfs_record_violation(ex, t, LFS_V_CRASH, site->signal, NO_SLOT);
    if (v) {
        v->fault_pc = site->pc;
        v->fault_address = site->address;
        v->fault_in_engine = site->in_engine;
        v->fault_on_guard_page = site->pc && lfs_fiber_guard_page_holds(&t->fiber, site->address);
    }
    abandon_thread(ex, t);
}

/* ------------------------------------------------------------------ */
/* Locations and references                                            */
/* ------------------------------------------------------------------ */

static int resolve(lfs_exec_t *ex, lfs_vthread_t *t, const void *addr, lfs_loc_t *loc)
{
    uintptr_t a = (uintptr_t)addr;
    uintptr_t pool = (uintptr_t)ex->nodes;
    uintptr_t pool_bytes = (uintptr_t)ex->capacity * ex->node_words * sizeof(lfs_word_t);
    uintptr_t shared = (uintptr_t)ex->shared;
    if (a - pool < pool_bytes) {
        if ((a - pool) % sizeof(lfs_word_t))
            fatal(ex, t, LFS_V_WILD_POINTER, LFS_D_MISALIGNED, (int64_t)(a - pool));
        uintptr_t word = (a - pool) / sizeof(lfs_word_t);
        loc->slot = (int32_t)(word / ex->node_words);
        loc->field = (int16_t)(word % ex->node_words);
        loc->elem = 0;
        loc->kind = ex->s->fields[loc->field].kind;
        return 0;
    }
    if (a - shared < ex->shared_words * sizeof(lfs_word_t)) {
        if ((a - shared) % sizeof(lfs_word_t))
            fatal(ex, t, LFS_V_WILD_POINTER, LFS_D_MISALIGNED, (int64_t)(a - pool));
        size_t off = a - shared;
        loc->slot = NO_SLOT;
        loc->field = -1;
        loc->elem = (uint16_t)(off / sizeof(lfs_word_t));
        loc->kind = LFS_DATA;
        for (uint32_t r = 0; r < ex->s->n_roots; r++) {
            const lfs_root_desc_t *root = &ex->s->roots[r];
            if (off >= root->offset && off < root->offset + root->count * sizeof(lfs_word_t)) {
                loc->field = (int16_t)r;
                loc->elem = (uint16_t)((off - root->offset) / sizeof(lfs_word_t));
                loc->kind = root->kind;
                break;
            }
        }
        return 0;
    }
    fatal(ex, t, LFS_V_WILD_POINTER, LFS_D_OUTSIDE, (int64_t)(a - pool));
}

int32_t lfs_exec_decode_ref(lfs_exec_t *ex, lfs_word_t word) { return lfs_decode_ref(ex, word); }

static void note_location(lfs_event_t *ev, const lfs_loc_t *loc, lfs_exec_t *ex)
{
    ev->slot = loc->slot;
    ev->field = loc->field;
    ev->elem = loc->elem;
    if (loc->slot >= 0)
        ev->gen = ex->gen[loc->slot];
}

/* ------------------------------------------------------------------ */
/* Stepping                                                            */
/* ------------------------------------------------------------------ */

static void record_invoke(lfs_exec_t *ex, lfs_vthread_t *t)
{
    lfs_event_t *ev = lfs_record_event(ex, t, LFS_EV_INVOKE);
    ev->op = t->ops[t->pc];
    ev->value = (lfs_word_t)t->args[t->pc];
    t->invoke_pending = 0;
    lfs_prov_operation_begins(t);
}

/* Announce the next shared action and yield; returns once scheduled. In setup
 * the action runs at once, unrecorded. */
static lfs_vthread_t *begin_step(int kind, lfs_word_t *wait_addr, lfs_word_t wait_value)
{
    lfs_exec_t *ex = cur_ex;
    lfs_vthread_t *t = cur_t;
    if (ex->in_setup)
        return t;
    t->pending = kind;
    t->wait_addr = wait_addr;
    t->wait_value = wait_value;
    lfs_fiber_switch(&t->fiber, &ex->driver);
    t->pending = -1;
    if (t->invoke_pending)
        record_invoke(ex, t);
    return t;
}

#define RECORDING(ex) (!(ex)->in_setup)

static lfs_event_t scratch_event; /* target of events in setup (not recorded) */

static lfs_event_t *event_for(lfs_exec_t *ex, lfs_vthread_t *t, int kind)
{
    if (RECORDING(ex))
        return lfs_record_event(ex, t, kind);
    memset(&scratch_event, 0, sizeof scratch_event);
    return &scratch_event;
}

lfs_word_t lfs_load(lfs_word_t *addr, lfs_order_t mo)
{
    lfs_vthread_t *t = begin_step(LFS_EV_LOAD, NULL, 0);
    lfs_exec_t *ex = cur_ex;
    lfs_loc_t loc;
    resolve(ex, t, addr, &loc);
    lfs_word_t value = lfs_mm_load(ex, t, addr, mo);
    lfs_event_t *ev = event_for(ex, t, LFS_EV_LOAD);
    ev->order = (uint8_t)mo;
    ev->value = value;
    note_location(ev, &loc, ex);
    if (RECORDING(ex))
        lfs_prov_load(ex, t, &loc, ev, value);
    return value;
}

void lfs_store(lfs_word_t *addr, lfs_word_t value, lfs_order_t mo)
{
    lfs_vthread_t *t = begin_step(LFS_EV_STORE, NULL, 0);
    lfs_exec_t *ex = cur_ex;
    lfs_loc_t loc;
    resolve(ex, t, addr, &loc);
    lfs_event_t *ev = event_for(ex, t, LFS_EV_STORE);
    ev->order = (uint8_t)mo;
    ev->value = value;
    note_location(ev, &loc, ex);
    if (RECORDING(ex))
        lfs_prov_store(ex, t, &loc, ev, value);
    lfs_mm_store(ex, t, addr, value, mo);
}

void lfs_init_store(lfs_word_t *addr, lfs_word_t value)
{
    lfs_exec_t *ex = cur_ex;
    lfs_vthread_t *t = cur_t;
    lfs_loc_t loc;
    resolve(ex, t, addr, &loc);
    if (RECORDING(ex)) {
        /* Not a step point: it belongs to the step that ran this code. */
        lfs_event_t *ev = lfs_record_event(ex, t, LFS_EV_INIT_STORE);
        ev->order = LFS_RELAXED;
        ev->value = value;
        note_location(ev, &loc, ex);
        lfs_prov_init_store(ex, t, &loc, ev, value);
    }
    lfs_mm_store(ex, t, addr, value, LFS_RELAXED); /* the node is still private */
}

bool lfs_cas(lfs_word_t *addr, lfs_word_t *expected, lfs_word_t desired, lfs_order_t mo)
{
    lfs_vthread_t *t = begin_step(LFS_EV_CAS_OK, NULL, 0);
    lfs_exec_t *ex = cur_ex;
    lfs_loc_t loc;
    resolve(ex, t, addr, &loc);
    lfs_word_t seen;
    bool ok = lfs_mm_cas(ex, t, addr, *expected, desired, mo, &seen);
    lfs_event_t *ev = event_for(ex, t, ok ? LFS_EV_CAS_OK : LFS_EV_CAS_FAIL);
    ev->order = (uint8_t)mo;
    ev->value = desired;
    ev->expected = ok ? *expected : seen;
    note_location(ev, &loc, ex);
    if (RECORDING(ex)) {
        if (ok)
            lfs_prov_cas_ok(ex, t, &loc, ev, *expected, desired);
        else
            lfs_prov_cas_fail(ex, t, &loc, ev, seen);
        ok ? ex->coverage.cas_ok++ : ex->coverage.cas_failed++;
    }
    if (!ok)
        *expected = seen;
    return ok;
}

static lfs_word_t read_modify_write(int kind, lfs_rmw_op_t op, lfs_word_t *addr,
                                    lfs_word_t operand, lfs_order_t mo)
{
    lfs_vthread_t *t = begin_step(kind, NULL, 0);
    lfs_exec_t *ex = cur_ex;
    lfs_loc_t loc;
    resolve(ex, t, addr, &loc);
    lfs_word_t new_value;
    lfs_word_t old = lfs_mm_rmw(ex, t, addr, op, operand, mo, &new_value);
    lfs_event_t *ev = event_for(ex, t, kind);
    ev->order = (uint8_t)mo;
    ev->value = old;
    ev->expected = new_value;
    note_location(ev, &loc, ex);
    if (RECORDING(ex))
        lfs_prov_rmw(ex, t, &loc, ev, old, new_value);
    return old;
}

lfs_word_t lfs_exchange(lfs_word_t *addr, lfs_word_t value, lfs_order_t mo)
{
    return read_modify_write(LFS_EV_EXCHANGE, LFS_RMW_EXCHANGE, addr, value, mo);
}

lfs_word_t lfs_fetch_add(lfs_word_t *addr, lfs_word_t delta, lfs_order_t mo)
{
    return read_modify_write(LFS_EV_FETCH_ADD, LFS_RMW_FETCH_ADD, addr, delta, mo);
}

void lfs_fence(lfs_order_t mo)
{
    lfs_vthread_t *t = begin_step(LFS_EV_FENCE, NULL, 0);
    lfs_mm_fence(cur_ex, t, mo);
    if (RECORDING(cur_ex))
        lfs_record_event(cur_ex, t, LFS_EV_FENCE)->order = (uint8_t)mo;
}

void lfs_pause(void)
{
    lfs_vthread_t *t = begin_step(LFS_EV_PAUSE, NULL, 0);
    if (RECORDING(cur_ex))
        lfs_record_event(cur_ex, t, LFS_EV_PAUSE);
}

void lfs_wait_while(lfs_word_t *addr, lfs_word_t value)
{
    lfs_exec_t *ex = cur_ex;
    lfs_loc_t loc;
    resolve(ex, cur_t, addr, &loc); /* before blocking on it */
    if (ex->in_setup)
        return; /* nobody else runs in setup: a held lock would never be released */
    lfs_vthread_t *t = begin_step(LFS_EV_WAIT, addr, value);
    lfs_event_t *ev = lfs_record_event(ex, t, LFS_EV_WAIT);
    ev->value = lfs_mm_peek(ex, t, addr);
    note_location(ev, &loc, ex);
}

/* ------------------------------------------------------------------ */
/* Node pool                                                           */
/* ------------------------------------------------------------------ */

size_t lfs_node_size(void) { return cur_ex->node_words * sizeof(lfs_word_t); }

void *lfs_node_at(uint32_t index)
{
    lfs_exec_t *ex = cur_ex;
    if (index >= ex->capacity)
        fatal(ex, cur_t, LFS_V_WILD_POINTER, LFS_D_OUTSIDE,
              (int64_t)index * (int64_t)lfs_node_size());
    return ex->nodes + (size_t)index * ex->node_words;
}

/* Which slot a node pointer names; wild otherwise. */
static uint32_t slot_of_node(lfs_exec_t *ex, lfs_vthread_t *t, const void *node)
{
    uintptr_t off = (uintptr_t)node - (uintptr_t)ex->nodes;
    uintptr_t node_bytes = ex->node_words * sizeof(lfs_word_t);
    if (off >= ex->capacity * node_bytes)
        fatal(ex, t, LFS_V_WILD_POINTER, LFS_D_OUTSIDE, (int64_t)off);
    if (off % node_bytes)
        fatal(ex, t, LFS_V_WILD_POINTER, LFS_D_MISALIGNED, (int64_t)off);
    return (uint32_t)(off / node_bytes);
}

uint32_t lfs_node_index(const void *node) { return slot_of_node(cur_ex, cur_t, node); }

static int take_free_slot(lfs_exec_t *ex, uint32_t *slot)
{
    if (ex->reuse == LFS_REUSE_NEVER) {
        if (ex->never_next == ex->capacity)
            return -1;
        *slot = ex->never_next++;
        return 0;
    }
    if (ex->free_count == 0)
        return -1;
    if (ex->reuse == LFS_REUSE_LIFO) {
        *slot = ex->free_slots[--ex->free_count];
    } else {
        *slot = ex->free_slots[ex->free_first];
        ex->free_first = (ex->free_first + 1) % ex->capacity;
        ex->free_count--;
    }
    return 0;
}

static void give_free_slot(lfs_exec_t *ex, uint32_t slot)
{
    if (ex->reuse == LFS_REUSE_NEVER)
        return; /* freed, never handed out again */
    if (ex->reuse == LFS_REUSE_LIFO)
        ex->free_slots[ex->free_count++] = slot;
    else
        ex->free_slots[(ex->free_first + ex->free_count++) % ex->capacity] = slot;
}

static void unlink_retired(lfs_exec_t *ex, uint32_t s)
{
    lfs_vthread_t *owner = &ex->threads[ex->retired_by[s]];
    int32_t p = ex->rprev[s], n = ex->rnext[s];
    if (p >= 0) ex->rnext[p] = n; else owner->retired_head = n;
    if (n >= 0) ex->rprev[n] = p; else owner->retired_tail = p;
    owner->retired_count--;
    ex->retired_by[s] = -1;
}

static int setup_tid(lfs_exec_t *ex, lfs_vthread_t *t) { return ex->in_setup ? -1 : t->tid; }

void *lfs_node_alloc(void)
{
    lfs_vthread_t *t = begin_step(LFS_EV_ALLOC, NULL, 0);
    lfs_exec_t *ex = cur_ex;
    uint32_t s;
    if (take_free_slot(ex, &s) != 0) {
        if (RECORDING(ex))
            lfs_record_event(ex, t, LFS_EV_ALLOC);
        fatal(ex, t, LFS_V_POOL_EXHAUSTED, LFS_D_NONE, 0);
    }
    ex->state[s] = LFS_SLOT_LIVE;
    ex->gen[s]++;
    ex->alloc_by[s] = setup_tid(ex, t);
    ex->alloc_step[s] = ex->steps ? ex->steps - 1 : 0;
    lfs_prov_node_allocated(ex, t, s);
    if (RECORDING(ex)) {
        lfs_event_t *ev = lfs_record_event(ex, t, LFS_EV_ALLOC);
        ev->slot = (int32_t)s;
        ev->gen = ex->gen[s];
        ex->coverage.allocs++;
        ex->coverage.reuses += ex->gen[s] > 1;
    }
    return ex->nodes + (size_t)s * ex->node_words;
}

static void free_slot(lfs_exec_t *ex, lfs_vthread_t *t, uint32_t s)
{
    if (RECORDING(ex)) {
        ex->coverage.frees++;
        ex->coverage.reclaimed += ex->state[s] == LFS_SLOT_RETIRED;
    }
    if (ex->state[s] == LFS_SLOT_RETIRED)
        unlink_retired(ex, s);
    ex->state[s] = LFS_SLOT_FREE;
    ex->freed_by[s] = setup_tid(ex, t);
    ex->freed_step[s] = ex->steps ? ex->steps - 1 : 0;
    give_free_slot(ex, s);
    if (RECORDING(ex)) {
        lfs_event_t *ev = lfs_record_event(ex, t, LFS_EV_FREE);
        ev->slot = (int32_t)s;
        ev->gen = ex->gen[s];
    }
}

void lfs_node_free(void *node)
{
    lfs_vthread_t *t = begin_step(LFS_EV_FREE, NULL, 0);
    lfs_exec_t *ex = cur_ex;
    uint32_t s = slot_of_node(ex, t, node);
    if (ex->state[s] == LFS_SLOT_FREE) {
        if (RECORDING(ex)) {
            lfs_event_t *ev = lfs_record_event(ex, t, LFS_EV_FREE);
            ev->slot = (int32_t)s;
            ev->gen = ex->gen[s];
            ev->flags |= LFS_EVF_STALE;
        }
        lfs_record_violation(ex, t, LFS_V_DOUBLE_FREE, LFS_D_FREE_TWICE, (int32_t)s);
        return; /* the pool stays consistent: the slot is not handed out twice */
    }
    int32_t last_freed_by = ex->freed_by[s];
    uint32_t last_freed_step = ex->freed_step[s];
    free_slot(ex, t, s);
    if (RECORDING(ex))
        lfs_prov_node_freed(ex, t, s, last_freed_by, last_freed_step);
}

void lfs_node_retire(void *node, lfs_word_t stamp)
{
    lfs_vthread_t *t = begin_step(LFS_EV_RETIRE, NULL, 0);
    lfs_exec_t *ex = cur_ex;
    uint32_t s = slot_of_node(ex, t, node);
    lfs_event_t *ev = event_for(ex, t, LFS_EV_RETIRE);
    ev->slot = (int32_t)s;
    ev->gen = ex->gen[s];
    ev->value = stamp;
    if (ex->state[s] != LFS_SLOT_LIVE) {
        ev->flags |= LFS_EVF_STALE;
        lfs_record_violation(ex, t, LFS_V_DOUBLE_FREE, LFS_D_RETIRE_NOT_LIVE, (int32_t)s);
        return;
    }
    if (RECORDING(ex))
        lfs_prov_node_retired(ex, t, ev, s);
    ex->state[s] = LFS_SLOT_RETIRED;
    ex->retired_by[s] = t->tid;
    ex->stamp[s] = stamp;
    ex->rnext[s] = -1;
    ex->rprev[s] = t->retired_tail;
    if (t->retired_tail >= 0) ex->rnext[t->retired_tail] = (int32_t)s;
    else t->retired_head = (int32_t)s;
    t->retired_tail = (int32_t)s;
    t->retired_count++;
    if (RECORDING(ex))
        ex->coverage.retires++;
}

/* One step however many nodes it visits: the walk is the thread's own
 * bookkeeping, outside shared memory. */
static uint32_t reclaim_walk(lfs_still_needed_fn still_needed, void *ctx, bool stop_at_needed)
{
    lfs_vthread_t *t = begin_step(LFS_EV_RECLAIM, NULL, 0);
    lfs_exec_t *ex = cur_ex;
    lfs_event_t *ev = event_for(ex, t, LFS_EV_RECLAIM);
    uint32_t reclaim_event = RECORDING(ex) ? ex->n_events - 1 : 0;
    uint32_t freed = 0;
    ev->expected = t->retired_count;
    for (int32_t s = t->retired_head; s >= 0;) {
        int32_t next = ex->rnext[s];
        if (!still_needed(ex->nodes + (size_t)s * ex->node_words, ex->stamp[s], ctx)) {
            free_slot(ex, t, (uint32_t)s);
            freed++;
        } else if (stop_at_needed) {
            break;
        }
        s = next;
    }
    if (RECORDING(ex)) {
        ex->events[reclaim_event].value = freed;
        ex->coverage.reclaim_passes++;
    }
    return freed;
}

uint32_t lfs_reclaim(lfs_still_needed_fn still_needed, void *ctx)
{
    return reclaim_walk(still_needed, ctx, false);
}

uint32_t lfs_reclaim_oldest(lfs_still_needed_fn still_needed, void *ctx)
{
    return reclaim_walk(still_needed, ctx, true);
}

uint32_t lfs_retired_count(void) { return cur_t->retired_count; }

int lfs_thread_id(void) { return cur_t ? cur_t->tid : 0; }
int lfs_thread_count(void) { return cur_ex->nthreads; }

/* ------------------------------------------------------------------ */
/* Executions                                                          */
/* ------------------------------------------------------------------ */

static void thread_main(void *arg)
{
    lfs_vthread_t *t = arg;
    lfs_exec_t *ex = t->ex;
    const lfs_structure_t *s = ex->s;
    for (; t->pc < t->n_ops; t->pc++) {
        const lfs_op_desc_t *op = &s->ops[t->ops[t->pc]];
        lfs_word_t result = 0;
        t->invoke_pending = 1;
        int status = op->fn(ex->shared, t->local, (lfs_word_t)t->args[t->pc], &result);
        if (t->invoke_pending)
            record_invoke(ex, t); /* an operation that touched nothing shared */
        lfs_event_t *ev = lfs_record_event(ex, t, LFS_EV_RETURN);
        ev->op = t->ops[t->pc];
        ev->status = status;
        ev->value = op->returns_value && status == LFS_OK ? result : 0;
        if (op->returns_value && status == LFS_OK)
            lfs_prov_operation_returns(ex, t, result);
        if (status == LFS_OK)
            ex->coverage.op_ok[t->ops[t->pc]]++;
        else if (status == LFS_EMPTY)
            ex->coverage.op_empty[t->ops[t->pc]]++;
    }
    t->status = T_FINISHED;
    t->pending = -1;
    lfs_fiber_switch(&t->fiber, &ex->driver);
    abort(); /* a finished thread is never resumed */
}

/* Setup: init, per-thread init, then the initial contents, executed
 * directly (unrecorded) as thread 0. */
static void setup_main(void *arg)
{
    lfs_exec_t *ex = arg;
    int rc = ex->s->init ? ex->s->init(ex->shared, &ex->opts) : 0;
    for (int i = 0; i < ex->nthreads && ex->s->thread_init; i++) {
        cur_t = &ex->threads[i];
        ex->s->thread_init(ex->shared, ex->threads[i].local, &ex->opts);
    }
    cur_t = &ex->threads[0];
    for (uint32_t i = 0; i < ex->setup_n && rc >= 0; i++) {
        lfs_word_t ignored;
        rc = ex->s->ops[ex->setup_ops[i]].fn(ex->shared, cur_t->local,
                                             (lfs_word_t)ex->setup_args[i], &ignored);
    }
    if (rc < 0) {
        ex->status = LFS_EXEC_ABORTED;
        lfs_record_violation(ex, NULL, LFS_V_POOL_EXHAUSTED, LFS_D_NONE, NO_SLOT);
    }
    lfs_fiber_switch(&ex->threads[0].fiber, &ex->driver);
    abort(); /* re-prepared before it runs again */
}

lfs_exec_t *lfs_exec_new(const lfs_structure_t *s, int nthreads, uint32_t capacity,
                         int reuse, const int64_t *options, uint64_t step_cap)
{
    if (!s || nthreads < 1 || nthreads > LFS_MAX_THREADS || capacity < 1 ||
        capacity > LFS_EXEC_MAX_CAPACITY || reuse < LFS_REUSE_LIFO || reuse > LFS_REUSE_NEVER ||
        s->node_words < 1 || s->node_words > LFS_MAX_FIELDS || s->shared_size % 8)
        return NULL;
    lfs_exec_t *ex = calloc(1, sizeof *ex);
    if (!ex)
        return NULL;
    ex->s = s;
    if (lfs_options_fill(&ex->opts, s, options, NULL) != 0) {
        free(ex);
        return NULL;
    }
    ex->nthreads = nthreads;
    ex->capacity = capacity;
    ex->reuse = reuse;
    ex->step_cap = step_cap;
    ex->node_words = s->node_words;
    ex->nodes = calloc((size_t)capacity * s->node_words, sizeof(lfs_word_t));
    ex->state = calloc(capacity, 1);
    ex->gen = calloc(capacity, sizeof(uint32_t));
    ex->alloc_by = calloc(capacity, sizeof(int32_t));
    ex->freed_by = calloc(capacity, sizeof(int32_t));
    ex->retired_by = calloc(capacity, sizeof(int32_t));
    ex->alloc_step = calloc(capacity, sizeof(uint32_t));
    ex->freed_step = calloc(capacity, sizeof(uint32_t));
    ex->stamp = calloc(capacity, sizeof(lfs_word_t));
    ex->rnext = calloc(capacity, sizeof(int32_t));
    ex->rprev = calloc(capacity, sizeof(int32_t));
    ex->free_slots = calloc(capacity, sizeof(uint32_t));
    ex->shared_words = s->shared_size / sizeof(lfs_word_t);
    ex->shared = calloc(ex->shared_words ? ex->shared_words : 1, sizeof(lfs_word_t));
    size_t local = (s->local_size + 15) & ~(size_t)15;
    ex->locals = calloc((size_t)nthreads, local ? local : 16);
    int failed = !ex->nodes || !ex->state || !ex->gen || !ex->alloc_by || !ex->freed_by ||
                 !ex->retired_by || !ex->alloc_step || !ex->freed_step || !ex->stamp ||
                 !ex->rnext || !ex->rprev || !ex->free_slots || !ex->shared || !ex->locals;
    for (int i = 0; i < nthreads && !failed; i++) {
        lfs_vthread_t *t = &ex->threads[i];
        t->ex = ex;
        t->tid = i;
        t->local = ex->locals + (size_t)i * (local ? local : 16);
        failed = lfs_prov_init(&t->prov, capacity) != 0 ||
                 lfs_fiber_create(&t->fiber, FIBER_STACK_SIZE) != 0;
    }
    if (failed) {
        lfs_exec_delete(ex);
        return NULL;
    }
    return ex;
}

void lfs_exec_delete(lfs_exec_t *ex)
{
    if (!ex)
        return;
    for (int i = 0; i < ex->nthreads; i++) {
        lfs_vthread_t *t = &ex->threads[i];
        lfs_fiber_destroy(&t->fiber);
        lfs_prov_destroy(&t->prov);
        free(t->ops);
        free(t->args);
    }
    free(ex->nodes); free(ex->state); free(ex->gen); free(ex->alloc_by);
    free(ex->freed_by); free(ex->retired_by); free(ex->alloc_step); free(ex->freed_step);
    free(ex->stamp); free(ex->rnext); free(ex->rprev); free(ex->free_slots);
    free(ex->shared); free(ex->locals); free(ex->setup_ops); free(ex->setup_args);
    free(ex->events);
    free(ex);
}

static int copy_program(lfs_exec_t *ex, uint32_t n, const int32_t *ops, const int64_t *args,
                        int32_t **ops_out, int64_t **args_out)
{
    for (uint32_t i = 0; i < n; i++)
        if (ops[i] < 0 || (uint32_t)ops[i] >= ex->s->n_ops)
            return -1;
    int32_t *o = malloc((n ? n : 1) * sizeof *o);
    int64_t *a = malloc((n ? n : 1) * sizeof *a);
    if (!o || !a) {
        free(o);
        free(a);
        return -1;
    }
    memcpy(o, ops, n * sizeof *o);
    memcpy(a, args, n * sizeof *a);
    free(*ops_out);
    free(*args_out);
    *ops_out = o;
    *args_out = a;
    return 0;
}

int lfs_exec_set_program(lfs_exec_t *ex, int tid, uint32_t n, const int32_t *ops,
                         const int64_t *args)
{
    if (tid < 0 || tid >= ex->nthreads)
        return -1;
    lfs_vthread_t *t = &ex->threads[tid];
    if (copy_program(ex, n, ops, args, &t->ops, &t->args) != 0)
        return -1;
    t->n_ops = n;
    return 0;
}

int lfs_exec_set_setup(lfs_exec_t *ex, uint32_t n, const int32_t *ops, const int64_t *args)
{
    if (copy_program(ex, n, ops, args, &ex->setup_ops, &ex->setup_args) != 0)
        return -1;
    ex->setup_n = n;
    return 0;
}

static void reset_pool(lfs_exec_t *ex)
{
    uint32_t cap = ex->capacity;
    memset(ex->nodes, 0, (size_t)cap * ex->node_words * sizeof(lfs_word_t));
    memset(ex->state, LFS_SLOT_FREE, cap);
    memset(ex->gen, 0, cap * sizeof(uint32_t));
    for (uint32_t s = 0; s < cap; s++) {
        ex->alloc_by[s] = ex->freed_by[s] = ex->retired_by[s] = -1;
        ex->rnext[s] = ex->rprev[s] = -1;
        /* LIFO pops from the end: lay slots out so that #0 comes first. */
        ex->free_slots[s] = ex->reuse == LFS_REUSE_LIFO ? cap - 1 - s : s;
    }
    memset(ex->alloc_step, 0, cap * sizeof(uint32_t));
    memset(ex->freed_step, 0, cap * sizeof(uint32_t));
    ex->free_first = 0;
    ex->free_count = cap;
    ex->never_next = 0;
}

int64_t lfs_exec_start(lfs_exec_t *ex)
{
    lfs_crashguard_arm(crashed_on_fiber);
    reset_pool(ex);
    memset(ex->shared, 0, ex->shared_words * sizeof(lfs_word_t));
    size_t local = (ex->s->local_size + 15) & ~(size_t)15;
    memset(ex->locals, 0, (size_t)ex->nthreads * (local ? local : 16));
    ex->n_events = 0;
    ex->n_violations = 0;
    ex->steps = 0;
    ex->status = LFS_EXEC_RUNNING;
    memset(&ex->coverage, 0, sizeof ex->coverage);
    ex->coverage.executions = 1;
    for (int i = 0; i < ex->nthreads; i++) {
        lfs_vthread_t *t = &ex->threads[i];
        t->status = T_READY;
        t->pending = -1;
        t->pc = 0;
        t->invoke_pending = 0;
        t->retired_head = t->retired_tail = -1;
        t->retired_count = 0;
        lfs_prov_reset(&t->prov, ex->capacity);
    }

    /* Setup runs on thread 0's fiber, so that a fatal violation in it (an
     * initial content larger than the pool) returns here like any other. */
    cur_ex = ex;
    cur_t = &ex->threads[0];
    ex->in_setup = 1;
    lfs_fiber_prepare(&ex->threads[0].fiber, setup_main, ex);
    lfs_fiber_switch(&ex->driver, &ex->threads[0].fiber);
    ex->in_setup = 0;
    /* Setup's own loads leave no provenance: the threads start fresh. */
    lfs_prov_reset(&ex->threads[0].prov, ex->capacity);
    if (ex->status != LFS_EXEC_RUNNING) {
        cur_t = NULL;
        return -1;
    }

    /* Run each thread's private prologue up to its first shared action. */
    for (int i = 0; i < ex->nthreads; i++) {
        lfs_vthread_t *t = &ex->threads[i];
        lfs_fiber_prepare(&t->fiber, thread_main, t);
        cur_t = t;
        lfs_fiber_switch(&ex->driver, &t->fiber);
    }
    cur_t = NULL;
    return lfs_exec_enabled(ex);
}

int64_t lfs_exec_enabled(lfs_exec_t *ex)
{
    if (ex->status != LFS_EXEC_RUNNING)
        return 0;
    int64_t mask = 0;
    int unfinished = 0;
    for (int i = 0; i < ex->nthreads; i++) {
        lfs_vthread_t *t = &ex->threads[i];
        if (t->status != T_READY)
            continue;
        unfinished++;
        if (t->pending == LFS_EV_WAIT && lfs_mm_peek(ex, t, t->wait_addr) == t->wait_value)
            continue;
        mask |= (int64_t)1 << i;
    }
    if (!unfinished) {
        ex->status = LFS_EXEC_DONE;
    } else if (!mask) {
        ex->status = LFS_EXEC_DEADLOCK;
        lfs_record_violation(ex, NULL, LFS_V_DEADLOCK, LFS_D_NONE, NO_SLOT);
    }
    return mask;
}

int64_t lfs_exec_step(lfs_exec_t *ex, int tid)
{
    if (ex->status != LFS_EXEC_RUNNING || tid < 0 || tid >= ex->nthreads)
        return -2;
    lfs_vthread_t *t = &ex->threads[tid];
    if (t->status != T_READY ||
        (t->pending == LFS_EV_WAIT && lfs_mm_peek(ex, t, t->wait_addr) == t->wait_value))
        return -2;
    if (ex->steps >= ex->step_cap) {
        ex->status = LFS_EXEC_LIVELOCK;
        lfs_record_violation(ex, NULL, LFS_V_LIVELOCK, LFS_D_NONE, NO_SLOT);
        return 0;
    }
    ex->steps++;
    cur_ex = ex;
    cur_t = t;
    lfs_fiber_switch(&ex->driver, &t->fiber);
    cur_t = NULL;
    return lfs_exec_enabled(ex);
}

int lfs_exec_status(lfs_exec_t *ex) { return ex->status; }
uint32_t lfs_exec_steps(lfs_exec_t *ex) { return ex->steps; }
uint32_t lfs_exec_event_count(lfs_exec_t *ex) { return ex->n_events; }
const lfs_event_t *lfs_exec_events(lfs_exec_t *ex) { return ex->events; }
uint32_t lfs_exec_violation_count(lfs_exec_t *ex) { return ex->n_violations; }
const lfs_violation_t *lfs_exec_violations(lfs_exec_t *ex) { return ex->violations; }
uint32_t lfs_exec_capacity(lfs_exec_t *ex) { return ex->capacity; }
const uint8_t *lfs_exec_slot_states(lfs_exec_t *ex) { return ex->state; }
const uint32_t *lfs_exec_slot_gens(lfs_exec_t *ex) { return ex->gen; }
const int32_t *lfs_exec_slot_retired_by(lfs_exec_t *ex) { return ex->retired_by; }
const lfs_word_t *lfs_exec_node_words(lfs_exec_t *ex) { return ex->nodes; }
const lfs_word_t *lfs_exec_shared_words(lfs_exec_t *ex) { return ex->shared; }

int32_t lfs_exec_thread_op(lfs_exec_t *ex, int tid)
{
    if (tid < 0 || tid >= ex->nthreads)
        return -1;
    lfs_vthread_t *t = &ex->threads[tid];
    return t->status == T_READY ? (int32_t)t->pc : -1;
}

int32_t lfs_exec_thread_pending(lfs_exec_t *ex, int tid)
{
    if (tid < 0 || tid >= ex->nthreads)
        return -1;
    return ex->threads[tid].status == T_READY ? ex->threads[tid].pending : -1;
}

uint32_t lfs_exec_retired_count(lfs_exec_t *ex, int tid)
{
    return (tid >= 0 && tid < ex->nthreads) ? ex->threads[tid].retired_count : 0;
}

_Static_assert(sizeof(lfs_coverage_t) % sizeof(uint64_t) == 0,
               "lfs_coverage_t is made of uint64_t counts only: it is summed member-wise");

void lfs_exec_add_coverage(lfs_exec_t *ex, lfs_coverage_t *total)
{
    const uint64_t *one = (const uint64_t *)&ex->coverage;
    uint64_t *sum = (uint64_t *)total;
    for (size_t i = 0; i < sizeof *total / sizeof(uint64_t); i++)
        sum[i] += one[i];
}
