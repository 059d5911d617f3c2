// zlib as Vigil uses it (Debian's zlib1g-dev): gunzip of CloudTrail deliveries.
#ifndef VIGIL_CZLIB_SHIM_H
#define VIGIL_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 is a macro (it passes ZLIB_VERSION and sizeof(z_stream)), which Swift cannot call.
// 16 + MAX_WBITS asks for a gzip header and trailer rather than a raw zlib stream.
static inline int vigil_zlib_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 16 + MAX_WBITS);
}
#endif
