// zlib as Vigil uses it (Debian's zlib1g-dev): gunzip of CloudTrail deliveries.
#ifndef VIGIL_CZLIB_SHIM_H
#define VIGIL_CZLIB_SHIM_H
#include <zlib.h>
#endif
