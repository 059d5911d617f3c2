// The records the eBPF sensor's kernel programs write to the ring buffer, shared by the BPF C sources
// (Sources/VigilEBPF/BPF) and the Swift decoder, so the two cannot drift apart.
//
// Every record is a `struct vigil_bpf_record` cut after its last used string slot: `size` says how many
// bytes were written. Strings sit in fixed slots of VIGIL_STRING_MAX bytes; `string_lengths[i]` counts
// slot i's bytes including its NUL (0 = absent).
#ifndef VIGIL_BPF_EVENTS_H
#define VIGIL_BPF_EVENTS_H

typedef unsigned char vigil_u8;
typedef unsigned short vigil_u16;
typedef unsigned int vigil_u32;
typedef unsigned long long vigil_u64;
typedef int vigil_s32;
typedef long long vigil_s64;

/// The bound of one string: a path, the arguments of an exec, a name (bytes, with the NUL).
#define VIGIL_STRING_MAX 1024
/// String slots per record.
#define VIGIL_STRING_SLOTS 4
/// Directory levels a kernel path walk follows before it marks the path truncated.
#define VIGIL_PATH_DEPTH 40
/// Bytes of a DNS query payload copied for user space to parse.
#define VIGIL_DNS_PAYLOAD_MAX 512
/// Syscall numbers the usage map records (bits per workload).
#define VIGIL_SYSCALL_MAX 512

/// Record kinds: the raw values of VigilCore's EventKind, so both sides name kinds the same way.
enum vigil_bpf_kind {
    VIGIL_KIND_EXEC = 1,
    VIGIL_KIND_EXIT = 2,
    VIGIL_KIND_FORK = 3,
    VIGIL_KIND_OPEN = 10,
    VIGIL_KIND_UNLINK = 12,
    VIGIL_KIND_RENAME = 13,
    VIGIL_KIND_LINK = 14,
    VIGIL_KIND_SYMLINK = 15,
    VIGIL_KIND_CHMOD = 16,
    VIGIL_KIND_CONNECT = 20,
    VIGIL_KIND_ACCEPT = 21,
    VIGIL_KIND_BIND = 22,
    VIGIL_KIND_LISTEN = 23,
    VIGIL_KIND_DNS = 24,
    VIGIL_KIND_SOCKET = 25,
    VIGIL_KIND_SYSCALL = 30,
    VIGIL_KIND_PTRACE = 32,
    VIGIL_KIND_MODULE = 33,
    VIGIL_KIND_MOUNT = 34,
    VIGIL_KIND_UNSHARE = 35,
    VIGIL_KIND_SETNS = 36,
    VIGIL_KIND_MEMFD = 37,
    VIGIL_KIND_BPF = 38,
    VIGIL_KIND_CREDENTIALS = 39,
    /// One past the largest kind: the size of the drop-counter array.
    VIGIL_KIND_COUNT = 40,
};

/// Record flags.
enum vigil_bpf_flag {
    /// Records were dropped on this CPU (ring buffer full) since the previous record it wrote.
    VIGIL_FLAG_LOST_BEFORE = 1,
    /// A string was cut at VIGIL_STRING_MAX or a path walk at VIGIL_PATH_DEPTH.
    VIGIL_FLAG_TRUNCATED = 2,
};

/// Who did it: the thread, its process and parent, credentials, cgroup and mount namespace.
struct vigil_bpf_header {
    /// When, in nanoseconds since boot (CLOCK_BOOTTIME).
    vigil_u64 time;
    /// The process's start time (its thread-group leader's start_boottime), in ns since boot.
    vigil_u64 start_time;
    /// The parent process's start time, in ns since boot.
    vigil_u64 parent_start_time;
    /// The cgroup v2 id (the cgroup directory's inode number).
    vigil_u64 cgroup_id;
    /// The process id (thread-group id) and the thread id.
    vigil_u32 pid;
    vigil_u32 tid;
    /// The parent's process id.
    vigil_u32 ppid;
    /// Real user and group, and effective user.
    vigil_u32 uid;
    vigil_u32 gid;
    vigil_u32 euid;
    /// The mount namespace's inode number.
    vigil_u32 mount_namespace;
    /// A vigil_bpf_kind.
    vigil_u16 kind;
    /// vigil_bpf_flag bits.
    vigil_u16 flags;
    /// The thread's command name.
    char comm[16];
};

/// The syscall behind a record and its result: arguments as the caller passed them.
struct vigil_bpf_syscall {
    /// The x86_64 syscall number (or -1 for scheduler events).
    vigil_s32 number;
    /// The exit code of a process exit (the wait status), else 0.
    vigil_s32 exit_code;
    /// The return value: a descriptor, 0, or -errno.
    vigil_s64 result;
    vigil_u64 arguments[6];
    /// Values the program read from the caller's memory: openat2's flags and mode; bpf's program or map
    /// type; capset's new effective capabilities (both words).
    vigil_u64 details[2];
};

/// A socket's addresses as the kernel holds them (network and DNS records).
struct vigil_bpf_socket {
    /// IPv4 addresses use the first 4 bytes; network byte order.
    vigil_u8 local_address[16];
    vigil_u8 remote_address[16];
    /// Host byte order.
    vigil_u16 local_port;
    vigil_u16 remote_port;
    /// AF_INET (2), AF_INET6 (10), or AF_PACKET (17) for a socket record; 0 when not an internet socket.
    vigil_u16 family;
    /// IPPROTO_TCP (6), IPPROTO_UDP (17), ...
    vigil_u16 protocol;
    /// SOCK_STREAM (1), SOCK_DGRAM (2), ...
    vigil_u16 type;
    vigil_u16 reserved[3];
};

/// One record.
struct vigil_bpf_record {
    struct vigil_bpf_header header;
    struct vigil_bpf_syscall syscall;
    struct vigil_bpf_socket socket;
    /// Lengths of the string slots, including the NUL; 0 for an absent string.
    vigil_u16 string_lengths[VIGIL_STRING_SLOTS];
    /// Bytes written: the record is cut after its last used slot.
    vigil_u32 size;
    vigil_u32 reserved;
    char strings[VIGIL_STRING_SLOTS][VIGIL_STRING_MAX];
};

/// What the string slots hold, per record kind.
enum vigil_bpf_slot {
    /// exec: the executable's full path (walked from the kernel's file); file records: the first path
    /// as passed; module: name or path; mount: the source; memfd, bpf: the name; DNS: the query payload.
    VIGIL_SLOT_PRIMARY = 0,
    /// exec: the arguments, NUL-separated; file records: the directory a relative first path is
    /// relative to (the cwd or the directory descriptor's path); mount: the target.
    VIGIL_SLOT_SECONDARY = 1,
    /// exec: the working directory; rename/link/symlink: the second path; mount: the filesystem type.
    VIGIL_SLOT_TERTIARY = 2,
    /// exec: the file name passed to execve; rename/link/symlink: the directory of a relative second path.
    VIGIL_SLOT_QUATERNARY = 3,
};

/// The offset of the string slots in a record.
#define VIGIL_RECORD_STRINGS_OFFSET (sizeof(struct vigil_bpf_record) - VIGIL_STRING_SLOTS * VIGIL_STRING_MAX)

/// A workload's syscall usage: bit n of `bits` is set once syscall n has been called. Kept per cgroup id
/// in the `syscall_usage` map; user space reads it and deletes an entry only after reading it.
struct vigil_bpf_syscall_usage {
    vigil_u64 bits[VIGIL_SYSCALL_MAX / 64];
};

#endif
