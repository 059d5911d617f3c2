// Vigil's eBPF sensor: process, file, network, DNS and privileged-syscall records from tracepoints and raw
// tracepoints only (this kernel family may lack kprobes, fentry and BPF LSM), written to one ring buffer.
//
// Syscalls are seen once, at raw_syscalls:sys_exit (the arguments are still in the registers saved at entry,
// the result is known, user memory the call touched is paged in), where a tail call hands the record to the
// handler of the syscall's family. Process lifetime comes from the scheduler tracepoints. The record layout is shared with
// the Swift decoder through vigil_bpf_events.h.
#include "vigil_kernel_types.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "vigil_bpf_events.h"

char LICENSE[] SEC("license") = "GPL";

// Map types and flags from the kernel's uapi bpf.h, named here to keep that header (and its asm includes)
// out of the BPF build.
#define MAP_HASH 1
#define MAP_PROG_ARRAY 3
#define MAP_PERCPU_ARRAY 6
#define MAP_RINGBUF 27
#define UPDATE_ANY 0
#define UPDATE_NOEXIST 1
#define RING_NO_WAKEUP 1
#define RING_FORCE_WAKEUP 2
#define RING_AVAILABLE_DATA 0

#define AF_INET 2
#define AF_INET6 10
#define AF_PACKET 17
#define SOCK_RAW 3
#define AT_FDCWD -100
#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000
#define EAGAIN 11
#define DNS_PORT 53
#define PF_KTHREAD 0x00200000
#define NSFS_MAGIC 0x6e736673

// Masks a value in a way the compiler cannot prove redundant and drop: the verifier needs to see the mask
// to know an offset stays inside a buffer.
#define BOUND_STRING_OFFSET(value) asm volatile("%[v] &= 1023" : [v] "+r"(value))

// x86_64 syscall numbers of the calls the sensor records.
enum {
    NR_open = 2,
    NR_rt_sigreturn = 15,
    NR_exit = 60,
    NR_exit_group = 231,
    NR_socket = 41,
    NR_sendto = 44,
    NR_sendmsg = 46,
    NR_connect = 42,
    NR_accept = 43,
    NR_bind = 49,
    NR_listen = 50,
    NR_rename = 82,
    NR_creat = 85,
    NR_link = 86,
    NR_unlink = 87,
    NR_symlink = 88,
    NR_chmod = 90,
    NR_ptrace = 101,
    NR_setuid = 105,
    NR_setgid = 106,
    NR_setreuid = 113,
    NR_setregid = 114,
    NR_setgroups = 116,
    NR_setresuid = 117,
    NR_setresgid = 119,
    NR_setfsuid = 122,
    NR_setfsgid = 123,
    NR_capset = 126,
    NR_mount = 165,
    NR_init_module = 175,
    NR_openat = 257,
    NR_unlinkat = 263,
    NR_renameat = 264,
    NR_linkat = 265,
    NR_symlinkat = 266,
    NR_fchmodat = 268,
    NR_unshare = 272,
    NR_accept4 = 288,
    NR_sendmmsg = 307,
    NR_setns = 308,
    NR_finit_module = 313,
    NR_renameat2 = 316,
    NR_memfd_create = 319,
    NR_bpf = 321,
    NR_openat2 = 437,
    NR_fchmodat2 = 452,
};

// The syscall families, each handled by its own tail-called program so that each stays small enough for
// the verifier.
enum {
    HANDLER_FILE = 0,
    HANDLER_NETWORK = 1,
    HANDLER_DNS = 2,
    HANDLER_PRIVILEGED = 3,
    HANDLER_COUNT = 4,
};

/// The agent's own process id, set by user space before load: its own activity is never recorded.
const volatile __u32 agent_tgid = 0;

/// Wake the reader only once this many bytes wait in the ring (0: adaptive wakeups, one per record when the
/// reader has caught up). Each wakeup is an interrupt on the traced task's CPU; a reader that polls on a
/// timer collects sparse records without them.
const volatile __u32 wakeup_bytes = 0;

/// Once this many bytes wait in the ring, records of the flooding kinds (opens, connects, accepts, DNS
/// queries) are dropped and counted, so that the rest of the ring stays free for the rare records that
/// tell the story: an exec, a module load, a ptrace (0: no reserve).
const volatile __u32 bulk_limit_bytes = 0;

struct path_buffer {
    // Twice the string bound: a component is written at an offset below VIGIL_STRING_MAX with a length
    // below 256, and the verifier must see that every write stays inside the buffer.
    char bytes[2 * VIGIL_STRING_MAX];
};

struct {
    __uint(type, MAP_RINGBUF);
    __uint(max_entries, 1 << 24); // resized by user space before load
} events SEC(".maps");

struct {
    __uint(type, MAP_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct vigil_bpf_record);
} record_buffer SEC(".maps");

struct {
    __uint(type, MAP_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct path_buffer);
} path_buffer SEC(".maps");

/// Records lost because the ring buffer was full, per kind (summed over CPUs by user space).
struct {
    __uint(type, MAP_PERCPU_ARRAY);
    __uint(max_entries, VIGIL_KIND_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} drops SEC(".maps");

/// Per CPU: whether a record was dropped since the last one written, to flag the next one.
struct {
    __uint(type, MAP_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} lost_since_last SEC(".maps");

/// Syscall usage per cgroup id. Never cleared here: user space deletes an entry after reading it.
struct {
    __uint(type, MAP_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64);
    __type(value, struct vigil_bpf_syscall_usage);
} syscall_usage SEC(".maps");

int handle_file(__u64 *ctx);
int handle_network(__u64 *ctx);
int handle_dns(__u64 *ctx);
int handle_privileged(__u64 *ctx);

struct {
    __uint(type, MAP_PROG_ARRAY);
    __uint(max_entries, HANDLER_COUNT);
    __type(key, __u32);
    __array(values, int(__u64 *));
} handlers SEC(".maps") = {
    .values =
        {
            [HANDLER_FILE] = (void *)&handle_file,
            [HANDLER_NETWORK] = (void *)&handle_network,
            [HANDLER_DNS] = (void *)&handle_dns,
            [HANDLER_PRIVILEGED] = (void *)&handle_privileged,
        },
};

// ---------------------------------------------------------------------------------------------------------
// Records

static __always_inline void count_drop(__u32 kind) {
    __u64 *count = bpf_map_lookup_elem(&drops, &kind);
    if (count) *count += 1;
}

static __always_inline struct vigil_bpf_record *scratch_record(void) {
    __u32 zero = 0;
    return bpf_map_lookup_elem(&record_buffer, &zero);
}

/// Fills the header for `task` (the current task, or a new child) and clears the string slots.
static __always_inline void begin_record(struct vigil_bpf_record *record, struct task_struct *task, __u16 kind) {
    // `task` is a BTF pointer: its fields are read with plain loads (the verifier guards them), several times
    // cheaper than a helper call per field.
    struct task_struct *parent = task->real_parent;
    __u64 uid_gid = bpf_get_current_uid_gid();
    record->header.time = bpf_ktime_get_boot_ns();
    record->header.start_time = task->group_leader->start_boottime;
    record->header.parent_start_time = parent->group_leader->start_boottime;
    record->header.cgroup_id = bpf_get_current_cgroup_id();
    record->header.pid = task->tgid;
    record->header.tid = task->pid;
    record->header.ppid = parent->tgid;
    record->header.uid = (__u32)uid_gid;
    record->header.gid = (__u32)(uid_gid >> 32);
    record->header.euid = task->cred->euid.val;
    record->header.mount_namespace = task->nsproxy->mnt_ns->ns.inum;
    record->header.kind = kind;
    record->header.flags = 0;
    bpf_get_current_comm(record->header.comm, sizeof(record->header.comm));
    record->syscall.number = -1;
    record->syscall.exit_code = 0;
    record->syscall.result = 0;
    record->syscall.details[0] = 0;
    record->syscall.details[1] = 0;
    record->string_lengths[0] = 0;
    record->string_lengths[1] = 0;
    record->string_lengths[2] = 0;
    record->string_lengths[3] = 0;
}

/// Writes the record, cut after its last used string slot, and counts it as dropped when the ring is full.
static __always_inline void submit_record(struct vigil_bpf_record *record) {
    __u32 zero = 0;
    __u32 size = VIGIL_RECORD_STRINGS_OFFSET;
    __u32 length;
    if ((length = record->string_lengths[3]) > 0) {
        if (length > VIGIL_STRING_MAX) length = VIGIL_STRING_MAX;
        size = VIGIL_RECORD_STRINGS_OFFSET + 3 * VIGIL_STRING_MAX + length;
    } else if ((length = record->string_lengths[2]) > 0) {
        if (length > VIGIL_STRING_MAX) length = VIGIL_STRING_MAX;
        size = VIGIL_RECORD_STRINGS_OFFSET + 2 * VIGIL_STRING_MAX + length;
    } else if ((length = record->string_lengths[1]) > 0) {
        if (length > VIGIL_STRING_MAX) length = VIGIL_STRING_MAX;
        size = VIGIL_RECORD_STRINGS_OFFSET + VIGIL_STRING_MAX + length;
    } else if ((length = record->string_lengths[0]) > 0) {
        if (length > VIGIL_STRING_MAX) length = VIGIL_STRING_MAX;
        size = VIGIL_RECORD_STRINGS_OFFSET + length;
    }
    // Round up to 8 bytes so the next record's header stays aligned for the reader.
    size = (size + 7) & ~7u;
    if (size > sizeof(struct vigil_bpf_record)) size = sizeof(struct vigil_bpf_record);
    record->size = size;
    __u32 *lost = bpf_map_lookup_elem(&lost_since_last, &zero);
    if (lost && *lost) record->header.flags |= VIGIL_FLAG_LOST_BEFORE;
    __u64 waiting = (wakeup_bytes || bulk_limit_bytes) ? bpf_ringbuf_query(&events, RING_AVAILABLE_DATA) : 0;
    __u16 kind = record->header.kind;
    int bulk = kind == VIGIL_KIND_OPEN || kind == VIGIL_KIND_CONNECT || kind == VIGIL_KIND_ACCEPT || kind == VIGIL_KIND_DNS;
    __u64 flags = 0;
    // Counting this record too: a large record (an exec) that lifts the ring past the limits must wake the
    // reader, or the bulk records that follow would be shed until its next timed poll. The rare kinds that
    // rules act on (an exec, a module load, a ptrace) wake it at once: a response cannot wait for the timer.
    int urgent = !bulk && kind != VIGIL_KIND_FORK && kind != VIGIL_KIND_EXIT;
    // Past the threshold, only a record that lifts the ring over the next multiple of it wakes the reader:
    // a reader with that much waiting is already awake, and a wakeup per record would cost the traced task
    // an interrupt each. A crossing missed in a race between CPUs is made up at the next multiple.
    int crosses = wakeup_bytes && waiting / wakeup_bytes != (waiting + size) / wakeup_bytes;
    if (wakeup_bytes) flags = (urgent || crosses) ? RING_FORCE_WAKEUP : RING_NO_WAKEUP;
    if ((bulk && bulk_limit_bytes && waiting >= bulk_limit_bytes) || bpf_ringbuf_output(&events, record, size, flags) != 0) {
        count_drop(record->header.kind);
        if (lost) *lost = 1;
    } else if (lost) {
        *lost = 0;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Strings and paths

/// Copies a NUL-terminated string from the caller's memory into a slot.
static __always_inline void read_user_string(struct vigil_bpf_record *record, __u32 slot, const void *source) {
    slot &= VIGIL_STRING_SLOTS - 1;
    long length = bpf_probe_read_user_str(record->strings[slot], VIGIL_STRING_MAX, source);
    if (length <= 0) return;
    if (length >= VIGIL_STRING_MAX) record->header.flags |= VIGIL_FLAG_TRUNCATED;
    record->string_lengths[slot] = (__u16)length;
}

/// The state of one path walk, shared with the bpf_loop callback that climbs one level per call.
struct path_walk {
    struct dentry *dentry;
    struct mount *mount;
    __u32 offset; // where the path built so far starts in the path buffer
    __u32 complete;
};

/// Prepends one component of the path, or crosses a mount point; returns 1 when the walk is over.
static long climb_one_level(__u32 index, void *context) {
    struct path_walk *walk = context;
    __u32 zero = 0;
    struct path_buffer *buffer = bpf_map_lookup_elem(&path_buffer, &zero);
    if (!buffer) return 1;
    struct dentry *dentry = walk->dentry;
    struct mount *mount = walk->mount;
    struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
    struct dentry *mount_root = BPF_CORE_READ(mount, mnt.mnt_root);
    if (dentry == parent && dentry != mount_root) {
        // A dentry that is its own parent but no mount's root is a pseudo file (a memfd, a pipe, an anonymous
        // inode): its name is the whole path, as in "memfd:payload".
        __u32 length = BPF_CORE_READ(dentry, d_name.len) & 255;
        __u32 offset = walk->offset & (VIGIL_STRING_MAX - 1);
        if (length > offset) return 1;
        offset -= length;
        BOUND_STRING_OFFSET(offset);
        bpf_probe_read_kernel(&buffer->bytes[offset], length, BPF_CORE_READ(dentry, d_name.name));
        walk->offset = offset;
        walk->complete = 1;
        return 1;
    }
    if (dentry == mount_root || dentry == parent) {
        struct mount *mount_parent = BPF_CORE_READ(mount, mnt_parent);
        if (dentry != mount_root || mount_parent == mount) {
            walk->complete = 1; // the root of the namespace
            return 1;
        }
        walk->dentry = BPF_CORE_READ(mount, mnt_mountpoint);
        walk->mount = mount_parent;
        return 0;
    }
    __u32 length = BPF_CORE_READ(dentry, d_name.len) & 255;
    const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
    __u32 offset = walk->offset & (VIGIL_STRING_MAX - 1);
    if (length + 1 > offset) return 1;
    offset -= length;
    BOUND_STRING_OFFSET(offset);
    bpf_probe_read_kernel(&buffer->bytes[offset], length, name);
    offset -= 1;
    BOUND_STRING_OFFSET(offset);
    buffer->bytes[offset] = '/';
    walk->offset = offset;
    walk->dentry = parent;
    return 0;
}

/// Writes the full path of a dentry on a mount into a slot, walking up to the root and across mount
/// points, at most VIGIL_PATH_DEPTH levels (the path is then marked truncated). There is no bpf_d_path on
/// tracepoints: the path is built backwards in a per-CPU buffer, one component per bpf_loop step.
static __noinline int write_path(struct vigil_bpf_record *record, __u32 slot, struct dentry *dentry,
                                 struct vfsmount *vfsmount) {
    __u32 zero = 0;
    struct path_buffer *buffer = bpf_map_lookup_elem(&path_buffer, &zero);
    if (!buffer || !record || !dentry || !vfsmount) return 0;
    struct path_walk walk = {
        .dentry = dentry,
        .mount = (struct mount *)((char *)vfsmount - bpf_core_field_offset(struct mount, mnt)),
        .offset = VIGIL_STRING_MAX - 1,
        .complete = 0,
    };
    buffer->bytes[VIGIL_STRING_MAX - 1] = 0;
    bpf_loop(VIGIL_PATH_DEPTH, climb_one_level, &walk, 0);
    if (!walk.complete) record->header.flags |= VIGIL_FLAG_TRUNCATED;
    __u32 offset = walk.offset & (VIGIL_STRING_MAX - 1);
    if (offset == VIGIL_STRING_MAX - 1) {
        offset -= 1;
        buffer->bytes[offset] = '/';
    }
    __u32 length = (VIGIL_STRING_MAX - offset) & (VIGIL_STRING_MAX - 1);
    slot &= VIGIL_STRING_SLOTS - 1;
    bpf_probe_read_kernel(record->strings[slot], length, &buffer->bytes[offset]);
    record->string_lengths[slot] = (__u16)length;
    return 0;
}

static __always_inline struct file *file_of_descriptor(struct task_struct *task, long descriptor) {
    struct fdtable *table = BPF_CORE_READ(task, files, fdt);
    unsigned int max = BPF_CORE_READ(table, max_fds);
    if (descriptor < 0 || descriptor >= max) return 0;
    struct file **files = BPF_CORE_READ(table, fd);
    struct file *file = 0;
    bpf_probe_read_kernel(&file, sizeof(file), &files[descriptor]);
    return file;
}

static __always_inline void write_file_path(struct vigil_bpf_record *record, __u32 slot, struct file *file) {
    if (!file) return;
    write_path(record, slot, BPF_CORE_READ(file, f_path.dentry), BPF_CORE_READ(file, f_path.mnt));
}

/// For a relative path, writes the directory it is relative to: the working directory or `descriptor`'s.
static __always_inline void write_base_directory(struct vigil_bpf_record *record, __u32 path_slot, __u32 base_slot,
                                                 long descriptor, struct task_struct *task) {
    path_slot &= VIGIL_STRING_SLOTS - 1;
    if (record->string_lengths[path_slot] == 0 || record->strings[path_slot][0] == '/') return;
    if ((int)descriptor == AT_FDCWD) {
        write_path(record, base_slot, BPF_CORE_READ(task, fs, pwd.dentry), BPF_CORE_READ(task, fs, pwd.mnt));
    } else {
        write_file_path(record, base_slot, file_of_descriptor(task, descriptor));
    }
}

// ---------------------------------------------------------------------------------------------------------
// Process lifetime

static __always_inline void record_usage(long number);

SEC("tp_btf/sched_process_exec")
int vigil_exec(__u64 *ctx) {
    struct task_struct *task = bpf_get_current_task_btf();
    struct linux_binprm *binary = (struct linux_binprm *)ctx[2];
    if ((bpf_get_current_pid_tgid() >> 32) == agent_tgid) return 0;
    struct vigil_bpf_record *record = scratch_record();
    if (!record) return 0;
    begin_record(record, task, VIGIL_KIND_EXEC);
    write_file_path(record, VIGIL_SLOT_PRIMARY, BPF_CORE_READ(binary, file));

    // The new image's arguments, NUL-separated, as /proc/PID/cmdline shows them.
    unsigned long start = BPF_CORE_READ(task, mm, arg_start);
    unsigned long end = BPF_CORE_READ(task, mm, arg_end);
    unsigned long length = end > start ? end - start : 0;
    if (length >= VIGIL_STRING_MAX) {
        length = VIGIL_STRING_MAX - 1;
        record->header.flags |= VIGIL_FLAG_TRUNCATED;
    }
    if (length > 0 && bpf_probe_read_user(record->strings[VIGIL_SLOT_SECONDARY], length & (VIGIL_STRING_MAX - 1),
                                          (const void *)start) == 0) {
        record->strings[VIGIL_SLOT_SECONDARY][length & (VIGIL_STRING_MAX - 1)] = 0;
        record->string_lengths[VIGIL_SLOT_SECONDARY] = (__u16)(length + 1);
    }

    write_path(record, VIGIL_SLOT_TERTIARY, BPF_CORE_READ(task, fs, pwd.dentry), BPF_CORE_READ(task, fs, pwd.mnt));
    long name_length = bpf_probe_read_kernel_str(record->strings[VIGIL_SLOT_QUATERNARY], VIGIL_STRING_MAX,
                                                 BPF_CORE_READ(binary, filename));
    if (name_length > 0) record->string_lengths[VIGIL_SLOT_QUATERNARY] = (__u16)name_length;
    submit_record(record);
    return 0;
}

SEC("tp_btf/sched_process_fork")
int vigil_fork(__u64 *ctx) {
    struct task_struct *child = (struct task_struct *)ctx[1];
    if ((bpf_get_current_pid_tgid() >> 32) == agent_tgid) return 0;
    // A new thread is not a new process.
    if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid)) return 0;
    if (BPF_CORE_READ(child, flags) & PF_KTHREAD) return 0;
    struct vigil_bpf_record *record = scratch_record();
    if (!record) return 0;
    begin_record(record, child, VIGIL_KIND_FORK);
    submit_record(record);
    return 0;
}

SEC("tp_btf/sched_process_exit")
int vigil_exit(__u64 *ctx) {
    struct task_struct *task = bpf_get_current_task_btf();
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    if ((pid_tgid >> 32) == agent_tgid) return 0;
    if (BPF_CORE_READ(task, flags) & PF_KTHREAD) return 0;
    // exit and exit_group end the thread inside the call and never reach sys_exit: their use is recorded
    // here, or a seccomp profile made from the usage would kill every process as it exits.
    record_usage(NR_exit);
    record_usage(NR_exit_group);
    // Only the thread-group leader's exit ends the process as others see it.
    if ((__u32)pid_tgid != (__u32)(pid_tgid >> 32)) return 0;
    struct vigil_bpf_record *record = scratch_record();
    if (!record) return 0;
    begin_record(record, task, VIGIL_KIND_EXIT);
    record->syscall.exit_code = BPF_CORE_READ(task, exit_code);
    submit_record(record);
    return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Syscalls

/// The family handler of a recorded syscall, or -1 for calls only counted in the usage map.
static __always_inline int handler_of(long number) {
    switch (number) {
    case NR_open:
    case NR_creat:
    case NR_openat:
    case NR_openat2:
    case NR_unlink:
    case NR_unlinkat:
    case NR_rename:
    case NR_renameat:
    case NR_renameat2:
    case NR_link:
    case NR_linkat:
    case NR_symlink:
    case NR_symlinkat:
    case NR_chmod:
    case NR_fchmodat:
    case NR_fchmodat2:
        return HANDLER_FILE;
    case NR_socket:
    case NR_connect:
    case NR_accept:
    case NR_accept4:
    case NR_bind:
    case NR_listen:
        return HANDLER_NETWORK;
    case NR_sendto:
    case NR_sendmsg:
    case NR_sendmmsg:
        return HANDLER_DNS;
    case NR_ptrace:
    case NR_init_module:
    case NR_finit_module:
    case NR_setuid:
    case NR_setgid:
    case NR_setreuid:
    case NR_setregid:
    case NR_setresuid:
    case NR_setresgid:
    case NR_setfsuid:
    case NR_setfsgid:
    case NR_capset:
    case NR_setgroups:
    case NR_mount:
    case NR_unshare:
    case NR_setns:
    case NR_memfd_create:
    case NR_bpf:
        return HANDLER_PRIVILEGED;
    default:
        return -1;
    }
}

/// Marks syscall `number` as used by the current cgroup.
static __always_inline void record_usage(long number) {
    if (number < 0 || number >= VIGIL_SYSCALL_MAX) return;
    __u64 cgroup = bpf_get_current_cgroup_id();
    __u64 bit = 1ULL << (number & 63);
    __u32 word = (number >> 6) & (VIGIL_SYSCALL_MAX / 64 - 1);
    struct vigil_bpf_syscall_usage *usage = bpf_map_lookup_elem(&syscall_usage, &cgroup);
    if (!usage) {
        struct vigil_bpf_syscall_usage fresh = {};
        fresh.bits[word] = bit;
        if (bpf_map_update_elem(&syscall_usage, &cgroup, &fresh, UPDATE_NOEXIST) == 0) return;
        usage = bpf_map_lookup_elem(&syscall_usage, &cgroup); // another CPU created it first
        if (!usage) {
            count_drop(VIGIL_KIND_SYSCALL); // the map is full
            return;
        }
    }
    // Read first: the bit is nearly always set already, and a plain read keeps the line shared.
    if (!(usage->bits[word] & bit)) __sync_fetch_and_or(&usage->bits[word], bit);
}

/// Every syscall is seen once, at its exit: the number and arguments are still in the registers saved at
/// entry, the result is known and user memory the call touched is paged in. One hook instead of an entry
/// and an exit hook halves the cost every syscall of the machine pays.
SEC("tp_btf/sys_exit")
int vigil_sys_exit(__u64 *ctx) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    if ((pid_tgid >> 32) == agent_tgid) return 0;
    struct pt_regs *registers = (struct pt_regs *)ctx[0];
    long number = (long)registers->orig_ax;
    record_usage(number);
    int handler = handler_of(number);
    if (handler < 0) return 0;
    struct vigil_bpf_record *record = scratch_record();
    if (!record) return 0;
    begin_record(record, bpf_get_current_task_btf(), 0);
    record->syscall.number = (__s32)number;
    record->syscall.result = (long)ctx[1];
    record->syscall.arguments[0] = registers->di;
    record->syscall.arguments[1] = registers->si;
    record->syscall.arguments[2] = registers->dx;
    record->syscall.arguments[3] = registers->r10;
    record->syscall.arguments[4] = registers->r8;
    record->syscall.arguments[5] = registers->r9;
    bpf_tail_call(ctx, &handlers, handler);
    return 0;
}

/// rt_sigreturn's exit is traced with no syscall number (it restores the interrupted registers), so its use
/// is recorded when a signal is delivered to a handler, which returns through it. Without it a seccomp profile
/// made from the usage would kill a process at its first signal handler.
SEC("tp_btf/signal_deliver")
int vigil_signal_deliver(__u64 *ctx) {
    if ((bpf_get_current_pid_tgid() >> 32) == agent_tgid) return 0;
    record_usage(NR_rt_sigreturn);
    return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Files

SEC("tp_btf/sys_exit")
int handle_file(__u64 *ctx) {
    struct vigil_bpf_record *record = scratch_record();
    if (!record) return 0;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    __u64 *a = record->syscall.arguments;
    long first_directory = AT_FDCWD, second_directory = AT_FDCWD;
    const void *first = 0, *second = 0;
    __u16 kind = 0;
    switch (record->syscall.number) {
    case NR_open: kind = VIGIL_KIND_OPEN; first = (const void *)a[0]; break;
    case NR_creat:
        kind = VIGIL_KIND_OPEN;
        first = (const void *)a[0];
        record->syscall.details[0] = O_CREAT | O_WRONLY | O_TRUNC;
        record->syscall.details[1] = a[1];
        break;
    case NR_openat: kind = VIGIL_KIND_OPEN; first_directory = (long)a[0]; first = (const void *)a[1]; break;
    case NR_openat2: {
        kind = VIGIL_KIND_OPEN;
        first_directory = (long)a[0];
        first = (const void *)a[1];
        __u64 how[2] = {};
        bpf_probe_read_user(how, sizeof(how), (const void *)a[2]); // struct open_how: flags, mode
        record->syscall.details[0] = how[0];
        record->syscall.details[1] = how[1];
        break;
    }
    case NR_unlink: kind = VIGIL_KIND_UNLINK; first = (const void *)a[0]; break;
    case NR_unlinkat: kind = VIGIL_KIND_UNLINK; first_directory = (long)a[0]; first = (const void *)a[1]; break;
    case NR_rename: kind = VIGIL_KIND_RENAME; first = (const void *)a[0]; second = (const void *)a[1]; break;
    case NR_renameat:
    case NR_renameat2:
        kind = VIGIL_KIND_RENAME;
        first_directory = (long)a[0];
        first = (const void *)a[1];
        second_directory = (long)a[2];
        second = (const void *)a[3];
        break;
    case NR_link: kind = VIGIL_KIND_LINK; first = (const void *)a[0]; second = (const void *)a[1]; break;
    case NR_linkat:
        kind = VIGIL_KIND_LINK;
        first_directory = (long)a[0];
        first = (const void *)a[1];
        second_directory = (long)a[2];
        second = (const void *)a[3];
        break;
    case NR_symlink: kind = VIGIL_KIND_SYMLINK; first = (const void *)a[0]; second = (const void *)a[1]; break;
    case NR_symlinkat:
        kind = VIGIL_KIND_SYMLINK;
        first = (const void *)a[0];
        second_directory = (long)a[1];
        second = (const void *)a[2];
        break;
    case NR_chmod: kind = VIGIL_KIND_CHMOD; first = (const void *)a[0]; break;
    case NR_fchmodat:
    case NR_fchmodat2: kind = VIGIL_KIND_CHMOD; first_directory = (long)a[0]; first = (const void *)a[1]; break;
    default: return 0;
    }
    record->header.kind = kind;
    read_user_string(record, VIGIL_SLOT_PRIMARY, first);
    // A symlink's target is stored as written, never resolved.
    if (kind != VIGIL_KIND_SYMLINK)
        write_base_directory(record, VIGIL_SLOT_PRIMARY, VIGIL_SLOT_SECONDARY, first_directory, task);
    if (second) {
        read_user_string(record, VIGIL_SLOT_TERTIARY, second);
        write_base_directory(record, VIGIL_SLOT_TERTIARY, VIGIL_SLOT_QUATERNARY, second_directory, task);
    }
    submit_record(record);
    return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Network

/// Reads a socket's family, protocol, type and both addresses as the kernel holds them now.
static __always_inline int read_socket(struct socket *socket, struct vigil_bpf_socket *out) {
    struct sock *sock = BPF_CORE_READ(socket, sk);
    if (!sock) return -1;
    out->type = BPF_CORE_READ(socket, type);
    out->family = BPF_CORE_READ(sock, __sk_common.skc_family);
    out->protocol = BPF_CORE_READ(sock, sk_protocol);
    out->local_port = BPF_CORE_READ(sock, __sk_common.skc_num);
    out->remote_port = __builtin_bswap16(BPF_CORE_READ(sock, __sk_common.skc_dport));
    if (out->family == AF_INET) {
        bpf_core_read(out->local_address, 4, &sock->__sk_common.skc_rcv_saddr);
        bpf_core_read(out->remote_address, 4, &sock->__sk_common.skc_daddr);
    } else if (out->family == AF_INET6) {
        bpf_core_read(out->local_address, 16, &sock->__sk_common.skc_v6_rcv_saddr);
        bpf_core_read(out->remote_address, 16, &sock->__sk_common.skc_v6_daddr);
    }
    return 0;
}

static __always_inline struct socket *socket_of_descriptor(struct task_struct *task, long descriptor) {
    struct file *file = file_of_descriptor(task, descriptor);
    if (!file) return 0;
    if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK) return 0;
    return (struct socket *)BPF_CORE_READ(file, private_data);
}

/// Reads an internet address the caller passed (`struct sockaddr_in` or `sockaddr_in6`) into `address` and
/// `port`; returns the family, or 0 when it is not an internet address.
static __always_inline __u16 read_user_address(const void *source, long length, __u8 *address, __u16 *port) {
    __u8 raw[28] = {};
    if (!source || length < 8) return 0;
    if (bpf_probe_read_user(raw, length >= 28 ? 28 : 16, source) != 0) return 0;
    __u16 family = raw[0] | (raw[1] << 8);
    *port = (raw[2] << 8) | raw[3];
    if (family == AF_INET) {
        __builtin_memcpy(address, &raw[4], 4);
    } else if (family == AF_INET6 && length >= 24) {
        __builtin_memcpy(address, &raw[8], 16);
    } else {
        return 0;
    }
    return family;
}

SEC("tp_btf/sys_exit")
int handle_network(__u64 *ctx) {
    struct vigil_bpf_record *record = scratch_record();
    if (!record) return 0;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    __u64 *a = record->syscall.arguments;
    long result = record->syscall.result;
    struct vigil_bpf_socket *out = &record->socket;
    __builtin_memset(out, 0, sizeof(*out));
    struct socket *socket;
    switch (record->syscall.number) {
    case NR_socket: {
        // Only packet sockets and raw IP sockets: every other internet socket shows up when it connects, binds
        // or accepts, and netlink sockets (raw too: getifaddrs opens one) are plumbing, not sniffing.
        __u16 family = (__u16)a[0];
        __u16 type = (__u16)(a[1] & 0xf); // without SOCK_NONBLOCK and SOCK_CLOEXEC
        int raw_ip = type == SOCK_RAW && (family == AF_INET || family == AF_INET6);
        if (family != AF_PACKET && !raw_ip) return 0;
        record->header.kind = VIGIL_KIND_SOCKET;
        out->family = family;
        out->type = type;
        out->protocol = (__u16)a[2];
        submit_record(record);
        return 0;
    }
    case NR_connect: {
        record->header.kind = VIGIL_KIND_CONNECT;
        socket = socket_of_descriptor(task, (long)a[0]);
        if (!socket || read_socket(socket, out) != 0) return 0;
        // The destination as the caller asked for it: a failed connect leaves none on the socket.
        __u16 port = 0;
        if (read_user_address((const void *)a[1], (long)a[2], out->remote_address, &port) == 0) return 0;
        out->remote_port = port;
        break;
    }
    case NR_accept:
    case NR_accept4:
        // A non-blocking accept with nothing to accept is not an event.
        if (result < 0) return 0;
        record->header.kind = VIGIL_KIND_ACCEPT;
        socket = socket_of_descriptor(task, result);
        if (!socket || read_socket(socket, out) != 0) return 0;
        break;
    case NR_bind: {
        record->header.kind = VIGIL_KIND_BIND;
        socket = socket_of_descriptor(task, (long)a[0]);
        if (!socket || read_socket(socket, out) != 0) return 0;
        __u16 port = 0;
        if (read_user_address((const void *)a[1], (long)a[2], out->local_address, &port) == 0) return 0;
        // Binding port 0 asks the kernel to pick one: the socket holds the port it picked.
        if (out->local_port == 0) out->local_port = port;
        break;
    }
    case NR_listen:
        record->header.kind = VIGIL_KIND_LISTEN;
        socket = socket_of_descriptor(task, (long)a[0]);
        if (!socket || read_socket(socket, out) != 0) return 0;
        break;
    default: return 0;
    }
    if (out->family != AF_INET && out->family != AF_INET6) return 0;
    submit_record(record);
    return 0;
}

// ---------------------------------------------------------------------------------------------------------
// DNS

/// Copies a query payload sent to port 53 into the primary slot and writes the record.
static __always_inline void submit_dns(struct vigil_bpf_record *record, const void *payload, __u64 length) {
    if (!payload || length < 12) return;
    if (length > VIGIL_DNS_PAYLOAD_MAX) length = VIGIL_DNS_PAYLOAD_MAX;
    if (bpf_probe_read_user(record->strings[VIGIL_SLOT_PRIMARY], length & (VIGIL_STRING_MAX - 1), payload) != 0)
        return;
    record->string_lengths[VIGIL_SLOT_PRIMARY] = (__u16)length;
    submit_record(record);
}

/// The first iovec of a `struct msghdr` in the caller's memory, and its destination address.
static __always_inline int read_message(const void *message, const void **payload, __u64 *length,
                                        const void **name, long *name_length) {
    __u64 header[4] = {}; // msg_name, msg_namelen, msg_iov, msg_iovlen
    if (bpf_probe_read_user(header, sizeof(header), message) != 0) return -1;
    *name = (const void *)header[0];
    *name_length = (__u32)header[1];
    if (header[3] == 0 || header[2] == 0) return -1;
    __u64 vector[2] = {}; // iov_base, iov_len
    if (bpf_probe_read_user(vector, sizeof(vector), (const void *)header[2]) != 0) return -1;
    *payload = (const void *)vector[0];
    *length = vector[1];
    return 0;
}

SEC("tp_btf/sys_exit")
int handle_dns(__u64 *ctx) {
    struct vigil_bpf_record *record = scratch_record();
    if (!record) return 0;
    if (record->syscall.result < 0) return 0;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    __u64 *a = record->syscall.arguments;
    struct vigil_bpf_socket *out = &record->socket;
    __builtin_memset(out, 0, sizeof(*out));
    struct socket *socket = socket_of_descriptor(task, (long)a[0]);
    if (!socket || read_socket(socket, out) != 0) return 0;
    if (out->family != AF_INET && out->family != AF_INET6) return 0;
    record->header.kind = VIGIL_KIND_DNS;

    const void *payload = 0, *name = 0;
    __u64 length = 0;
    long name_length = 0;
    switch (record->syscall.number) {
    case NR_sendto:
        payload = (const void *)a[1];
        length = a[2];
        name = (const void *)a[4];
        name_length = (long)a[5];
        break;
    case NR_sendmsg:
        if (read_message((const void *)a[1], &payload, &length, &name, &name_length) != 0) return 0;
        break;
    case NR_sendmmsg:
        // glibc sends the A and AAAA queries together: record the first two messages.
        if (read_message((const void *)a[1], &payload, &length, &name, &name_length) != 0) return 0;
        break;
    default: return 0;
    }
    // An unconnected socket names its destination per message; a connected one holds it.
    if (name) {
        __u16 port = 0;
        if (read_user_address(name, name_length, out->remote_address, &port) == 0) return 0;
        out->remote_port = port;
    }
    if (out->remote_port != DNS_PORT) return 0;
    submit_dns(record, payload, length);
    if (record->syscall.number == NR_sendmmsg && record->syscall.result > 1) {
        // struct mmsghdr is a msghdr (56 bytes) and a length, 64 bytes in all.
        if (read_message((const void *)(a[1] + 64), &payload, &length, &name, &name_length) == 0)
            submit_dns(record, payload, length);
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Privileged operations

SEC("tp_btf/sys_exit")
int handle_privileged(__u64 *ctx) {
    struct vigil_bpf_record *record = scratch_record();
    if (!record) return 0;
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    __u64 *a = record->syscall.arguments;
    switch (record->syscall.number) {
    case NR_ptrace: record->header.kind = VIGIL_KIND_PTRACE; break;
    case NR_init_module:
        record->header.kind = VIGIL_KIND_MODULE;
        read_user_string(record, VIGIL_SLOT_SECONDARY, (const void *)a[2]); // the parameters
        break;
    case NR_finit_module:
        record->header.kind = VIGIL_KIND_MODULE;
        write_file_path(record, VIGIL_SLOT_PRIMARY, file_of_descriptor(task, (long)a[0]));
        read_user_string(record, VIGIL_SLOT_SECONDARY, (const void *)a[1]);
        break;
    case NR_capset: {
        record->header.kind = VIGIL_KIND_CREDENTIALS;
        __u32 data[6] = {}; // two struct __user_cap_data_struct: effective, permitted, inheritable
        if (a[1] && bpf_probe_read_user(data, sizeof(data), (const void *)a[1]) == 0)
            record->syscall.details[0] = data[0] | ((__u64)data[3] << 32);
        break;
    }
    case NR_setuid:
    case NR_setgid:
    case NR_setreuid:
    case NR_setregid:
    case NR_setresuid:
    case NR_setresgid:
    case NR_setfsuid:
    case NR_setfsgid:
    case NR_setgroups: record->header.kind = VIGIL_KIND_CREDENTIALS; break;
    case NR_mount:
        record->header.kind = VIGIL_KIND_MOUNT;
        read_user_string(record, VIGIL_SLOT_PRIMARY, (const void *)a[0]);
        read_user_string(record, VIGIL_SLOT_SECONDARY, (const void *)a[1]);
        read_user_string(record, VIGIL_SLOT_TERTIARY, (const void *)a[2]);
        break;
    case NR_unshare: record->header.kind = VIGIL_KIND_UNSHARE; break;
    case NR_setns: {
        record->header.kind = VIGIL_KIND_SETNS;
        // A namespace file has no path worth the name (nsfs names it on demand, "net:[4026531840]"): record
        // its type and inode number instead. A pidfd is recorded without either.
        struct inode *inode = BPF_CORE_READ(file_of_descriptor(task, (long)a[0]), f_inode);
        if (inode && BPF_CORE_READ(inode, i_sb, s_magic) == NSFS_MAGIC) {
            struct ns_common *namespace = BPF_CORE_READ(inode, i_private);
            long length = bpf_probe_read_kernel_str(record->strings[VIGIL_SLOT_PRIMARY], 32,
                                                    BPF_CORE_READ(namespace, ops, name));
            if (length > 0) record->string_lengths[VIGIL_SLOT_PRIMARY] = (__u16)length;
            record->syscall.details[0] = BPF_CORE_READ(inode, i_ino);
        }
        break;
    }
    case NR_memfd_create:
        record->header.kind = VIGIL_KIND_MEMFD;
        read_user_string(record, VIGIL_SLOT_PRIMARY, (const void *)a[0]);
        break;
    case NR_bpf: {
        record->header.kind = VIGIL_KIND_BPF;
        // union bpf_attr: prog_type or map_type first; prog_name at 48 (BPF_PROG_LOAD), map_name at 28
        // (BPF_MAP_CREATE).
        __u32 type = 0;
        if (a[1] && bpf_probe_read_user(&type, sizeof(type), (const void *)a[1]) == 0) record->syscall.details[0] = type;
        long offset = a[0] == 5 ? 48 : (a[0] == 0 ? 28 : -1);
        if (offset > 0 && a[1]) {
            long length = bpf_probe_read_user_str(record->strings[VIGIL_SLOT_PRIMARY], 16, (const void *)(a[1] + offset));
            if (length > 0) record->string_lengths[VIGIL_SLOT_PRIMARY] = (__u16)length;
        }
        break;
    }
    default: return 0;
    }
    submit_record(record);
    return 0;
}
