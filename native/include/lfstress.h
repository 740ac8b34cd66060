/*
 * lfstress.h — the public API for authors of lock-free structures.
 *
 * A structure written against this header runs unchanged in two builds:
 *
 *   stepped       (LFS_BUILD_STEPPED)  every primitive below is a *step point*:
 *                 the calling virtual thread (a fiber) records an event and
 *                 yields to the lfstress scheduler, which decides who runs the
 *                 next shared-memory step. Exactly one fiber runs at a time, so
 *                 an execution is a deterministic function of the scheduler's
 *                 choices.
 *   free-running  (LFS_BUILD_FREE)     every primitive is the C11/GCC atomic
 *                 with the memory order given, inlined; threads are pthreads.
 *
 * Rules a structure follows (the built-in ones follow nothing else):
 *   1. Every shared word is an lfs_word_t, touched only through lfs_load,
 *      lfs_store, lfs_cas, lfs_exchange, lfs_fetch_add (plus lfs_init_store
 *      for a node this thread allocated and has not published yet).
 *   2. Every node comes from the node pool: lfs_node_alloc / lfs_node_free,
 *      or lfs_node_retire followed later by lfs_node_free (deferred
 *      reclamation). Nodes are lfs_node_size() bytes of lfs_word_t fields.
 *   3. A node reference stored in a shared word is either a plain pointer
 *      (LFS_REF_POINTER) or a pool index with a modification tag
 *      (LFS_REF_INDEX: low 32 bits = index + 1, 0 = null; high 32 bits =
 *      tag). The structure says which in its lfs_structure_t.
 *   4. The structure describes its roots (named words in its shared state)
 *      and its node fields, marking which hold node references ("links"), so
 *      the checker can walk the structure after each execution.
 */
#ifndef LFSTRESS_H
#define LFSTRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if !defined(LFS_BUILD_STEPPED) && !defined(LFS_BUILD_FREE)
#error "define LFS_BUILD_STEPPED or LFS_BUILD_FREE (the lfstress build does)"
#endif

/* BEGIN CDEF: limits, words, results (read by native/build_cffi.py) */
#define LFS_MAX_THREADS 16      /* virtual threads per execution / pthreads per run */
#define LFS_MAX_FIELDS 8        /* words per node */
#define LFS_MAX_ROOTS 16        /* named root entries per structure */
#define LFS_MAX_OPS 8           /* operations per structure */
#define LFS_MAX_OPTIONS 8       /* structure-specific options */

typedef uint64_t lfs_word_t;

/* Memory orders, with C11 meaning. The stepped build is sequentially
 * consistent whatever the order (it interleaves, it does not reorder); the
 * order is recorded in the trace and used as written in the free build. */
typedef enum lfs_order {
    LFS_RELAXED = 0,
    LFS_ACQUIRE = 1,
    LFS_RELEASE = 2,
    LFS_ACQ_REL = 3,
    LFS_SEQ_CST = 4,
} lfs_order_t;

/* Result of an operation. */
enum lfs_status {
    LFS_OK = 1,      /* done; *result holds a value if the op returns one */
    LFS_EMPTY = 0,   /* nothing to return (dequeue/pop on an empty structure) */
    LFS_NOMEM = -1,  /* the node pool was exhausted (free-running build only) */
};
/* END CDEF */

_Static_assert(sizeof(lfs_word_t) == sizeof(void *),
               "lfstress needs 64-bit pointers: a node reference is one word");

/* ------------------------------------------------------------------ */
/* Node references                                                     */
/* ------------------------------------------------------------------ */

/* BEGIN CDEF: reference encodings */
enum lfs_ref_encoding {
    LFS_REF_POINTER = 0, /* a shared word holds the node's address, 0 = null */
    LFS_REF_INDEX = 1,   /* low 32 bits: slot index + 1 (0 = null); high 32: tag */
};
/* END CDEF */

#define LFS_REF_NULL ((lfs_word_t)0)

static inline lfs_word_t lfs_ref_pack(uint32_t slot_plus_one, uint32_t tag)
{
    return ((lfs_word_t)tag << 32) | (lfs_word_t)slot_plus_one;
}
static inline uint32_t lfs_ref_slot_plus_one(lfs_word_t ref) { return (uint32_t)ref; }
static inline uint32_t lfs_ref_tag(lfs_word_t ref) { return (uint32_t)(ref >> 32); }

/* ------------------------------------------------------------------ */
/* Node pool                                                           */
/* ------------------------------------------------------------------ */

/* A LIVE node, or NULL when the pool is exhausted. In the stepped build
 * exhaustion ends the execution (violation "pool-exhausted") and this call
 * does not return. The node's words are whatever the previous incarnation left
 * (type-stable memory): initialise them with lfs_init_store. */
void *lfs_node_alloc(void);
/* LIVE or RETIRED -> FREE. The slot may be handed out again at once. A
 * retired node is also taken off its thread's retired list. */
void lfs_node_free(void *node);
/* LIVE -> RETIRED: unlinked, waiting for a reclamation scheme to free it. The
 * node joins the calling thread's retired list (kept by the pool, outside node
 * memory) with a stamp of the scheme's choosing (an epoch, a time, 0). */
void lfs_node_retire(void *node, lfs_word_t stamp);
/* Walk the calling thread's retired list, oldest first, and free every node
 * for which still_needed() returns false. Returns how many were freed. The
 * callback must not use the primitives nor alloc, free or retire: collect
 * what it needs first (a hazard-pointer scan reads every hazard, then
 * reclaims against that private copy). */
typedef bool (*lfs_still_needed_fn)(void *node, lfs_word_t stamp, void *ctx);
uint32_t lfs_reclaim(lfs_still_needed_fn still_needed, void *ctx);
/* The same, but stop at the first node still needed: for schemes whose
 * stamps grow along the list (a thread retires in order, and an epoch only
 * grows), where everything after that node is needed too. Costs one visit
 * per node freed plus one, not the whole list. */
uint32_t lfs_reclaim_oldest(lfs_still_needed_fn still_needed, void *ctx);
/* Length of the calling thread's retired list. */
uint32_t lfs_retired_count(void);
/* Slot index of a pool node, and the node at a slot index. */
uint32_t lfs_node_index(const void *node);
void *lfs_node_at(uint32_t index);
/* Bytes per node (node_words * 8). */
size_t lfs_node_size(void);

/* ------------------------------------------------------------------ */
/* Threads and options                                                 */
/* ------------------------------------------------------------------ */

int lfs_thread_id(void);     /* 0 .. lfs_thread_count()-1 */
int lfs_thread_count(void);

/* BEGIN CDEF: options */
typedef struct lfs_options lfs_options_t;
/* END CDEF */
/* The value of a structure option (declared in lfs_structure_t.options). */
int64_t lfs_option(const lfs_options_t *opts, const char *name);

/* ------------------------------------------------------------------ */
/* Instrumented primitives                                             */
/* ------------------------------------------------------------------ */

#ifdef LFS_BUILD_FREE

#define LFS__MO(o) ((o) == LFS_RELAXED ? __ATOMIC_RELAXED : \
                    (o) == LFS_ACQUIRE ? __ATOMIC_ACQUIRE : \
                    (o) == LFS_RELEASE ? __ATOMIC_RELEASE : \
                    (o) == LFS_ACQ_REL ? __ATOMIC_ACQ_REL : __ATOMIC_SEQ_CST)
/* C11 forbids release/acq_rel on a pure load and acquire on a pure store;
 * map them to the nearest legal order rather than invoking UB. */
#define LFS__LOAD_MO(o) ((o) == LFS_RELEASE ? __ATOMIC_RELAXED : \
                         (o) == LFS_ACQ_REL ? __ATOMIC_ACQUIRE : LFS__MO(o))
#define LFS__STORE_MO(o) ((o) == LFS_ACQUIRE ? __ATOMIC_RELAXED : \
                          (o) == LFS_ACQ_REL ? __ATOMIC_RELEASE : LFS__MO(o))
#define LFS__FAIL_MO(o) ((o) == LFS_RELEASE ? __ATOMIC_RELAXED : \
                         (o) == LFS_ACQ_REL ? __ATOMIC_ACQUIRE : LFS__MO(o))

static inline lfs_word_t lfs_load(lfs_word_t *addr, lfs_order_t mo)
{
    return __atomic_load_n(addr, LFS__LOAD_MO(mo));
}
static inline void lfs_store(lfs_word_t *addr, lfs_word_t value, lfs_order_t mo)
{
    __atomic_store_n(addr, value, LFS__STORE_MO(mo));
}
static inline void lfs_init_store(lfs_word_t *addr, lfs_word_t value)
{
    __atomic_store_n(addr, value, __ATOMIC_RELAXED);
}
/* Strong CAS. On failure *expected receives the current value. */
static inline bool lfs_cas(lfs_word_t *addr, lfs_word_t *expected, lfs_word_t desired,
                           lfs_order_t mo)
{
    return __atomic_compare_exchange_n(addr, expected, desired, false, LFS__MO(mo),
                                       LFS__FAIL_MO(mo));
}
static inline lfs_word_t lfs_exchange(lfs_word_t *addr, lfs_word_t value, lfs_order_t mo)
{
    return __atomic_exchange_n(addr, value, LFS__MO(mo));
}
static inline lfs_word_t lfs_fetch_add(lfs_word_t *addr, lfs_word_t delta, lfs_order_t mo)
{
    return __atomic_fetch_add(addr, delta, LFS__MO(mo));
}
static inline void lfs_fence(lfs_order_t mo) { __atomic_thread_fence(LFS__MO(mo)); }
static inline void lfs_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
/* Block while *addr == value (the way to wait for a lock). */
static inline void lfs_wait_while(lfs_word_t *addr, lfs_word_t value)
{
    while (__atomic_load_n(addr, __ATOMIC_ACQUIRE) == value)
        lfs_pause();
}

#else /* LFS_BUILD_STEPPED: each call records an event and yields */

lfs_word_t lfs_load(lfs_word_t *addr, lfs_order_t mo);
void lfs_store(lfs_word_t *addr, lfs_word_t value, lfs_order_t mo);
/* Not a step point: a node this thread has just allocated is private. */
void lfs_init_store(lfs_word_t *addr, lfs_word_t value);
bool lfs_cas(lfs_word_t *addr, lfs_word_t *expected, lfs_word_t desired, lfs_order_t mo);
lfs_word_t lfs_exchange(lfs_word_t *addr, lfs_word_t value, lfs_order_t mo);
lfs_word_t lfs_fetch_add(lfs_word_t *addr, lfs_word_t delta, lfs_order_t mo);
void lfs_fence(lfs_order_t mo);
/* A spin-loop hint: in the stepped build, a step that touches nothing. */
void lfs_pause(void);
/* The thread is not enabled while *addr == value; the scheduler never picks
 * it, and an execution where every unfinished thread waits is a deadlock. */
void lfs_wait_while(lfs_word_t *addr, lfs_word_t value);

#endif

/* ------------------------------------------------------------------ */
/* The structure description                                           */
/* ------------------------------------------------------------------ */

/*
 * Roles. Besides its shape, a structure declares what its parts are *for*,
 * so that nothing in lfstress guesses from names:
 *
 *   operations  which one inserts an element and which removes one
 *               (lfs_op_desc_t.role): the value checks count them, the
 *               linearizability check feeds them to the sequential spec,
 *               program generators draw them, setup inserts the initial
 *               contents with the insert operation;
 *   roots       where the chain of elements starts and ends
 *               (lfs_root_desc_t.role): the queue's head and tail, the
 *               stack's top; which roots belong to the reclamation scheme;
 *   fields      which node word holds the element's value and which link
 *               the chain follows (lfs_field_desc_t.role);
 *   the chain   whether the entry root points at a sentinel node (MS96's
 *               dummy) or at the first element (lfs_structure_t.chain_start);
 *   reclamation the scheme and its hooks (lfs_structure_t.reclaim): what
 *               bound on garbage it promises, and how a benchmark stalls a
 *               thread inside it.
 *
 * Every role field is optional: zero means "not declared", and an
 * undeclared role takes its default (lfs_structure_roles in common.c is the
 * one place that applies these rules):
 *
 *   insert op    the first undeclared operation that takes an argument
 *   remove op    the first undeclared operation that returns a value and
 *                takes no argument
 *   entry root   the first undeclared LFS_LINK root of one word
 *   exit root    for spec "queue" only: the next undeclared LFS_LINK root
 *                of one word after the entry
 *   value field  the first undeclared LFS_DATA field
 *   next field   the first undeclared LFS_LINK field
 *   chain start  a sentinel for spec "queue", the first element otherwise
 *   reclamation  LFS_RECLAIM_NONE, no hooks
 *
 * so descriptors written before roles existed keep working unchanged.
 */

/* BEGIN CDEF: the structure description */
/* What a word holds. */
enum lfs_word_kind {
    LFS_DATA = 0,    /* a value, a counter, a lock, an epoch */
    LFS_LINK = 1,    /* a node reference the structure is made of: the checker
                        walks it, and a node reachable only through links that
                        start at no root is leaked */
    LFS_HAZARD = 2,  /* a node reference that protects, not owns (a hazard
                        pointer): shown as a node, never walked */
};

/* What a root is for. */
enum lfs_root_role {
    LFS_ROOT_UNDECLARED = 0, /* the default rule above */
    LFS_ROOT_ENTRY = 1,      /* where the chain of elements starts: head, top */
    LFS_ROOT_EXIT = 2,       /* where it ends, and must be reached from the
                                entry: a queue's tail */
    LFS_ROOT_RECLAIM = 3,    /* the reclamation scheme's state: hazard slots,
                                the epoch and its announcements */
    LFS_ROOT_OTHER = 4,      /* anything else: a lock, a counter, a link the
                                checker walks but that is neither end */
};

/* A word (or array of words) in the structure's shared state. */
typedef struct lfs_root_desc {
    const char *name;   /* "head", "tail", "hazard" ... */
    size_t offset;      /* byte offset in the shared state, a multiple of 8 */
    uint32_t count;     /* 1, or the length of an array of words */
    uint8_t kind;       /* enum lfs_word_kind */
    uint8_t role;       /* enum lfs_root_role */
} lfs_root_desc_t;

/* What a node word is for. */
enum lfs_field_role {
    LFS_FIELD_UNDECLARED = 0, /* the default rule above */
    LFS_FIELD_VALUE = 1,      /* the element's value (a LFS_DATA word) */
    LFS_FIELD_NEXT = 2,       /* the link the chain of elements follows */
    LFS_FIELD_OTHER = 3,
};

/* A word of a node. */
typedef struct lfs_field_desc {
    const char *name;   /* "next", "value" */
    uint8_t kind;       /* enum lfs_word_kind */
    uint8_t role;       /* enum lfs_field_role */
} lfs_field_desc_t;

/* What an operation does to the contents, as the sequential spec sees it. */
enum lfs_op_role {
    LFS_OP_UNDECLARED = 0, /* the default rule above */
    LFS_OP_INSERT = 1,     /* adds its argument: enqueue(v), push(v); returns
                              LFS_OK (or LFS_NOMEM) */
    LFS_OP_REMOVE = 2,     /* takes an element out: returns LFS_OK with the
                              element in *result, or LFS_EMPTY */
    LFS_OP_OTHER = 3,      /* neither: never counted by the value checks,
                              never drawn by program generators */
};

/* An operation a thread program may call. */
typedef int (*lfs_op_fn)(void *shared, void *local, lfs_word_t arg, lfs_word_t *result);
typedef struct lfs_op_desc {
    const char *name;   /* "enqueue", "dequeue" */
    bool takes_arg;     /* enqueue(v) */
    bool returns_value; /* dequeue() -> v, or LFS_EMPTY */
    lfs_op_fn fn;
    uint8_t role;       /* enum lfs_op_role */
} lfs_op_desc_t;

typedef struct lfs_option_desc {
    const char *name;
    int64_t min, max, dflt;
    const char *help;
} lfs_option_desc_t;

/* How the variant treats nodes it has given back: decides whether a stale read
 * is benign. MS96 with tags relies on type-stable memory and may read a freed
 * node's next (its CAS then fails); hazard pointers and epochs promise no
 * access to a freed node at all. */
enum lfs_memory_promise {
    LFS_TYPE_STABLE = 0,  /* reading a freed node is benign */
    LFS_NO_STALE_ACCESS = 1,  /* any access to a freed node is a bug */
};

/* What the entry root points at. */
enum lfs_chain_start {
    LFS_CHAIN_DEFAULT = 0,  /* the default rule above */
    LFS_CHAIN_SENTINEL = 1, /* a node that holds no element (MS96's dummy) */
    LFS_CHAIN_ELEMENT = 2,  /* the first element (the stack's top) */
};

/* The reclamation scheme, and what it promises about retired-but-unreclaimed
 * nodes (the garbage check holds it to that). */
enum lfs_reclaim_scheme {
    LFS_RECLAIM_NONE = 0,    /* never retires: frees at once, or never */
    LFS_RECLAIM_HAZARD = 1,  /* hazard pointers (Michael 2004): at most
                                max(R, H + 1) per thread, R = the value of
                                threshold_option, H = hazards in use */
    LFS_RECLAIM_EPOCH = 2,   /* epochs (Fraser 2004): no bound while a thread
                                is stalled in a critical section */
    LFS_RECLAIM_OTHER = 3,   /* retires nodes, promises no bound */
};

typedef struct lfs_reclaim_desc {
    int scheme;                    /* enum lfs_reclaim_scheme */
    const char *threshold_option;  /* the option holding the scheme's
                                      threshold (hazard: R), or NULL */
    /* Stalled-thread runs (free-running build): called on the thread that
     * stalls, after its thread_init, to take and keep the protection an
     * operation holds (a hazard on the entry node, an epoch critical
     * section); 0, or -1 if there is no such thing. unstall gives it back.
     * NULL: the structure cannot stall. */
    int (*stall)(void *shared, void *local);
    void (*unstall)(void *shared, void *local);
    /* Nodes retired but not yet reclaimed (racy: read while threads run).
     * NULL: the pool's retired lists, which count every lfs_node_retire. */
    uint64_t (*unreclaimed)(void *shared);
} lfs_reclaim_desc_t;

typedef struct lfs_structure {
    const char *family;          /* "msqueue" */
    const char *variant;         /* "naive" */
    const char *summary;         /* one line for `lfstress list` */
    const char *spec;            /* sequential specification: "queue" | "stack" | "none" */
    int ref_encoding;            /* enum lfs_ref_encoding */
    int memory_promise;          /* enum lfs_memory_promise */
    size_t shared_size;          /* bytes of shared state (roots live here) */
    size_t local_size;           /* bytes of per-thread private state */
    uint32_t node_words;         /* words per node (<= LFS_MAX_FIELDS) */
    lfs_field_desc_t fields[LFS_MAX_FIELDS];
    uint32_t n_roots;
    lfs_root_desc_t roots[LFS_MAX_ROOTS];
    uint32_t n_ops;
    lfs_op_desc_t ops[LFS_MAX_OPS];
    uint32_t n_options;
    lfs_option_desc_t options[LFS_MAX_OPTIONS];
    /* Set up an empty structure. Runs before any thread, not stepped. */
    int (*init)(void *shared, const lfs_options_t *opts);
    /* Set up one thread's private state. Not stepped. May be NULL. */
    void (*thread_init)(void *shared, void *local, const lfs_options_t *opts);
    int chain_start;             /* enum lfs_chain_start */
    lfs_reclaim_desc_t reclaim;
} lfs_structure_t;
/* END CDEF */

/* ------------------------------------------------------------------ */
/* Exporting structures                                                */
/* ------------------------------------------------------------------ */

/* Once per build, at file scope: the structures lfstress may run, in
 * `lfstress list` order. A structure file of your own ends with
 *     LFS_EXPORT_STRUCTURES(&my_stack_naive, &my_stack_tagged);
 * and lfstress compiles it into both builds (`lfstress build FILE.c`, or a
 * scenario's source = "FILE.c"). The built-in registry, builtin.c, is this
 * same line. */
#define LFS_EXPORT_STRUCTURES(...)                                            \
    const lfs_structure_t *const lfs_exported_structures[] = { __VA_ARGS__ }; \
    const unsigned lfs_exported_structure_count =                             \
        sizeof lfs_exported_structures / sizeof lfs_exported_structures[0]
extern const lfs_structure_t *const lfs_exported_structures[];
extern const unsigned lfs_exported_structure_count;

/* Values of the "cleanup" option the built-in queues declare. */
#define LFS_CLEANUP_IMMEDIATE 0
#define LFS_CLEANUP_DEFERRED 1

#endif /* LFSTRESS_H */
