/*
 * engine.h — the stepped build's execution API, for the Python driver (and
 * the native search loops). Structure authors never need this header.
 *
 * An execution = a structure variant + options + pool capacity + setup
 * operations (the initial contents) + one program per virtual thread. The
 * driver calls lfs_exec_start, then lfs_exec_step(tid) with any enabled
 * thread until the returned enabled mask is 0; lfs_exec_status says why it
 * ended. Every step performs exactly one shared action of one thread (a
 * primitive, or a pool alloc/free/retire/reclaim) and records events.
 */
#ifndef LFS_ENGINE_H
#define LFS_ENGINE_H

#include "common/common.h"

/* BEGIN CDEF: the execution API (everything down to the END mark is read by
 * native/build_cffi.py as the stepped extension's declarations: no
 * preprocessor lines but integer #defines) */

/* Event kinds (stable: tokens hash traces; stress/engine.py names them). */
enum lfs_event_kind {
    LFS_EV_LOAD = 0,
    LFS_EV_STORE = 1,
    LFS_EV_INIT_STORE = 2,
    LFS_EV_CAS_OK = 3,
    LFS_EV_CAS_FAIL = 4,
    LFS_EV_EXCHANGE = 5,
    LFS_EV_FETCH_ADD = 6,
    LFS_EV_FENCE = 7,
    LFS_EV_PAUSE = 8,
    LFS_EV_WAIT = 9,
    LFS_EV_ALLOC = 10,
    LFS_EV_FREE = 11,
    LFS_EV_RETIRE = 12,
    LFS_EV_INVOKE = 13,
    LFS_EV_RETURN = 14,
    LFS_EV_RECLAIM = 15,
    LFS_EV_NOTE = 16,      /* not an action: an explanation of the event before it */
    LFS_EV_KIND_COUNT = 17,
};

/* What a LFS_EV_NOTE says (its status). */
enum lfs_note_kind {
    /* A successful CAS expected a node this thread knows from an earlier
     * life, but read nothing from that life: the address still matches and
     * nothing stale flows (Treiber's push). The note's location is the
     * CAS's; ref_slot: the node, ref_gen: the generation the thread loaded
     * it at, value: the step of that load, expected: its generation now. */
    LFS_NOTE_BENIGN_ABA = 1,
};

/* Event flags. */
#define LFS_EVF_STALE 1      /* accessed a node freed or reincarnated since loaded */
#define LFS_EVF_VIOLATION 2  /* a violation was recorded at this event */

/* Location: a node word (slot >= 0, field) or a root (slot -1, root, elem). */
typedef struct lfs_event {
    uint32_t step;     /* index of the step this event belongs to */
    uint8_t tid;
    uint8_t kind;      /* enum lfs_event_kind */
    uint8_t order;     /* lfs_order_t */
    uint8_t flags;
    int32_t slot;      /* node slot touched, or -1 */
    uint32_t gen;      /* that slot's generation at the event */
    int16_t field;     /* node field, or root index; -1: none */
    uint16_t elem;     /* element of a root array */
    int32_t ref_slot;  /* node the value refers to (link/hazard words), or -1 */
    uint32_t ref_gen;
    lfs_word_t value;    /* read / written / CAS desired / op argument or result */
    lfs_word_t expected; /* CAS expected (the value seen when it failed); xchg/faa: value written */
    int32_t op;          /* operation index (INVOKE/RETURN), else -1 */
    int32_t status;      /* RETURN: the op's status (LFS_OK / LFS_EMPTY); NOTE: lfs_note_kind */
} lfs_event_t;

/* Violation kinds detected while stepping (the Python side names them). */
enum lfs_violation_kind {
    LFS_V_USE_AFTER_FREE = 1,
    LFS_V_DOUBLE_FREE = 2,
    LFS_V_ABA = 3,
    LFS_V_WILD_POINTER = 4,
    LFS_V_POOL_EXHAUSTED = 5,
    LFS_V_LIVELOCK = 6,
    LFS_V_DEADLOCK = 7,
    LFS_V_CRASH = 8,  /* a fatal signal on a fiber (crashguard.c); detail: the signal */
};

/* Why a stale access is reported (detail of a violation). */
enum lfs_violation_detail {
    LFS_D_NONE = 0,
    LFS_D_STORE_STALE = 1,    /* store/RMW through a pointer to a reincarnated or freed node */
    LFS_D_READ_FREED = 2,     /* read of a freed/reincarnated node under a no-stale-access scheme */
    LFS_D_CAS_EXPECTED = 3,   /* CAS succeeded expecting a reincarnated node it had read in its earlier life */
    LFS_D_PUBLISH_FREED = 4,  /* a link was set to a freed node */
    LFS_D_PUBLISH_STALE = 5,  /* a link was set to a reincarnated node through a stale pointer */
    LFS_D_FREE_STALE = 6,     /* free/retire through a stale pointer */
    LFS_D_FREE_TWICE = 7,
    LFS_D_RETIRE_NOT_LIVE = 8,
    LFS_D_OUTSIDE = 9,        /* address outside pool and shared state */
    LFS_D_MISALIGNED = 10,
    LFS_D_PUBLISH_FROM_STALE = 11, /* linked a reference read from a node's earlier life */
    LFS_D_RETURN_STALE = 12,  /* an operation returned a value read through a stale pointer */
};

#define LFS_GEN_UNKNOWN 0xFFFFFFFF

typedef struct lfs_violation {
    int32_t kind;       /* enum lfs_violation_kind */
    int32_t detail;     /* enum lfs_violation_detail */
    uint32_t step;
    int32_t tid;
    uint32_t event;     /* index of the event it was found at */
    int32_t slot;       /* the node involved, or -1 */
    uint32_t gen_loaded;/* generation when this thread loaded its pointer,
                           LFS_GEN_UNKNOWN: it never loaded one */
    uint32_t load_step; /* step of that load */
    uint32_t gen_now;
    int32_t state_now;  /* slot state now */
    int32_t freed_by;   /* last free of the slot: thread (-1 setup) and step */
    uint32_t freed_step;
    int32_t alloc_by;   /* last allocation: thread and step */
    uint32_t alloc_step;
    int64_t address_offset; /* wild pointer: offset from pool base */
    int32_t other_slot;     /* publish-from-stale: the node being linked */
    /* crash: the faulting instruction (0: a signal sent, not a fault) and the
     * address it accessed, whether the instruction is the engine's own code,
     * and whether the access hit the fiber's stack guard page (overflow). */
    int32_t fault_in_engine;
    int32_t fault_on_guard_page;
    uint64_t fault_pc;
    uint64_t fault_address;
} lfs_violation_t;

enum lfs_reuse_policy { LFS_REUSE_LIFO = 0, LFS_REUSE_FIFO = 1, LFS_REUSE_NEVER = 2 };
enum lfs_exec_limits { LFS_EXEC_MAX_CAPACITY = 1 << 24 }; /* pool slots of an execution */
enum lfs_exec_status {
    LFS_EXEC_RUNNING = 0,
    LFS_EXEC_DONE = 1,      /* every thread finished its program */
    LFS_EXEC_ABORTED = 2,   /* a fatal violation stopped it (wild pointer, pool) */
    LFS_EXEC_LIVELOCK = 3,  /* step cap reached */
    LFS_EXEC_DEADLOCK = 4,  /* nobody enabled, somebody unfinished */
};

/* What executions did, for the coverage summary of a search (folded over
 * executions by lfs_exec_add_coverage; stress/coverage.py holds the rules
 * that read it). Every member is a uint64_t count, so a sum is member-wise. */
typedef struct lfs_coverage {
    uint64_t executions;
    uint64_t allocs;          /* nodes allocated by the threads (setup's not counted) */
    uint64_t reuses;          /* ... of them a slot's second or later life */
    uint64_t retires;
    uint64_t reclaim_passes;  /* lfs_reclaim / lfs_reclaim_oldest calls that ran */
    uint64_t reclaimed;       /* retired nodes freed, by a pass or lfs_node_free */
    uint64_t frees;           /* nodes freed, retired or not */
    uint64_t cas_ok;
    uint64_t cas_failed;
    uint64_t op_ok[LFS_MAX_OPS];    /* per operation index: returned LFS_OK */
    uint64_t op_empty[LFS_MAX_OPS]; /* ... returned LFS_EMPTY */
} lfs_coverage_t;

typedef struct lfs_exec lfs_exec_t;

/* The function (or else object + offset) holding an instruction address, for
 * a crash report: "symbol+0xoff in object". Returns the length written. */
size_t lfs_describe_code(uint64_t pc, char *out, size_t size);

lfs_exec_t *lfs_exec_new(const lfs_structure_t *s, int nthreads, uint32_t capacity,
                         int reuse, const int64_t *options, uint64_t step_cap);
void lfs_exec_delete(lfs_exec_t *ex);
/* Programs: op indices and arguments. Setup ops run before the threads. */
int lfs_exec_set_program(lfs_exec_t *ex, int tid, uint32_t n, const int32_t *ops,
                         const int64_t *args);
int lfs_exec_set_setup(lfs_exec_t *ex, uint32_t n, const int32_t *ops, const int64_t *args);
/* Reset everything and run each thread to its first step point. Returns the
 * enabled mask, or -1 if setup itself failed (see lfs_exec_status). */
int64_t lfs_exec_start(lfs_exec_t *ex);
/* Run thread tid for one step. Returns the new enabled mask (0: ended), or
 * -2 if tid was not enabled. */
int64_t lfs_exec_step(lfs_exec_t *ex, int tid);
int64_t lfs_exec_enabled(lfs_exec_t *ex);
int lfs_exec_status(lfs_exec_t *ex);
uint32_t lfs_exec_steps(lfs_exec_t *ex);

uint32_t lfs_exec_event_count(lfs_exec_t *ex);
const lfs_event_t *lfs_exec_events(lfs_exec_t *ex);
uint32_t lfs_exec_violation_count(lfs_exec_t *ex);
const lfs_violation_t *lfs_exec_violations(lfs_exec_t *ex);

/* Snapshot access (valid until the next start/step). */
uint32_t lfs_exec_capacity(lfs_exec_t *ex);
const uint8_t *lfs_exec_slot_states(lfs_exec_t *ex);
const uint32_t *lfs_exec_slot_gens(lfs_exec_t *ex);
const int32_t *lfs_exec_slot_retired_by(lfs_exec_t *ex);
const lfs_word_t *lfs_exec_node_words(lfs_exec_t *ex);
const lfs_word_t *lfs_exec_shared_words(lfs_exec_t *ex);
/* The slot a word refers to under this structure's encoding, or -1. */
int32_t lfs_exec_decode_ref(lfs_exec_t *ex, lfs_word_t word);
/* Thread progress: which op it is in (program index), or -1 when finished. */
int32_t lfs_exec_thread_op(lfs_exec_t *ex, int tid);
/* Pending action of a thread (its next step): event kind, or -1. */
int32_t lfs_exec_thread_pending(lfs_exec_t *ex, int tid);
uint32_t lfs_exec_retired_count(lfs_exec_t *ex, int tid);
/* Add what the execution that ran last did to *total (executions: +1). */
void lfs_exec_add_coverage(lfs_exec_t *ex, lfs_coverage_t *total);

/* ------------------------------------------------------------------ */
/* Native search (search.c): whole executions under `random` or `pct`,  */
/* choosing exactly as the Python policies do for the same seed.        */
/* ------------------------------------------------------------------ */

enum lfs_search_policy { LFS_SEARCH_RANDOM = 0, LFS_SEARCH_PCT = 1 };
#define LFS_SEARCH_MAX_DEPTH 16

typedef struct lfs_search_params {
    int32_t policy;     /* enum lfs_search_policy */
    int32_t nthreads;   /* the execution's thread count */
    int32_t pct_depth;  /* d: d-1 priority change points */
    uint32_t pct_k;     /* estimated steps per execution (change points in 1..k) */
    uint32_t want_kinds;/* bit k: a violation of kind k counts; 0: any violation counts */
} lfs_search_params_t;

typedef struct lfs_search_stats {
    uint64_t executions;
    uint64_t steps_total, steps_min, steps_max; /* steps = scheduling choices */
    uint64_t violating;        /* executions where the engine saw a wanted violation */
    int64_t first_violation;   /* offset from first_seed of the first one, or -1 */
    lfs_coverage_t coverage;   /* over the executions run */
} lfs_search_stats_t;

/* The shared PRNG (splitmix64), exported so tests can compare it with Python's. */
uint64_t lfs_prng_next(uint64_t *state);
uint32_t lfs_prng_below(uint64_t *state, uint32_t n);
int lfs_search_params_valid(const lfs_search_params_t *p);
/* One execution seeded with seed. Writes the choices (when choices is not
 * NULL) and returns how many; -1: bad params; -2: more than max_choices.
 * The execution is left as it ended: events, violations, snapshot. */
int64_t lfs_search_one(lfs_exec_t *ex, const lfs_search_params_t *p, uint64_t seed,
                       uint8_t *choices, uint32_t max_choices);
/* Executions for seeds first_seed .. first_seed+count-1, in order; stops
 * after the first one with a wanted violation (p->want_kinds) when
 * stop_at_violation. -1: bad params. */
int lfs_search_run(lfs_exec_t *ex, const lfs_search_params_t *p, uint64_t first_seed,
                   uint64_t count, int stop_at_violation, lfs_search_stats_t *out);
/* END CDEF */

#endif
