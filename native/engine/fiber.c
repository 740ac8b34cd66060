/* fiber.c — see fiber.h for the design. */
#define _GNU_SOURCE
#include "fiber.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

int lfs_fiber_create(lfs_fiber_t *f, size_t stack_size)
{
    size_t page = page_size();
    stack_size = (stack_size + page - 1) & ~(page - 1);
    void *mem = mmap(NULL, stack_size + page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
        return -1;
    /* The guard page turns a runaway recursion into SIGSEGV at a known place
     * instead of silently overwriting the neighbouring fiber's stack. */
    if (mprotect(mem, page, PROT_NONE) != 0) {
        munmap(mem, stack_size + page);
        return -1;
    }
    memset(f, 0, sizeof *f);
    f->stack = mem;
    f->stack_size = stack_size;
    return 0;
}

void lfs_fiber_destroy(lfs_fiber_t *f)
{
    if (f->stack)
        munmap(f->stack, f->stack_size + page_size());
    f->stack = NULL;
}

int lfs_fiber_guard_page_holds(const lfs_fiber_t *f, uintptr_t addr)
{
    return f->stack && addr - (uintptr_t)f->stack < page_size();
}

#if LFS_FIBER_ASM

/* lfs_fiber_switch_sp(void **save_sp, void *next_sp): push the callee-saved
 * registers, save rsp, load the other rsp, pop its registers, return into it. */
__asm__(
    ".text\n"
    ".globl lfs_fiber_switch_sp\n"
    ".hidden lfs_fiber_switch_sp\n"
    ".type lfs_fiber_switch_sp,@function\n"
    "lfs_fiber_switch_sp:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".size lfs_fiber_switch_sp,.-lfs_fiber_switch_sp\n"
    /* First entry: r12 = entry function, r13 = its argument. The ABI wants
     * rsp 16-byte aligned at the call (so rsp % 16 == 8 at the callee's
     * first instruction, where the compiler's aligned SSE spills assume it):
     * checked here, once per fiber start, and a misaligned stack stops on
     * ud2 in this function (SIGILL, blamed on lfstress by the crash guard)
     * instead of faulting later in whatever code first spills. */
    ".globl lfs_fiber_trampoline\n"
    ".hidden lfs_fiber_trampoline\n"
    ".type lfs_fiber_trampoline,@function\n"
    "lfs_fiber_trampoline:\n"
    "    testq $15, %rsp\n"
    "    jnz 1f\n"
    "    movq %r13, %rdi\n"
    "    callq *%r12\n"
    "1:  ud2\n"
    ".size lfs_fiber_trampoline,.-lfs_fiber_trampoline\n");

void lfs_fiber_switch_sp(void **save_sp, void *next_sp);
void lfs_fiber_trampoline(void);

void lfs_fiber_prepare(lfs_fiber_t *f, lfs_fiber_entry entry, void *arg)
{
    uintptr_t top = ((uintptr_t)f->stack + page_size() + f->stack_size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)top;
    /* Layout popped by lfs_fiber_switch_sp, lowest address first:
     * r15 r14 r13 r12 rbx rbp, then the return address (the trampoline). Its
     * ret leaves rsp == top, 16-byte aligned: the trampoline then *calls*
     * entry, which starts with rsp % 16 == 8 as the ABI requires. */
    *--sp = (uint64_t)(uintptr_t)lfs_fiber_trampoline;
    *--sp = 0;                          /* rbp */
    *--sp = 0;                          /* rbx */
    *--sp = (uint64_t)(uintptr_t)entry; /* r12 */
    *--sp = (uint64_t)(uintptr_t)arg;   /* r13 */
    *--sp = 0;                          /* r14 */
    *--sp = 0;                          /* r15 */
    f->sp = sp;
}

void lfs_fiber_switch(lfs_fiber_t *from, lfs_fiber_t *to)
{
    lfs_fiber_switch_sp(&from->sp, to->sp);
}

#else /* ucontext fallback */

#include <stdlib.h>

static void ucontext_entry(unsigned hi, unsigned lo, unsigned ahi, unsigned alo)
{
    lfs_fiber_entry entry = (lfs_fiber_entry)(((uintptr_t)hi << 32) | lo);
    void *arg = (void *)(((uintptr_t)ahi << 32) | alo);
    entry(arg);
    abort();
}

void lfs_fiber_prepare(lfs_fiber_t *f, lfs_fiber_entry entry, void *arg)
{
    getcontext(&f->ctx);
    f->ctx.uc_stack.ss_sp = (char *)f->stack + page_size();
    f->ctx.uc_stack.ss_size = f->stack_size;
    f->ctx.uc_link = NULL;
    uintptr_t e = (uintptr_t)entry, a = (uintptr_t)arg;
    makecontext(&f->ctx, (void (*)(void))ucontext_entry, 4, (unsigned)(e >> 32),
                (unsigned)e, (unsigned)(a >> 32), (unsigned)a);
}

void lfs_fiber_switch(lfs_fiber_t *from, lfs_fiber_t *to)
{
    swapcontext(&from->ctx, &to->ctx);
}

#endif
