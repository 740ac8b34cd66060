/* cffi declarations of the free-running build (freerun.h), read by build_cffi.py. */
typedef struct lfs_run lfs_run_t;

lfs_run_t *lfs_run_new(const lfs_structure_t *s, int nthreads, uint32_t capacity,
                       const int64_t *options);
void lfs_run_delete(lfs_run_t *r);
void lfs_run_reset(lfs_run_t *r);
int lfs_run_init(lfs_run_t *r);
int lfs_run_call(lfs_run_t *r, int tid, int op, int64_t arg, int64_t *result);
void lfs_run_quiesce(lfs_run_t *r);
uint32_t lfs_run_capacity(lfs_run_t *r);
const uint8_t *lfs_run_slot_states(lfs_run_t *r);
const uint32_t *lfs_run_slot_gens(lfs_run_t *r);
const lfs_word_t *lfs_run_node_words(lfs_run_t *r);
const lfs_word_t *lfs_run_shared_words(lfs_run_t *r);
uint32_t lfs_run_retired_count(lfs_run_t *r, int tid);
int32_t lfs_run_decode_ref(lfs_run_t *r, lfs_word_t word);
