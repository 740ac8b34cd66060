/*
 * hostile.c — structures whose one operation, "run", ends or damages the
 * process that runs it in the ordinary ways real code under test does. They
 * exist so the tests can check that a supervised search (stress/search/
 * supervised.py) turns each into a `crash` or `hang` failure with a replay
 * token, carries on, and leaves no process behind — the containment jcstress
 * gets from forked JVMs and AFL from its fork server.
 *
 *   variant       what run() does after one shared load    supervised result
 *   exit0         _exit(0)                                 crash (exit 0)
 *   exit3         exit(3)                                  crash (exit 3)
 *   sigterm       raise(SIGTERM)                           crash (SIGTERM)
 *   alarm         alarm(1)                                 crash (pending alarm)
 *   segvdfl       signal(SIGSEGV, SIG_DFL), then a fault   crash (SIGSEGV)
 *   closestdio    close(1); close(2)                       crash (stdout closed)
 *   smash         memset of 64 KiB over a pool node        crash (heap damaged)
 *   libcfree      libc free() of a pool node               crash (SIGABRT)
 *   fork          fork(); both sides return                crash (a child left)
 *   loop          an endless loop with no primitive        hang
 *   loopinit      the same loop in init                    hang
 *   thread        a pthread of its own calls lfs_load      crash or hang
 *
 * Each does its damage only when the loaded word is 0, which it always is:
 * the compiler cannot prove the damage unreachable. The stepped build runs
 * them on fibers; none of these is something the crash guard can contain.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lfstress.h"
#include "probe.h"

#define HOSTILE_SMASH_BYTES (64 * 1024)

static int hostile_init(void *shared, const lfs_options_t *opts)
{
    (void)opts;
    ((probe_shared_t *)shared)->word = 0;
    return LFS_OK;
}

/* The loop neither steps nor returns; volatile keeps it from being removed. */
static void endless(void)
{
    volatile lfs_word_t spins = 0;
    for (;;)
        spins = spins + 1;
}

static int loopinit_init(void *shared, const lfs_options_t *opts)
{
    hostile_init(shared, opts);
    endless();
    return LFS_OK;
}

static void *thread_body(void *word)
{
    lfs_load(word, LFS_RELAXED); /* not a virtual thread of the execution */
    return NULL;
}

static int hostile_load(void *shared)
{
    return lfs_load(&((probe_shared_t *)shared)->word, LFS_ACQUIRE) == 0;
}

static int exit0_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    if (hostile_load(shared))
        _exit(0);
    return LFS_OK;
}

static int exit3_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    if (hostile_load(shared))
        exit(3);
    return LFS_OK;
}

static int sigterm_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    if (hostile_load(shared))
        raise(SIGTERM);
    return LFS_OK;
}

static int alarm_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    if (hostile_load(shared))
        alarm(1);
    return LFS_OK;
}

static int segvdfl_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    if (hostile_load(shared)) {
        signal(SIGSEGV, SIG_DFL);
        *result = *(volatile lfs_word_t *)(uintptr_t)16;
    }
    return LFS_OK;
}

static int closestdio_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    if (hostile_load(shared)) {
        close(1);
        close(2);
    }
    return LFS_OK;
}

static int smash_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    if (hostile_load(shared)) {
        void *node = lfs_node_alloc();
        memset(node, 0xA5, HOSTILE_SMASH_BYTES);
    }
    return LFS_OK;
}

static int libcfree_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    if (hostile_load(shared))
        free(lfs_node_alloc());
    return LFS_OK;
}

static int fork_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    if (hostile_load(shared))
        *result = (lfs_word_t)fork();
    return LFS_OK;
}

static int loop_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    if (hostile_load(shared))
        endless();
    return LFS_OK;
}

static int loopinit_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    hostile_load(shared);
    return LFS_OK;
}

static int thread_run(void *shared, void *local, lfs_word_t arg, lfs_word_t *result)
{
    if (hostile_load(shared)) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, thread_body, &((probe_shared_t *)shared)->word) == 0)
            pthread_join(thread, NULL);
    }
    return LFS_OK;
}

LFS_TESTONLY_PROBE(exit0, "run() calls _exit(0)", hostile_init);
LFS_TESTONLY_PROBE(exit3, "run() calls exit(3)", hostile_init);
LFS_TESTONLY_PROBE(sigterm, "run() raises SIGTERM", hostile_init);
LFS_TESTONLY_PROBE(alarm, "run() sets alarm(1)", hostile_init);
LFS_TESTONLY_PROBE(segvdfl, "run() restores SIGSEGV's default action, then faults", hostile_init);
LFS_TESTONLY_PROBE(closestdio, "run() closes stdout and stderr", hostile_init);
LFS_TESTONLY_PROBE(smash, "run() writes 64 KiB over a pool node", hostile_init);
LFS_TESTONLY_PROBE(libcfree, "run() hands a pool node to libc free()", hostile_init);
LFS_TESTONLY_PROBE(fork, "run() calls fork()", hostile_init);
LFS_TESTONLY_PROBE(loop, "run() loops forever without a primitive", hostile_init);
LFS_TESTONLY_PROBE(loopinit, "init loops forever", loopinit_init);
LFS_TESTONLY_PROBE(thread, "run() starts a pthread that calls a primitive", hostile_init);
