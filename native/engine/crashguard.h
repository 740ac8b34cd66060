/* crashguard.h — synchronous fatal signals raised by the code under test,
 * turned into a violation of the execution that raised them (stepped build). */
#ifndef LFS_CRASHGUARD_H
#define LFS_CRASHGUARD_H

#include <stdint.h>

/* Where a fatal signal was taken, from its siginfo and ucontext. */
typedef struct lfs_crash_site {
    int signal;
    uintptr_t pc;      /* the faulting instruction; 0 for a signal sent by
                          abort()/raise()/kill(), which fault nowhere */
    uintptr_t address; /* SIGSEGV/SIGBUS: the address the access was to */
    int in_engine;     /* pc lies in lfstress's engine (native/engine/) */
} lfs_crash_site_t;

/* Called on the thread that took the signal. It must not return when the
 * signal came from code it can contain (it switches away for good); when it
 * returns, the signal is handed to whatever handled it before. */
typedef void (*lfs_crash_hook_t)(const lfs_crash_site_t *site);

/* Install the guard (once per process) and an alternate signal stack for the
 * calling thread (once per thread, unless it has one). Cheap after the first
 * call on a thread: call it before running code under test. */
void lfs_crashguard_arm(lfs_crash_hook_t hook);

#endif /* LFS_CRASHGUARD_H */
