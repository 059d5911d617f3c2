// The libseccomp API as Vigil uses it (Debian's libseccomp-dev).
#ifndef VIGIL_CSECCOMP_SHIM_H
#define VIGIL_CSECCOMP_SHIM_H

#include <seccomp.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/filter.h>
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

/// The action "send the syscall to the supervisor's listener" (SCMP_ACT_NOTIFY).
static inline uint32_t vigil_scmp_act_notify(void) { return SCMP_ACT_NOTIFY; }

/// The response flag that lets a notified syscall run as if no filter were there.
static inline uint32_t vigil_seccomp_flag_continue(void) { return SECCOMP_USER_NOTIF_FLAG_CONTINUE; }

/// Exports `context` as the classic BPF program seccomp(2) loads: *program (free() it) and *length (in
/// instructions). Returns 0 or a negative errno.
static inline int vigil_seccomp_export_program(scmp_filter_ctx context, struct sock_filter **program,
                                               unsigned short *length) {
    int fd = vigil_memfd_create("vigil-seccomp-program");
    if (fd < 0) return -errno;
    int result = seccomp_export_bpf(context, fd);
    if (result < 0) { close(fd); return result; }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 || size / sizeof(struct sock_filter) > 65535) {
        close(fd);
        return -EINVAL;
    }
    struct sock_filter *buffer = malloc((size_t)size);
    if (!buffer) { close(fd); return -ENOMEM; }
    ssize_t read = pread(fd, buffer, (size_t)size, 0);
    close(fd);
    if (read != size) { free(buffer); return -EIO; }
    *program = buffer;
    *length = (unsigned short)(size / sizeof(struct sock_filter));
    return 0;
}

// Starts `file` (searched on PATH) with `argv` in a child that first loads `program` as its seccomp filter
// with a user-notification listener (SECCOMP_FILTER_FLAG_NEW_LISTENER), and hands the listener to the parent
// over a socket pair. Written in C because only async-signal-safe calls may run between fork and exec in a
// multi-threaded process. The filter must allow sendmsg, close, execve and exit_group: the child makes them
// before the parent can answer notifications. Returns the child's pid and the listener in *listener, or a
// negative errno.
static inline int vigil_seccomp_spawn_supervised(const struct sock_filter *program, unsigned short length,
                                                 const char *file, char *const argv[], int *listener) {
    int sockets[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) != 0) return -errno;
    pid_t child = fork();
    if (child < 0) {
        int error = errno;
        close(sockets[0]);
        close(sockets[1]);
        return -error;
    }
    if (child == 0) {
        close(sockets[0]);
        struct sock_fprog filter = {.len = length, .filter = (struct sock_filter *)program};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(125);
        int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &filter);
        if (fd < 0) _exit(125);
        char byte = 0;
        struct iovec data = {.iov_base = &byte, .iov_len = 1};
        union {
            char bytes[CMSG_SPACE(sizeof(int))];
            struct cmsghdr alignment;
        } control;
        memset(&control, 0, sizeof control);
        struct msghdr message = {
            .msg_iov = &data, .msg_iovlen = 1, .msg_control = control.bytes, .msg_controllen = sizeof control.bytes};
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(header), &fd, sizeof(int));
        if (sendmsg(sockets[1], &message, 0) != 1) _exit(125);
        close(fd);
        close(sockets[1]);
        execvp(file, argv);
        _exit(errno == ENOENT ? 127 : 126);
    }
    close(sockets[1]);
    char byte = 0;
    struct iovec data = {.iov_base = &byte, .iov_len = 1};
    union {
        char bytes[CMSG_SPACE(sizeof(int))];
        struct cmsghdr alignment;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = {
        .msg_iov = &data, .msg_iovlen = 1, .msg_control = control.bytes, .msg_controllen = sizeof control.bytes};
    ssize_t received;
    do {
        received = recvmsg(sockets[0], &message, MSG_CMSG_CLOEXEC);
    } while (received < 0 && errno == EINTR);
    close(sockets[0]);
    struct cmsghdr *header = received == 1 ? CMSG_FIRSTHDR(&message) : NULL;
    if (!header || header->cmsg_type != SCM_RIGHTS || header->cmsg_len != CMSG_LEN(sizeof(int))) {
        // The child could not load the filter (it exited 125): reap it and say so.
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        return -EPERM;
    }
    memcpy(listener, CMSG_DATA(header), sizeof(int));
    return child;
}

#endif
