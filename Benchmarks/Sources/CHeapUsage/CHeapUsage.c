#include "CHeapUsage.h"
#include <malloc.h>

size_t vigil_heap_bytes_in_use(void) {
    return mallinfo2().uordblks;
}
