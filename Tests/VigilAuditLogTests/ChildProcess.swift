#if canImport(Glibc)
    import Glibc
#endif

/// Starts programs for the tests the way a daemon would want to be started: with no descriptor of the test process
/// but stdin, stdout and stderr, every signal unblocked and every handler reset.
enum ChildProcess {
    /// Starts a program with stdout and stderr going to `output` (the test's own when nil); returns its pid, or -1.
    static func spawn(_ arguments: [String], output: String? = nil) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let output {
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // SwiftNIO opens its sockets without close-on-exec: without this, a daemon would keep the listening
        // sockets of servers that tests running alongside have already closed.
        if let addCloseFrom = closeFromAction() { _ = addCloseFrom(&actions, 3) }
        // Unblock every signal and reset handlers: the test process blocks some (SIGTERM among them) on its
        // threads, and a child inherits that mask.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        guard posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ) == 0 else { return -1 }
        return pid
    }

    /// Runs a program to completion with its output in `output` (the test's own when nil); returns its exit
    /// status, or -1.
    @discardableResult
    static func run(_ arguments: [String], output: String? = nil) -> Int32 {
        let pid = spawn(arguments, output: output)
        return pid > 0 ? wait(pid) : -1
    }

    /// Waits for a child; returns its exit status, or -1 when a signal ended it.
    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return status & 0x7f == 0 ? (status >> 8) & 0xff : -1
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), looked up at run time because
    /// `spawn.h` declares it only under `_GNU_SOURCE`, which Swift's Glibc module does not define.
    private static func closeFromAction()
        -> (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)?
    {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(
            symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }
}
