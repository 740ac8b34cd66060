/* cffi declarations of the peers module (peers.c), read by stress/bench/peers.py. */
typedef struct lfs_bench_target lfs_bench_target_t;
const char *lfs_peer_name(int i);
lfs_bench_target_t *lfs_peer_new(const char *name, uint32_t capacity, uint32_t hp_threshold);
void lfs_peer_delete(lfs_bench_target_t *t);
