import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Ends a test that cannot run where CI requires it to; the test fails with this message.
struct TestCannotRun: Error, CustomStringConvertible {
    var description: String
}

/// Ends a test that needs root when this process is not root: a failure when CI is "true" (so CI never
/// passes without running it), a skip elsewhere.
func requireRoot(_ what: String) throws {
    guard geteuid() != 0 else { return }
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        throw TestCannotRun(description: "needs root under CI: \(what)")
    }
    try Test.cancel("needs root: \(what); skipped outside CI")
}

/// A fresh directory for one test's files, with symbolic links resolved; the caller removes it.
func makeTemporaryDirectory() throws -> String {
    var template = Array("/tmp/vigil-linux-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    try #require(made != nil, "mkdtemp failed: errno \(errno)")
    return try realPath(String(cString: made!))
}

/// Removes a directory tree made by a test.
func removeTree(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// The canonical absolute path of an existing file.
func realPath(_ path: String) throws -> String {
    let resolved = try #require(realpath(path, nil), "realpath(\(path)) failed: errno \(errno)")
    defer { free(resolved) }
    return String(cString: resolved)
}

/// Where `PATH` finds a program, resolved like `realpath $(which name)`.
func which(_ name: String) throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") where access("\(directory)/\(name)", X_OK) == 0 {
        return try realPath("\(directory)/\(name)")
    }
    throw TestCannotRun(description: "\(name) is not on PATH")
}

/// Writes a file, creating or replacing it.
func writeFile(_ path: String, _ contents: String) throws {
    try contents.write(toFile: path, atomically: false, encoding: .utf8)
}

/// The current time of a clock in nanoseconds.
func clockNanoseconds(_ clock: clockid_t) -> UInt64 {
    var time = timespec()
    clock_gettime(clock, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Polls `condition` every 10 ms for up to `seconds`; returns whether it became true.
func waitUntil(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = clockNanoseconds(CLOCK_MONOTONIC) + UInt64(seconds * 1e9)
    while clockNanoseconds(CLOCK_MONOTONIC) < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// The signature of glibc's `posix_spawn_file_actions_addchdir_np`.
private typealias AddChdir =
    @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) ->
    Int32

/// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+), which the Glibc module does not import: it sets the
/// child's working directory without changing this process's, which concurrently running tests share.
private let addChdir = unsafeBitCast(dlsym(nil, "posix_spawn_file_actions_addchdir_np")!, to: AddChdir.self)

/// A child process started with posix_spawn, its output sent to /dev/null (no pipes: their reads trap when
/// a signal interrupts them). ``stop()`` kills and reaps it; call it in a `defer`.
final class ChildProcess {
    /// The child's pid.
    let pid: pid_t
    private var reaped = false

    /// Starts `executable` with `arguments` (starting with `argv[0]`), optionally in `workingDirectory`.
    init(_ executable: String, _ arguments: [String], workingDirectory: String? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        if let workingDirectory { try #require(addChdir(&actions, workingDirectory) == 0) }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        var result = posix_spawn(&pid, executable, &actions, nil, &argv, environ)
        // A program the test has just written can be "busy" for a moment: a child another test forks meanwhile
        // inherits the copy's write descriptor until it execs. Wait for that to pass.
        for _ in 0..<100 where result == ETXTBSY {
            usleep(20_000)
            result = posix_spawn(&pid, executable, &actions, nil, &argv, environ)
        }
        try #require(result == 0, "posix_spawn \(executable) failed: errno \(result)")
        self.pid = pid
    }

    /// Kills the child with SIGKILL and waits for it, once.
    func stop() {
        guard !reaped else { return }
        reaped = true
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
