// Seccomp tests (in progress).
