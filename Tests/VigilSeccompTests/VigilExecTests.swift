import Foundation
import Testing
import VigilSeccomp

/// Runs the real `vigil-exec` binary on real commands. Seccomp filters need no privilege (libseccomp sets
/// no_new_privs), so these run as any user.
@Suite("vigil-exec")
struct VigilExecTests {
    /// Every syscall of this architecture but the two that create directories.
    static func everythingButMkdir() -> SeccompProfile {
        SeccompProfile(
            allowedSyscalls: SyscallTable.allNames(architecture: .native).filter { $0 != "mkdir" && $0 != "mkdirat" })
    }

    /// Writes `profile` for `mode` into `directory` and returns the file's path.
    static func write(_ profile: SeccompProfile, mode: SeccompMode, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent("profile-\(mode.rawValue).json")
        try profile.ociJSON(mode: mode).write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("enforce mode denies what the profile misses and runs what it allows")
    func enforce() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let profileFile = try Self.write(Self.everythingButMkdir(), mode: .enforce, in: directory)

        let target = directory.appendingPathComponent("made-by-mkdir")
        let denied = try runVigilExec([
            "--profile-file", profileFile, "--mode", "enforce", "--", "/bin/mkdir", target.path,
        ])
        #expect(denied.status != 0)
        #expect(denied.stderr.contains("Operation not permitted"), "\(denied.stderr)")
        #expect(denied.stderr.contains("vigil-exec: enforce mode:"), "\(denied.stderr)")
        #expect(!FileManager.default.fileExists(atPath: target.path))

        // The work the profile was learned from still runs: a shell found through PATH, writing a file.
        let output = directory.appendingPathComponent("out.txt")
        let allowed = try runVigilExec([
            "--profile-file", profileFile, "--mode", "enforce", "--", "sh", "-c", "echo ok > '\(output.path)'",
        ])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(try String(contentsOf: output, encoding: .utf8) == "ok\n")
    }

    @Test("log mode denies nothing: what the profile misses still runs")
    func log() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let profileFile = try Self.write(Self.everythingButMkdir(), mode: .log, in: directory)
        let target = directory.appendingPathComponent("made-by-mkdir")
        // No --mode: log is the default.
        let result = try runVigilExec(["--profile-file", profileFile, "--", "/bin/mkdir", target.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("vigil-exec: log mode:"), "\(result.stderr)")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: target.path, isDirectory: &isDirectory) && isDirectory.boolValue)

        // A filter is in place all the same (mode 2 is "filter"), with no_new_privs set.
        let status = directory.appendingPathComponent("status.txt")
        let filtered = try runVigilExec([
            "--profile-file", profileFile, "--", "/bin/sh", "-c",
            "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status > '\(status.path)'",
        ])
        #expect(filtered.status == 0, "\(filtered.stderr)")
        let lines = try String(contentsOf: status, encoding: .utf8).split(separator: "\n").map {
            $0.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        #expect(lines == ["NoNewPrivs: 1", "Seccomp: 2"])
    }

    @Test("the command's exit status passes through")
    func exitStatus() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let profileFile = try Self.write(Self.everythingButMkdir(), mode: .enforce, in: directory)
        let result = try runVigilExec([
            "--profile-file", profileFile, "--mode", "enforce", "--", "/bin/sh", "-c", "exit 7",
        ])
        #expect(result.status == 7, "\(result.stderr)")
    }

    @Test("a profile without execve is refused in enforce mode before anything runs, and runs in log mode")
    func withoutExecve() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var profile = Self.everythingButMkdir()
        profile.allowedSyscalls.removeAll { $0 == "execve" }
        let output = directory.appendingPathComponent("out.txt")
        let command = ["--", "/bin/sh", "-c", "echo ok > '\(output.path)'"]

        let enforceFile = try Self.write(profile, mode: .enforce, in: directory)
        let refused = try runVigilExec(["--profile-file", enforceFile, "--mode", "enforce"] + command)
        #expect(refused.status == 125)
        #expect(refused.stderr.contains("the profile does not allow execve"), "\(refused.stderr)")
        #expect(refused.stderr.contains("/bin/sh could never start"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output.path))

        let logFile = try Self.write(profile, mode: .log, in: directory)
        let logged = try runVigilExec(["--profile-file", logFile, "--mode", "log"] + command)
        #expect(logged.status == 0, "\(logged.stderr)")
        #expect(try String(contentsOf: output, encoding: .utf8) == "ok\n")
    }

    @Test("names libseccomp does not know are reported and left out")
    func unknownNames() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var profile = Self.everythingButMkdir()
        profile.allowedSyscalls.append("vigil_no_such_syscall")
        let profileFile = try Self.write(profile, mode: .log, in: directory)
        let result = try runVigilExec(["--profile-file", profileFile, "--", "/bin/true"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains(
                "1 names unknown on \(SeccompArchitecture.native.name), left out of the filter: vigil_no_such_syscall"),
            "\(result.stderr)")
        // The count is of the syscalls in the filter, without the unknown name.
        #expect(result.stderr.contains("\(profile.allowedSyscalls.count - 1) syscalls allowed"), "\(result.stderr)")
    }

    @Test("a missing or broken profile file is a clear error, and the command does not run")
    func badProfileFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.txt")
        let command = ["--", "/bin/sh", "-c", "echo ok > '\(output.path)'"]

        let missing = directory.appendingPathComponent("missing.json").path
        let noFile = try runVigilExec(["--profile-file", missing] + command)
        #expect(noFile.status == 125)
        #expect(noFile.stderr.contains("cannot open the profile file \(missing)"), "\(noFile.stderr)")
        #expect(noFile.stderr.contains("No such file or directory"), "\(noFile.stderr)")

        let broken = directory.appendingPathComponent("broken.json")
        try #"{"defaultAction": "SCMP_ACT_ALLOW"}"#.write(to: broken, atomically: true, encoding: .utf8)
        let allowByDefault = try runVigilExec(["--profile-file", broken.path] + command)
        #expect(allowByDefault.status == 125)
        #expect(allowByDefault.stderr.contains("'defaultAction'"), "\(allowByDefault.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test("a command that cannot be found or run exits 127 or 126, as a shell does")
    func commandFailures() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let profileFile = try Self.write(Self.everythingButMkdir(), mode: .enforce, in: directory)

        let missing = directory.appendingPathComponent("no-such-command").path
        let notFound = try runVigilExec(["--profile-file", profileFile, "--mode", "enforce", "--", missing])
        #expect(notFound.status == 127)
        #expect(notFound.stderr.contains("vigil-exec: cannot run \(missing): No such file or directory"))

        let notExecutable = directory.appendingPathComponent("not-executable")
        try "echo hi\n".write(to: notExecutable, atomically: true, encoding: .utf8)
        let denied = try runVigilExec(["--profile-file", profileFile, "--", notExecutable.path])
        #expect(denied.status == 126)
        #expect(denied.stderr.contains("vigil-exec: cannot run \(notExecutable.path): Permission denied"))
    }

    @Test("usage errors: no command, no profile")
    func usage() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let profileFile = try Self.write(Self.everythingButMkdir(), mode: .log, in: directory)
        let noCommand = try runVigilExec(["--profile-file", profileFile])
        #expect(noCommand.status != 0)
        #expect(noCommand.stderr.contains("give the command to run after --"), "\(noCommand.stderr)")
        let noProfile = try runVigilExec(["--", "/bin/true"])
        #expect(noProfile.status != 0)
        #expect(noProfile.stderr.contains("--profile-file"), "\(noProfile.stderr)")
    }
}
