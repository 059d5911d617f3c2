// The libbpf 1.1 API as Vigil uses it (Debian's libbpf-dev).
#ifndef VIGIL_CLIBBPF_SHIM_H
#define VIGIL_CLIBBPF_SHIM_H

#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>

#endif
