import Foundation
import Testing
import VigilSeccomp

/// A Python loop that calls getpriority every 20 ms and prints whether it was allowed, until told to stop by
/// the file named in its argument.
private let priorityLoop = """
    import os, sys, time
    while not os.path.exists(sys.argv[1]):
        try:
            os.getpriority(os.PRIO_PROCESS, 0)
            print("ok", flush=True)
        except PermissionError:
            print("denied", flush=True)
        time.sleep(0.02)
    """

/// The lines the loop has printed so far.
private func lines(_ url: URL) -> [String] {
    ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
}

@Suite("vigil-exec --supervise", .serialized)
struct SupervisedExecTests {
    @Test("a supervised command runs what its profile misses until enforcement is asked for, then gets EPERM")
    func enforcementOnRequest() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let profile = SeccompProfile(
            allowedSyscalls: SyscallTable.allNames(architecture: .native).filter { $0 != "getpriority" })
        let profileFile = directory.appendingPathComponent("profile.json")
        try profile.ociJSON(mode: .log).write(to: profileFile, atomically: true, encoding: .utf8)
        let script = directory.appendingPathComponent("loop.py")
        try priorityLoop.write(to: script, atomically: true, encoding: .utf8)
        let stop = directory.appendingPathComponent("stop")
        let output = directory.appendingPathComponent("out.txt")
        let errors = directory.appendingPathComponent("err.txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)

        let supervisor = Process()
        supervisor.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("vigil-exec")
        supervisor.arguments = [
            "--profile-file", profileFile.path, "--supervise", "--", "/usr/bin/python3", script.path, stop.path,
        ]
        supervisor.standardOutput = try FileHandle(forWritingTo: output)
        supervisor.standardError = try FileHandle(forWritingTo: errors)
        try supervisor.run()
        defer {
            _ = FileManager.default.createFile(atPath: stop.path, contents: nil)
            if supervisor.isRunning { kill(supervisor.processIdentifier, SIGKILL) }
        }

        // Watching: the call the profile misses runs, and is reported by name.
        for _ in 0..<200 where !lines(output).contains("ok") { try await Task.sleep(for: .milliseconds(25)) }
        #expect(lines(output).contains("ok"), "stderr: \(lines(errors))")
        #expect(!lines(output).contains("denied"))
        #expect(lines(errors).contains { $0.contains("made getpriority, which the profile does not hold") })

        // The command is the supervisor's only child; the registry names it.
        let registered = try FileManager.default.contentsOfDirectory(atPath: SupervisedWorkloads.directory)
            .compactMap { Int32($0) }
        let child = try #require(
            registered.first { pid in
                (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?
                    .split(separator: ")").last?.split(separator: " ").dropFirst().first
                    == Substring("\(supervisor.processIdentifier)")
            }, "no registration for a child of \(supervisor.processIdentifier): \(registered)")
        #expect(try SupervisedWorkloads.requestEnforcement(pid: child) == supervisor.processIdentifier)
        let okBefore = lines(output).filter { $0 == "ok" }.count
        for _ in 0..<200 where !lines(output).contains("denied") { try await Task.sleep(for: .milliseconds(25)) }
        let after = lines(output)
        #expect(after.contains("denied"), "stderr: \(lines(errors))")
        // Once enforced, never allowed again.
        let firstDenied = after.firstIndex(of: "denied") ?? after.count
        #expect(!after[firstDenied...].contains("ok"))
        #expect(after[..<firstDenied].filter { $0 == "ok" }.count >= okBefore)

        _ = FileManager.default.createFile(atPath: stop.path, contents: nil)
        supervisor.waitUntilExit()
        #expect(supervisor.terminationStatus == 0, "stderr: \(lines(errors))")
        #expect(!FileManager.default.fileExists(atPath: "\(SupervisedWorkloads.directory)/\(child)"))
    }

    @Test("enforcement cannot be asked for a process no supervisor started")
    func notSupervised() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
        process.arguments = ["30"]
        try process.run()
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        #expect(throws: SeccompError.self) {
            try SupervisedWorkloads.requestEnforcement(pid: process.processIdentifier)
        }
        #expect(process.isRunning)
    }
}
