// Heap bytes in use, for memory benchmarks: Swift's Glibc module does not export <malloc.h>.
#ifndef VIGIL_CHEAP_USAGE_H
#define VIGIL_CHEAP_USAGE_H
#include <stddef.h>
/// Bytes the allocator has handed out and not had back (glibc mallinfo2's uordblks).
size_t vigil_heap_bytes_in_use(void);
#endif
