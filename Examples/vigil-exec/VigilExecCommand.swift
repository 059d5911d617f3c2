import ArgumentParser
import Glibc
import VigilAgent
import VigilSeccomp

/// `vigil-exec`: runs a command under a seccomp profile learned for it.
@main
struct VigilExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-exec",
        abstract: "Run a command under a seccomp profile learned for it.",
        usage: """
            vigil-exec --profile <name> [--store <store>] [--mode <mode>] -- <command> [<argument> ...]
            vigil-exec --profile-file <path> [--mode <mode>] -- <command> [<argument> ...]
            vigil-exec --profile-file <path> --supervise -- <command> [<argument> ...]
            """,
        discussion: """
            The profile is an OCI / Kubernetes seccomp profile: the syscalls listed with SCMP_ACT_ALLOW run. \
            In log mode (the default) every other syscall runs too and the kernel logs it (audit log or kernel \
            log): an enforced profile that misses a syscall breaks the application, so a profile runs in log \
            mode until the log stays quiet. In enforce mode every other syscall fails with EPERM.

            With --supervise, vigil-exec stays as the command's parent and holds its seccomp listener: \
            syscalls outside the profile run and are reported until Vigil's response enforces the profile \
            (action enforce_seccomp), and from then on fail with EPERM. Needs Linux 5.5.

            The filter passes to every child of the command and sets no_new_privs, so set-user-ID programs \
            (sudo, su) no longer gain their owner's rights under it.

            Exit status: the command's own; 125 when vigil-exec fails before running it; 126 when the command \
            cannot be executed; 127 when it is not found.
            """)

    /// Exit status when vigil-exec itself fails, as `env` and `timeout` use it.
    static let failureStatus: Int32 = 125

    @OptionGroup var source: ProfileSource

    @Option(name: .long, help: "log: allow everything, log what the profile misses; enforce: deny it with EPERM.")
    var mode: SeccompMode = .log

    @Flag(help: "Stay as the command's supervisor: report what the profile misses until Vigil enforces it.")
    var supervise = false

    @Argument(parsing: .postTerminator, help: "The command to run and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else {
            throw ValidationError("give the command to run after --: vigil-exec --profile-file PATH -- CMD ARGS...")
        }
        if supervise && mode == .enforce {
            throw ValidationError("--supervise starts in log mode and enforces when Vigil asks: leave out --mode")
        }
    }

    func run() async throws {
        let profile: SeccompProfile
        do {
            profile = try await source.profile()
        } catch {
            throw failure("\(error)")
        }
        if supervise { try supervised(profile) }
        // execve is how the command starts: without it, enforce mode would fail every time, after the filter
        // is in place and with nothing to show for it. (execveat is not how execvp starts a program.)
        if mode == .enforce && !profile.allows("execve") {
            throw failure(
                "the profile does not allow execve, so in enforce mode \(command[0]) could never start; "
                    + "add execve to the profile, or run in log mode to see what else it misses")
        }

        // Build and report the filter before loading it: once it is loaded in enforce mode, vigil-exec may not
        // be allowed to write anything.
        let compiled: (programBytes: Int, unknownNames: [String])
        do {
            compiled = try SeccompFilter.compile(profile, mode: mode)
        } catch {
            throw failure("\(error)")
        }
        let others =
            mode == .enforce
            ? "any other fails with EPERM" : "any other runs too and the kernel logs it"
        let allowed = profile.allowedSyscalls.count - compiled.unknownNames.count
        report(
            "vigil-exec: \(mode.rawValue) mode: \(allowed) syscalls allowed, \(others) "
                + "(BPF program of \(compiled.programBytes) bytes)")
        if !compiled.unknownNames.isEmpty {
            report(
                "vigil-exec: \(compiled.unknownNames.count) names unknown on \(SeccompArchitecture.native.name), "
                    + "left out of the filter: \(compiled.unknownNames.joined(separator: ", "))")
        }

        // The argument vector is built before the filter is loaded, so that nothing between loading and
        // execvp needs memory from the kernel. It is never freed: the process is replaced or exits.
        var arguments: [UnsafeMutablePointer<CChar>?] = []
        for argument in command {
            guard let copy = strdup(argument) else { throw failure("out of memory while copying the arguments") }
            arguments.append(copy)
        }
        let program = arguments[0]!
        arguments.append(nil)
        do {
            _ = try SeccompFilter.install(profile, mode: mode)
        } catch {
            throw failure("\(error)")
        }
        execvp(program, arguments)
        let error = errno
        report("vigil-exec: cannot run \(command[0]): \(String(cString: strerror(error)))")
        throw ExitCode(error == ENOENT ? 127 : 126)
    }

    /// Runs the command as a supervised child and exits with its status.
    private func supervised(_ profile: SeccompProfile) throws -> Never {
        let supervisor: SeccompSupervisor
        do {
            supervisor = try SeccompSupervisor(profile: profile)
        } catch {
            throw failure("\(error)")
        }
        report(
            "vigil-exec: supervising \(command[0]): syscalls outside the profile run and are reported until "
                + "Vigil's response enforces it")
        let outcome: SeccompSupervisor.Outcome
        do {
            outcome = try supervisor.run(command, report: report)
        } catch {
            throw failure("\(error)")
        }
        throw ExitCode(outcome.status)
    }

    /// Reports a failure of vigil-exec itself and gives the exit that goes with it.
    private func failure(_ message: String) -> ExitCode {
        report("vigil-exec: \(message)")
        return ExitCode(Self.failureStatus)
    }
}

/// Where the seccomp profile comes from, and the one place that turns the options into a profile: a
/// workload profile learned by Vigil, looked up in a profile store, or an OCI profile file.
struct ProfileSource: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A learned workload profile's name, as `vigil-agent profiles list` prints it.", valueName: "name"))
    var profile: String?

    @Option(
        name: .long,
        help: "Where learned profiles live: sqlite:PATH (default sqlite:.vigil/vigil.sqlite), files:DIR or memory.")
    var store: String = StoreLocation.standard.description

    @Option(
        name: .long,
        help: ArgumentHelp("An OCI / Kubernetes seccomp profile (JSON), as Vigil writes them.", valueName: "path"))
    var profileFile: String?

    func validate() throws {
        guard (profile == nil) != (profileFile == nil) else {
            throw ValidationError("give the profile with either --profile NAME or --profile-file PATH")
        }
    }

    /// The profile the options name.
    func profile() async throws -> SeccompProfile {
        if let profileFile { return try SeccompProfile(ociFile: profileFile) }
        guard let profile else { throw ValidationError("give the profile with --profile NAME or --profile-file PATH") }
        let commands = ProfileCommands(store: try StoreLocation(parsing: store).open())
        let (seccomp, unresolved) = try await commands.seccompProfile(named: profile)
        if !unresolved.isEmpty {
            report(
                "vigil-exec: left out learned syscalls libseccomp cannot name: \(unresolved.joined(separator: ", "))")
        }
        return seccomp
    }
}

extension SeccompMode: ExpressibleByArgument {}

/// Writes one line to standard error, unbuffered, so it is out before the process is replaced.
func report(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { buffer in
            write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
        }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        offset += written
    }
}
