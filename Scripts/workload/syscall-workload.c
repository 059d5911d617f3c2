// A syscall workload for measuring what a syscall sensor costs (Scripts/ebpf-overhead.sh compiles it with
// `cc -O2`). It times itself with CLOCK_MONOTONIC and prints `key=value` pairs on one line of stdout.
//
//   syscall-workload --file PATH [--pairs N] [--execs N]
//       The fixed workload: N open+close pairs of PATH (default 200000), then N fork+exec of /bin/true
//       (default 5000), waiting for each child. Prints
//       `elapsed=S open_close=S fork_exec=S open_close_cpu=S pairs=N execs=N` (open_close_cpu: the CPU time,
//       user and system, the open+close loop used).
//   syscall-workload --file PATH --seconds S
//       Flat out: open+close pairs of PATH for S seconds. Prints `pairs=N elapsed=S rate=R`.
//   syscall-workload --file PATH --rate N --seconds S
//       Paced: N open+close pairs per second for S seconds, spread over 1 ms ticks. Prints
//       `pairs=N elapsed=S rate=R target=N`; a rate below the target means the generator could not keep up.
//
// PATH is created when missing and then opened read-only, by its absolute path (openat(AT_FDCWD, ...)).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "syscall-workload: %s: %s\n", what, strerror(errno));
    exit(1);
}

/// One open+close pair; the result is checked so a wrong path cannot silently make the calls cheap.
static inline void open_close(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(path);
    close(fd);
}

/// One fork+exec of /bin/true, waiting for the child.
static void fork_exec_true(void) {
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        char *const arguments[] = {"true", NULL};
        execv("/bin/true", arguments);
        _exit(127);
    }
    int status = 0;
    if (waitpid(child, &status, 0) < 0) die("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "syscall-workload: /bin/true failed (status %d)\n", status);
        exit(1);
    }
}

/// CPU time this process has used, user and system: unlike the elapsed time, it does not grow while other
/// processes of a busy machine hold the CPU, so it shows what tracing adds to the process's own syscalls.
static double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static void fixed(const char *path, long pairs, long execs) {
    double start = now_seconds(), cpu_start = cpu_seconds();
    for (long i = 0; i < pairs; i++) open_close(path);
    double middle = now_seconds(), cpu_middle = cpu_seconds();
    for (long i = 0; i < execs; i++) fork_exec_true();
    double end = now_seconds();
    printf("elapsed=%.6f open_close=%.6f fork_exec=%.6f open_close_cpu=%.6f pairs=%ld execs=%ld\n", end - start,
           middle - start, end - middle, cpu_middle - cpu_start, pairs, execs);
}

static void flat_out(const char *path, double seconds) {
    double start = now_seconds(), end = start + seconds, now = start;
    long pairs = 0;
    while (now < end) {
        // Read the clock once per 256 pairs: it costs little, but it is not what is being measured.
        for (int i = 0; i < 256; i++) open_close(path);
        pairs += 256;
        now = now_seconds();
    }
    double elapsed = now - start;
    printf("pairs=%ld elapsed=%.6f rate=%.0f\n", pairs, elapsed, pairs / elapsed);
}

static void paced(const char *path, double rate, double seconds) {
    // Each 1 ms tick owes rate/1000 pairs; the fraction carries over. Sleeping to an absolute deadline keeps
    // the long-run rate exact; a tick that overruns is caught up on the next ones.
    const long tick_ns = 1000000;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    double start = now_seconds(), owed = 0;
    long pairs = 0, ticks = (long)(seconds * 1000);
    for (long tick = 0; tick < ticks; tick++) {
        owed += rate / 1000.0;
        while (owed >= 1) {
            open_close(path);
            pairs++;
            owed -= 1;
        }
        deadline.tv_nsec += tick_ns;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_nsec -= 1000000000L;
            deadline.tv_sec += 1;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR) {}
    }
    double elapsed = now_seconds() - start;
    printf("pairs=%ld elapsed=%.6f rate=%.0f target=%.0f\n", pairs, elapsed, pairs / elapsed, rate);
}

static void usage(void) {
    fprintf(stderr, "usage: syscall-workload --file PATH [--pairs N] [--execs N]\n"
                    "       syscall-workload --file PATH --seconds S [--rate N]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *path = NULL;
    long pairs = 200000, execs = 5000;
    double rate = 0, seconds = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) usage();
        if (strcmp(argv[i], "--file") == 0) path = argv[++i];
        else if (strcmp(argv[i], "--pairs") == 0) pairs = atol(argv[++i]);
        else if (strcmp(argv[i], "--execs") == 0) execs = atol(argv[++i]);
        else if (strcmp(argv[i], "--rate") == 0) rate = atof(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[++i]);
        else usage();
    }
    if (!path || path[0] != '/' || pairs < 0 || execs < 0 || rate < 0 || seconds < 0) usage();
    if (rate > 0 && seconds <= 0) usage();

    int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) die(path);
    close(fd);

    if (seconds > 0 && rate > 0) paced(path, rate, seconds);
    else if (seconds > 0) flat_out(path, seconds);
    else fixed(path, pairs, execs);
    return 0;
}
