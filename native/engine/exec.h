/*
 * exec.h — the state of a stepped execution, shared by the engine's own
 * files: stepper.c (yielding, addresses, the node pool, the lifecycle),
 * provenance.h/.c (the pointer checks) and the memory model
 * (memory_model.h).
 * Nothing outside native/engine/ includes it: the driver sees engine.h.
 */
#ifndef LFS_EXEC_H
#define LFS_EXEC_H

#include "engine.h"
#include "fiber.h"

#define MAX_VIOLATIONS 64
#define NO_SLOT (-1)
#define NO_PROVENANCE LFS_GEN_UNKNOWN

/* Node-data reads an operation remembers, to tell whether the value it
 * returns was read through a stale pointer: the newest read of that value
 * decides, so losing the oldest entries can only miss a report. */
#define DATA_READ_LOG 8

typedef struct lfs_data_read {
    lfs_word_t value;
    int32_t slot;
    uint32_t gen_loaded;  /* the generation the reading pointer knew */
    uint32_t load_step;
    uint8_t stale;        /* read after the node was freed or reincarnated */
    uint8_t kind;         /* what an escape of it is: enum lfs_violation_kind */
} lfs_data_read_t;

/* One thread's provenance, per node slot of the pool (provenance.h). */
typedef struct lfs_provenance {
    uint32_t *gen;        /* generation when this thread last loaded a reference to it */
    uint32_t *step;       /* step of that load */
    int32_t *src;         /* node whose field the reference was read from, -1: a root */
    uint32_t *src_gen;    /* that node's generation at the read */
    uint32_t *read_op;    /* op_seq when this thread last read one of its words */
    uint32_t op_seq;      /* operations begun, counting from 1 */
    lfs_data_read_t data_reads[DATA_READ_LOG]; /* the current operation's latest node-data reads */
    uint32_t n_data_reads; /* reads logged since the operation began (the log keeps the last ones) */
} lfs_provenance_t;


enum thread_status { T_READY = 0, T_FINISHED = 1, T_CRASHED = 2 };

typedef struct lfs_vthread {
    lfs_fiber_t fiber;
    struct lfs_exec *ex;
    int tid;
    int status;
    int pending;               /* event kind of the next shared action, -1 none */
    lfs_word_t *wait_addr;     /* pending LFS_EV_WAIT: blocked while *addr == value */
    lfs_word_t wait_value;
    uint32_t n_ops;
    int32_t *ops;
    int64_t *args;
    uint32_t pc;               /* index of the current operation */
    int invoke_pending;        /* the op's INVOKE is recorded at its first step */
    void *local;
    lfs_provenance_t prov;     /* where its pointers came from (provenance.h) */
    int32_t retired_head, retired_tail;
    uint32_t retired_count;
} lfs_vthread_t;

typedef struct lfs_loc {
    int32_t slot;   /* node slot, or NO_SLOT for a root */
    int16_t field;  /* node field, or root index (-1: undeclared shared word) */
    uint16_t elem;
    uint8_t kind;   /* enum lfs_word_kind */
} lfs_loc_t;

struct lfs_exec {
    const lfs_structure_t *s;
    struct lfs_options opts;
    int nthreads;
    uint32_t capacity;
    int reuse;
    uint64_t step_cap;
    uint32_t node_words;

    /* node pool */
    lfs_word_t *nodes;
    uint8_t *state;
    uint32_t *gen;
    int32_t *alloc_by, *freed_by, *retired_by;
    uint32_t *alloc_step, *freed_step;
    lfs_word_t *stamp;
    int32_t *rnext, *rprev;    /* per-thread retired lists, threaded through slots */
    uint32_t *free_slots;      /* LIFO stack or FIFO ring of free slot indices */
    uint32_t free_first, free_count, never_next;

    lfs_word_t *shared;
    size_t shared_words;
    unsigned char *locals;

    lfs_vthread_t threads[LFS_MAX_THREADS];
    lfs_fiber_t driver;

    uint32_t setup_n;
    int32_t *setup_ops;
    int64_t *setup_args;
    int in_setup;

    lfs_event_t *events;
    uint32_t n_events, cap_events;
    lfs_violation_t violations[MAX_VIOLATIONS];
    uint32_t n_violations;

    uint32_t steps;
    int status;
    int64_t enabled;
    lfs_coverage_t coverage;   /* this execution's counts (threads only, not setup) */
};

/* The slot a word refers to under the structure's encoding, or NO_SLOT
 * (lfs_exec_decode_ref for the driver). */
static inline int32_t lfs_decode_ref(const lfs_exec_t *ex, lfs_word_t word)
{
    if (word == 0)
        return NO_SLOT;
    if (ex->s->ref_encoding == LFS_REF_INDEX) {
        uint32_t low = lfs_ref_slot_plus_one(word);
        return (low && low - 1 < ex->capacity) ? (int32_t)(low - 1) : NO_SLOT;
    }
    uintptr_t off = (uintptr_t)word - (uintptr_t)ex->nodes;
    uintptr_t node_bytes = ex->node_words * sizeof(lfs_word_t);
    if (off < ex->capacity * node_bytes && off % node_bytes == 0)
        return (int32_t)(off / node_bytes);
    return NO_SLOT;
}

/* Recording (stepper.c): a new event of thread t at the current step, and a
 * violation at the last event (slot: the node involved, or NO_SLOT; its
 * provenance filled from t's). NULL once MAX_VIOLATIONS are recorded.
 * Engine-internal, like provenance.h's hooks. */
#pragma GCC visibility push(hidden)
lfs_event_t *lfs_record_event(lfs_exec_t *ex, lfs_vthread_t *t, int kind);
lfs_violation_t *lfs_record_violation(lfs_exec_t *ex, lfs_vthread_t *t, int kind, int detail,
                                      int32_t slot);
#pragma GCC visibility pop

#endif
