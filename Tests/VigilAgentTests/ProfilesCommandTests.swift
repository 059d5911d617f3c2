import Foundation
import Testing
import VigilCore
import VigilSeccomp
import VigilTestKit

@Suite("vigil-agent profiles and stores")
struct ProfilesCommandTests {
    /// A learn file with an exec, file opens, a DNS query and syscall usage of one workload.
    func writeLearnFile(to url: URL) throws -> String {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(namespace: "shop", deployment: "web", image: "web:1")
        var events = [
            b.exec(pid: 10, executable: "/usr/bin/python3", arguments: ["python3", "app.py"], workload: web),
            b.open(pid: 10, path: "/srv/app.py", workload: web), b.dns(pid: 10, name: "db.internal", workload: web),
        ]
        for number: Int32 in [0, 1, 3, 59, 231, 257] {
            events.append(
                Event(
                    time: b.time, kind: .syscall, process: EventBuilder.process(10), workload: web,
                    fields: .syscall(SyscallFields(number: number, architecture: 0xc000_003e))))
        }
        try writeEvents(events, symbols: symbols, to: url)
        return symbols.workload(web).profileName
    }

    @Test("profiles learned by one replay persist and detect in a later one", arguments: ["sqlite", "files"])
    func persistence(kind: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store =
            kind == "sqlite"
            ? "sqlite:" + directory.appendingPathComponent("vigil.sqlite").path
            : "files:" + directory.appendingPathComponent("profiles").path
        let learnFile = directory.appendingPathComponent("learn.jsonl")
        let name = try writeLearnFile(to: learnFile)
        let learned = try runAgent(["replay", "--learn", learnFile.path, "--detect", learnFile.path, "--store", store])
        #expect(learned.status == 0, "stderr: \(learned.stderr)")
        #expect(learned.stdout.isEmpty, "the learn data itself was flagged")

        let list = try runAgent(["profiles", "list", "--store", store])
        #expect(list.status == 0, "stderr: \(list.stderr)")
        #expect(list.stdout.contains("completed workload  \(name)"), "list: \(list.stdout)")

        let show = try runAgent(["profiles", "show", name, "--store", store])
        let profile = try #require(try JSONParser.parse(show.stdout).object)
        #expect(profile["state"]?.string == "completed")
        #expect(profile["executables"]?["/usr/bin/python3"]?.array?.first?.string == "app.py")
        #expect(profile["files"]?["/srv/app.py"]?.string == "r--")
        #expect(profile["dns"]?.array?.first?.string == "db.internal")

        // A new run that only detects uses the stored profile.
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        let web = b.workload(namespace: "shop", deployment: "web", image: "web:1")
        let suspect = directory.appendingPathComponent("suspect.jsonl")
        try writeEvents([b.exec(pid: 11, executable: "/bin/sh", workload: web)], symbols: symbols, to: suspect)
        let detected = try runAgent(["replay", "--detect", suspect.path, "--store", store])
        #expect(detected.status == 0, "stderr: \(detected.stderr)")
        #expect(detected.stdout.contains("\"rule\":{\"id\":\"profile.unexpected-process\""))

        // Reopened, it learns again and stops flagging.
        let reopened = try runAgent(["profiles", "reopen", name, "--store", store])
        #expect(reopened.status == 0, "stderr: \(reopened.stderr)")
        let relist = try runAgent(["profiles", "list", "--store", store])
        #expect(relist.stdout.contains("learning  workload  \(name)"))
        let quiet = try runAgent(["replay", "--detect", suspect.path, "--store", store])
        #expect(quiet.stdout.isEmpty)

        let missing = try runAgent(["profiles", "show", "nope", "--store", store])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no profile named 'nope'"))
    }

    @Test("a workload's learned syscalls export as a seccomp profile libseccomp accepts")
    func exportSeccomp() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = "sqlite:" + directory.appendingPathComponent("vigil.sqlite").path
        let learnFile = directory.appendingPathComponent("learn.jsonl")
        let name = try writeLearnFile(to: learnFile)
        #expect(
            try runAgent(["replay", "--learn", learnFile.path, "--detect", learnFile.path, "--store", store]).status
                == 0)
        let exported = try runAgent(["profiles", "export-seccomp", name, "--mode", "enforce", "--store", store])
        #expect(exported.status == 0, "stderr: \(exported.stderr)")
        let profile = try SeccompProfile(ociJSON: exported.stdout)
        #expect(profile.allowedSyscalls == ["close", "execve", "exit_group", "openat", "read", "write"])
        #expect(!exported.stdout.contains("unknown"))
        #expect(exported.stdout.contains("SCMP_ACT_ERRNO"))
        #expect(try SeccompFilter.compile(profile, mode: .enforce).programBytes > 0)
    }

    @Test("a bad --store is refused with a clear message")
    func badStore() throws {
        let result = try runAgent(["profiles", "list", "--store", "postgres://x"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("is not a store"))
    }
}

@Suite("vigil-exec with a learned profile")
struct VigilExecProfileTests {
    @Test("a command run in enforce mode is denied a syscall outside its learned profile; its learned work succeeds")
    func enforceLearnedProfile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = "sqlite:" + directory.appendingPathComponent("vigil.sqlite").path
        // The learned usage: every native syscall except mkdir and mkdirat, as a workload that never makes
        // directories would show while learning.
        let symbols = SymbolTable()
        let b = EventBuilder(symbols: symbols)
        let tool = b.workload(namespace: "jobs", deployment: "tool", image: "tool:1")
        let native = SeccompArchitecture.native
        let events = SyscallTable.allNames(architecture: native).filter { $0 != "mkdir" && $0 != "mkdirat" }
            .compactMap { SyscallTable.number(of: $0, architecture: native) }
            .map { number in
                Event(
                    time: b.time, kind: .syscall, process: EventBuilder.process(7), workload: tool,
                    fields: .syscall(SyscallFields(number: number, architecture: native.auditArchitecture)))
            }
        let learnFile = directory.appendingPathComponent("learn.jsonl")
        try writeEvents(events, symbols: symbols, to: learnFile)
        let learned = try runAgent(["replay", "--learn", learnFile.path, "--detect", learnFile.path, "--store", store])
        #expect(learned.status == 0, "stderr: \(learned.stderr)")
        let name = symbols.workload(tool).profileName

        let denied = directory.appendingPathComponent("made-by-mkdir")
        let enforce = try runBinary(
            "vigil-exec", ["--profile", name, "--store", store, "--mode", "enforce", "--", "/bin/mkdir", denied.path])
        #expect(enforce.status != 0)
        #expect(enforce.stderr.contains("Operation not permitted"), "stderr: \(enforce.stderr)")
        #expect(!FileManager.default.fileExists(atPath: denied.path))

        let output = directory.appendingPathComponent("out.txt")
        let work = try runBinary(
            "vigil-exec",
            [
                "--profile", name, "--store", store, "--mode", "enforce", "--", "/bin/sh", "-c",
                "echo ok > \(output.path)",
            ])
        #expect(work.status == 0, "stderr: \(work.stderr)")
        #expect(try String(contentsOf: output, encoding: .utf8) == "ok\n")

        let logged = try runBinary(
            "vigil-exec", ["--profile", name, "--store", store, "--mode", "log", "--", "/bin/mkdir", denied.path])
        #expect(logged.status == 0, "log mode denied: \(logged.stderr)")
        #expect(FileManager.default.fileExists(atPath: denied.path))

        let unknown = try runBinary("vigil-exec", ["--profile", "nope", "--store", store, "--", "/bin/true"])
        #expect(unknown.status == 125)
        #expect(unknown.stderr.contains("no profile named 'nope'"))
    }
}
