// The libseccomp API as Vigil uses it (Debian's libseccomp-dev).
#ifndef VIGIL_CSECCOMP_SHIM_H
#define VIGIL_CSECCOMP_SHIM_H
#include <seccomp.h>
#endif
