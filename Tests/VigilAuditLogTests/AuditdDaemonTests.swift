import Testing
import VigilAuditLog
import VigilCore

#if canImport(Glibc)
    import Glibc
#endif

extension KernelAuditTests {
    /// The real audit daemon (Debian's `auditd`) writes a log that ``LinuxAuditFileSensor`` reads back.
    ///
    /// Nested in ``KernelAuditTests`` so that its `.serialized` trait covers this suite too: the daemon registers
    /// with the kernel as the audit daemon, which the netlink test does as well, and only one may at a time.
    @Suite("auditd daemon")
    struct AuditdDaemonTests {
        /// What `auditctl -s` reports.
        struct KernelAuditStatus {
            var enabled: Int
            var pid: Int32
        }

        @Test("an exec the test starts, logged by a private auditd, replays with its path, arguments, pid and uid")
        func execLoggedByAuditd() async throws {
            if geteuid() != 0 { try KernelAuditTests.unavailable("needs root to run auditd") }
            let candidates: [String] = ["/usr/sbin/auditd", "/sbin/auditd"]
            guard let auditd = candidates.first(where: { access($0, X_OK) == 0 }),
                access(KernelAuditTests.auditctl, X_OK) == 0
            else {
                try KernelAuditTests.unavailable(
                    "needs auditd and auditctl: `make deps` installs them (package auditd)")
            }
            let directory = TestData.temporaryDirectory()
            defer { ChildProcess.run(["/bin/rm", "-rf", directory], output: "/dev/null") }
            let before = try Self.status(in: directory)
            if before.pid != 0 {
                try KernelAuditTests.unavailable(
                    "another audit daemon (pid \(before.pid)) is registered with the kernel; stop it to run this test")
            }

            // A private configuration: a raw log in the temporary directory, written through on every record, no
            // plugins, no disk-space actions, no network listener.
            let log = directory + "/audit.log"
            mkdir(directory + "/plugins", 0o755)
            TestData.write(
                directory + "/auditd.conf",
                """
                local_events = yes
                write_logs = yes
                log_file = \(log)
                log_group = root
                log_format = RAW
                flush = DATA
                freq = 0
                max_log_file = 0
                num_logs = 0
                max_log_file_action = IGNORE
                priority_boost = 0
                name_format = NONE
                space_left = 2
                space_left_action = IGNORE
                admin_space_left = 1
                admin_space_left_action = IGNORE
                disk_full_action = IGNORE
                disk_error_action = IGNORE
                plugin_dir = \(directory)/plugins

                """)
            chmod(directory + "/auditd.conf", 0o640)  // auditd refuses a configuration others can write.
            // A private copy of /bin/true, so the rule matches only the process this test starts.
            let program = directory + "/vigil-true"
            try #require(Self.copy("/bin/true", to: program), "cannot copy /bin/true to \(program)")

            // `-n`: stay in the foreground and write the log (`-f` would send the records to stderr instead).
            let daemon = ChildProcess.spawn([auditd, "-n", "-c", directory], output: directory + "/auditd.out")
            try #require(daemon > 0, "cannot start \(auditd)")
            defer {
                #expect(Self.stop(daemon), "auditd did not stop on SIGTERM")
                // auditd leaves auditing enabled when it exits; put back what the test found.
                ChildProcess.run(
                    [KernelAuditTests.auditctl, "-e", "\(before.enabled)"], output: directory + "/auditctl.out")
            }
            var registered = false
            for _ in 0..<500 {
                if try Self.status(in: directory).pid == daemon {
                    registered = true
                    break
                }
                var status: Int32 = 0
                if waitpid(daemon, &status, WNOHANG) == daemon { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            try #require(registered, "auditd did not register with the kernel: \(Self.text(directory + "/auditd.out"))")

            let key = "vigil_auditd_\(getpid())"
            let rule = ["always,exit", "-F", "arch=b64", "-S", "execve", "-F", "path=\(program)", "-k", key]
            let added = ChildProcess.run([KernelAuditTests.auditctl, "-a"] + rule, output: directory + "/auditctl.out")
            try #require(added == 0, "auditctl could not add the rule: \(Self.text(directory + "/auditctl.out"))")
            defer { ChildProcess.run([KernelAuditTests.auditctl, "-d"] + rule, output: directory + "/auditctl.out") }

            let marker = "vigil-auditd-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let child = ChildProcess.spawn([program, marker, "second argument"], output: "/dev/null")
            try #require(child > 0)
            #expect(ChildProcess.wait(child) == 0)

            // Wait for the exec's last record (PROCTITLE) in the log; this bounds a wait, it does not time the code.
            var logged = false
            for _ in 0..<500 where !logged {
                logged = Self.hasCompleteEvent(key: key, in: Self.text(log))
                if !logged { try await Task.sleep(for: .milliseconds(20)) }
            }
            try #require(logged, "auditd did not log the exec with key \(key) within 10 s")

            let symbols = SymbolTable()
            let (events, statistics) = try await replayLinuxAudit(log, symbols: symbols)
            let exec = try #require(
                events.first { $0.kind == .processExec && $0.process.pid == child },
                "no exec of pid \(child) among \(events.count) events; \(statistics)")
            guard case .process(let fields) = exec.fields else {
                Issue.record("the exec event has no process fields")
                return
            }
            #expect(symbols.string(fields.executable) == program)
            #expect(ArgumentList.split(symbols.string(fields.arguments)) == [program, marker, "second argument"])
            #expect(!fields.argumentsTruncated)
            #expect(fields.parent.pid == getpid())
            #expect(exec.uid == getuid())
            #expect(fields.effectiveUID == geteuid())
            var cwd = [CChar](repeating: 0, count: Int(PATH_MAX))
            #expect(symbols.string(fields.workingDirectory) == String(cString: getcwd(&cwd, cwd.count)))
            #expect(statistics.skipped.isEmpty, "\(statistics.skipped)")
        }

        // MARK: - Helpers

        /// Reads `enabled` and `pid` from `auditctl -s`.
        static func status(in directory: String) throws -> KernelAuditStatus {
            let output = directory + "/auditctl-status.out"
            ChildProcess.run([KernelAuditTests.auditctl, "-s"], output: output)
            var result = KernelAuditStatus(enabled: -1, pid: -1)
            for line in text(output).split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard parts.count == 2 else { continue }
                if parts[0] == "enabled" { result.enabled = Int(parts[1]) ?? -1 }
                if parts[0] == "pid" { result.pid = Int32(parts[1]) ?? -1 }
            }
            try #require(result.enabled >= 0 && result.pid >= 0, "cannot read `auditctl -s`")
            return result
        }

        /// Stops auditd with SIGTERM (it logs its shutdown and unregisters), SIGKILL after 10 s; returns whether
        /// SIGTERM was enough.
        @discardableResult
        static func stop(_ daemon: pid_t) -> Bool {
            kill(daemon, SIGTERM)
            var status: Int32 = 0
            for _ in 0..<500 {
                if waitpid(daemon, &status, WNOHANG) != 0 { return true }
                usleep(20_000)
            }
            kill(daemon, SIGKILL)
            while waitpid(daemon, &status, 0) < 0, errno == EINTR {}
            return false
        }

        /// A file's text.
        static func text(_ path: String) -> String { String(decoding: TestData.read(path), as: UTF8.self) }

        /// Copies a file and makes the copy executable.
        static func copy(_ source: String, to destination: String) -> Bool {
            let bytes = TestData.read(source)
            guard !bytes.isEmpty, let file = fopen(destination, "wb") else { return false }
            let written = fwrite(bytes, 1, bytes.count, file)
            fclose(file)
            return written == bytes.count && chmod(destination, 0o755) == 0
        }

        /// Whether the log holds the SYSCALL record with `key` and the PROCTITLE record of the same event.
        static func hasCompleteEvent(key: String, in text: String) -> Bool {
            let lines = text.split(separator: "\n")
            // Every record starts `type=NAME msg=audit(<time>:<serial>): `; the stamp identifies the event.
            guard let syscall = lines.first(where: { $0.hasPrefix("type=SYSCALL") && $0.contains("key=\"\(key)\"") }),
                let stamp = syscall.split(separator: " ").dropFirst().first
            else { return false }
            return lines.contains { $0.hasPrefix("type=PROCTITLE \(stamp) ") }
        }
    }
}
