// The few kernel types the sensor's programs read, declared by hand instead of a multi-megabyte
// vmlinux.h. `preserve_access_index` makes every field access a CO-RE relocation: libbpf rewrites the
// offsets at load time against the running kernel's BTF, so only the fields named here must exist there,
// wherever they sit.
#ifndef VIGIL_KERNEL_TYPES_H
#define VIGIL_KERNEL_TYPES_H

#include "vigil_bpf_types.h"

#define CORE __attribute__((preserve_access_index))

struct pt_regs {
    unsigned long r10, r9, r8, dx, si, di, ax, orig_ax;
} CORE;

struct bpf_raw_tracepoint_args {
    __u64 args[0];
};

struct qstr {
    __u32 hash;
    __u32 len;
    const unsigned char *name;
} CORE;

struct dentry {
    struct dentry *d_parent;
    struct qstr d_name;
} CORE;

struct vfsmount {
    struct dentry *mnt_root;
} CORE;

struct mount {
    struct mount *mnt_parent;
    struct dentry *mnt_mountpoint;
    struct vfsmount mnt;
} CORE;

struct path {
    struct vfsmount *mnt;
    struct dentry *dentry;
} CORE;

struct super_block {
    unsigned long s_magic;
} CORE;

struct inode {
    unsigned short i_mode;
    unsigned long i_ino;
    struct super_block *i_sb;
    void *i_private;
} CORE;

struct proc_ns_operations {
    const char *name;
} CORE;

struct file {
    struct path f_path;
    struct inode *f_inode;
    void *private_data;
} CORE;

struct fdtable {
    unsigned int max_fds;
    struct file **fd;
} CORE;

struct files_struct {
    struct fdtable *fdt;
} CORE;

struct fs_struct {
    struct path pwd;
} CORE;

struct ns_common {
    unsigned int inum;
    struct proc_ns_operations *ops;
} CORE;

struct mnt_namespace {
    struct ns_common ns;
} CORE;

struct nsproxy {
    struct mnt_namespace *mnt_ns;
} CORE;

typedef struct {
    __u32 val;
} kuid_t;

typedef struct {
    __u32 val;
} kgid_t;

struct cred {
    kuid_t uid;
    kgid_t gid;
    kuid_t euid;
} CORE;

struct mm_struct {
    unsigned long arg_start;
    unsigned long arg_end;
} CORE;

struct task_struct {
    unsigned int flags;
    int exit_code;
    int pid;
    int tgid;
    __u64 start_boottime;
    struct task_struct *real_parent;
    struct task_struct *group_leader;
    struct mm_struct *mm;
    const struct cred *cred;
    struct fs_struct *fs;
    struct files_struct *files;
    struct nsproxy *nsproxy;
} CORE;

struct linux_binprm {
    struct file *file;
    const char *filename;
} CORE;

struct in6_addr {
    __u8 s6_addr[16];
};

struct sock_common {
    __be32 skc_daddr;
    __be32 skc_rcv_saddr;
    __be16 skc_dport;
    __u16 skc_num;
    unsigned short skc_family;
    struct in6_addr skc_v6_daddr;
    struct in6_addr skc_v6_rcv_saddr;
} CORE;

struct sock {
    struct sock_common __sk_common;
    __u16 sk_protocol;
    __u16 sk_type;
} CORE;

struct socket {
    short type;
    struct sock *sk;
} CORE;

#endif
