// VigilSeccomp: syscall tables, seccomp profiles from learned syscalls, enforcement (in progress).
