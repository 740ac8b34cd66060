/* code_address.h — whose code an instruction address is in, and its name
 * (stepped build: a crash report says who faulted, and where). */
#ifndef LFS_CODE_ADDRESS_H
#define LFS_CODE_ADDRESS_H

#include <stdint.h>

/* Whether pc lies in this extension's engine, the code compiled from
 * native/engine/ (engine_text.ld gathers it in one range). 0 when the linker
 * did not gather it. Async-signal-safe: two comparisons. */
int lfs_code_in_engine(uintptr_t pc);

/* lfs_describe_code (the report's wording of an address) is declared in
 * engine.h, for the Python driver. */

#endif /* LFS_CODE_ADDRESS_H */
