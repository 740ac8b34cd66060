/*
 * code_address.c — whose code an instruction address is in, and its name.
 *
 * A crash report blames the engine when the faulting instruction is lfstress's
 * own (a bug in lfstress, not in the user's pointers) and otherwise names the
 * function of the code under test that faulted. Two questions, two answers:
 *
 *   whose: the engine's code is one range of the extension, bounded by
 *          symbols the linker script engine_text.ld defines. Comparing with
 *          them is safe inside the signal handler, where the answer is taken.
 *   name:  dladdr() finds the object and its load address, but only exported
 *          symbols, and a structure's operations are static functions. So,
 *          outside the handler, the object's own symbol table (.symtab, which
 *          an unstripped extension keeps; else .dynsym) is searched for the
 *          function whose [value, value + size) holds the address. Without
 *          one, the report gives object+offset, which addr2line -e takes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "code_address.h"
#include "engine.h"

/* Weak: a linker that ignored engine_text.ld leaves them null. */
extern const char lfs_engine_text_start[] __attribute__((weak, visibility("hidden")));
extern const char lfs_engine_text_end[] __attribute__((weak, visibility("hidden")));

int lfs_code_in_engine(uintptr_t pc)
{
    uintptr_t start = (uintptr_t)lfs_engine_text_start, end = (uintptr_t)lfs_engine_text_end;
    return start != 0 && start <= pc && pc < end;
}

/* The function of an ELF64 file's symbol table (.symtab, else .dynsym) that
 * holds the link-time address vaddr: its name and start, or NULL. The name
 * points into map. */
static const char *function_at(const unsigned char *map, size_t size, uint64_t vaddr,
                               uint64_t *start)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)map;
    if (size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
        eh->e_shoff > size || (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum)
        return NULL;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(map + eh->e_shoff);
    for (int wanted = SHT_SYMTAB; wanted; wanted = wanted == SHT_SYMTAB ? SHT_DYNSYM : 0) {
        for (unsigned i = 0; i < eh->e_shnum; i++) {
            if (sh[i].sh_type != (Elf64_Word)wanted || sh[i].sh_link >= eh->e_shnum)
                continue;
            const Elf64_Shdr *strings = &sh[sh[i].sh_link];
            if (sh[i].sh_offset > size || sh[i].sh_size > size - sh[i].sh_offset ||
                strings->sh_offset > size || strings->sh_size > size - strings->sh_offset)
                continue;
            const Elf64_Sym *sym = (const Elf64_Sym *)(map + sh[i].sh_offset);
            size_t n = sh[i].sh_size / sizeof *sym;
            for (size_t k = 0; k < n; k++) {
                if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC || sym[k].st_name >= strings->sh_size ||
                    vaddr < sym[k].st_value || vaddr - sym[k].st_value >= sym[k].st_size)
                    continue;
                const char *name = (const char *)map + strings->sh_offset + sym[k].st_name;
                if (!memchr(name, 0, strings->sh_size - sym[k].st_name))
                    continue;
                *start = sym[k].st_value;
                return name;
            }
        }
    }
    return NULL;
}

size_t lfs_describe_code(uint64_t pc, char *out, size_t size)
{
    Dl_info info;
    if (size == 0 || dladdr((void *)(uintptr_t)pc, &info) == 0 || !info.dli_fname)
        return 0;
    const char *object = strrchr(info.dli_fname, '/') ? strrchr(info.dli_fname, '/') + 1
                                                       : info.dli_fname;
    uint64_t offset = pc - (uint64_t)(uintptr_t)info.dli_fbase;
    int written = -1;
    int fd = open(info.dli_fname, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0) {
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED) {
            uint64_t start;
            const char *name = function_at(map, (size_t)st.st_size, offset, &start);
            if (name)
                written = snprintf(out, size, "%s+%#llx in %s", name,
                                   (unsigned long long)(offset - start), object);
            munmap(map, (size_t)st.st_size);
        }
    }
    if (fd >= 0)
        close(fd);
    if (written < 0)
        written = snprintf(out, size, "%s+%#llx", object, (unsigned long long)offset);
    return written < 0 ? 0 : ((size_t)written < size ? (size_t)written : size - 1);
}
