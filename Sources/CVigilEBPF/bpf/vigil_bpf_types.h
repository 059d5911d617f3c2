// The kernel's fixed-width integer types, for Vigil's BPF programs only (the BPFCompiler plugin puts this
// folder on their include path; it is not part of the Swift module).
//
// <linux/types.h> includes <asm/types.h>, which lives in the multiarch include directory a BPF target does
// not search. Its guard is set and its types are declared here instead, so kernel UAPI headers such as
// <linux/bpf.h> can still be included after this one.
#ifndef VIGIL_BPF_TYPES_H
#define VIGIL_BPF_TYPES_H

#define _LINUX_TYPES_H
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u64 __be64;
typedef __u16 __le16;
typedef __u32 __le32;
typedef __u64 __le64;
typedef __u16 __sum16;
typedef __u32 __wsum;
#define __aligned_u64 __u64 __attribute__((aligned(8)))

#endif
