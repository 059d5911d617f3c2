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
            defer { Self.run(["/bin/rm", "-rf", directory], output: "/dev/null") }
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
            let daemon = Self.spawn([auditd, "-n", "-c", directory], output: directory + "/auditd.out")
            try #require(daemon > 0, "cannot start \(auditd)")
            defer {
                #expect(Self.stop(daemon), "auditd did not stop on SIGTERM")
                // auditd leaves auditing enabled when it exits; put back what the test found.
                Self.run([KernelAuditTests.auditctl, "-e", "\(before.enabled)"], output: directory + "/auditctl.out")
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
            let added = Self.run([KernelAuditTests.auditctl, "-a"] + rule, output: directory + "/auditctl.out")
            try #require(added == 0, "auditctl could not add the rule: \(Self.text(directory + "/auditctl.out"))")
            defer { Self.run([KernelAuditTests.auditctl, "-d"] + rule, output: directory + "/auditctl.out") }

            let marker = "vigil-auditd-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let child = Self.spawn([program, marker, "second argument"], output: "/dev/null")
            try #require(child > 0)
            #expect(Self.wait(child) == 0)

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

        /// Starts a program with stdout and stderr going to `output` and no other descriptor of the test process;
        /// returns its pid, or -1.
        static func spawn(_ arguments: [String], output: String) -> pid_t {
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            // SwiftNIO opens its sockets without close-on-exec: without this, the daemon would keep the listening
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

        /// Runs a program to completion with its output in `output`; returns its exit status, or -1.
        @discardableResult
        static func run(_ arguments: [String], output: String) -> Int32 {
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
        static func closeFromAction()
            -> (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)?
        {
            guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
            return unsafeBitCast(
                symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
        }

        /// Reads `enabled` and `pid` from `auditctl -s`.
        static func status(in directory: String) throws -> KernelAuditStatus {
            let output = directory + "/auditctl-status.out"
            run([KernelAuditTests.auditctl, "-s"], output: output)
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
