// The libseccomp API as Vigil uses it (Debian's libseccomp-dev).
#ifndef VIGIL_CSECCOMP_SHIM_H
#define VIGIL_CSECCOMP_SHIM_H

#include <seccomp.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/memfd.h>

// Swift imports only simple macros. The architecture tokens are built from other macros
// (AUDIT_ARCH_* = EM_* | flags) and SCMP_ACT_ERRNO takes an argument, so neither reaches Swift;
// these helpers hand Swift libseccomp's own values instead of copies that could drift.

/// libseccomp's token for x86_64 (the kernel's AUDIT_ARCH_X86_64).
static inline uint32_t vigil_scmp_arch_x86_64(void) { return SCMP_ARCH_X86_64; }

/// libseccomp's token for aarch64 (the kernel's AUDIT_ARCH_AARCH64).
static inline uint32_t vigil_scmp_arch_aarch64(void) { return SCMP_ARCH_AARCH64; }

/// The action "fail the syscall with errno `error`" (the SCMP_ACT_ERRNO(x) macro).
static inline uint32_t vigil_scmp_act_errno(uint16_t error) { return SCMP_ACT_ERRNO(error); }

// glibc declares memfd_create only under _GNU_SOURCE, which Swift's Glibc module does not define. VigilSeccomp
// exports a compiled filter into an anonymous memory file to measure it: a pipe could fill up and block, and a
// temporary file would need a writable directory. Returns the descriptor, or -1 with errno set.
static inline int vigil_memfd_create(const char *name) {
    return (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC);
}

#endif
