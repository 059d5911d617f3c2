import Testing
import VigilAuditLog
import VigilCore

@Suite("Linux audit logs")
struct LinuxAuditTests {
    // Source: elastic/go-libaudit @bc9ea458 (testdata, auparse/testdata, aucoalesce/testdata) and
    // OTRF/Security-Datasets @d9d40ef1 (otrf/), under /work/shared/data/linux-audit/.
    // The .log files are raw auditd output: every non-blank line is a record, so nothing may be skipped.
    // The aucoalesce .yaml files hold records inside YAML block scalars (indented); their YAML structure
    // lines (`---`, `tests:`, case names, `#` comments) are the only lines that are not audit records.
    static let expectedNonRecordLines: [String: Int] = [
        "random-internet.yaml": 5, "rhel-7-linux-3.10.0.yaml": 12, "ubuntu-16.04-linux-4.13.0.yaml": 4,
        "ubuntu-16.10-linux-4.8.0.yaml": 16, "ubuntu-17.04-linux-4.10.0.yaml": 17,
        "ubuntu-20.04.6-linux-5.15.0-1034-gcp.yaml": 4, "ubuntu-21.10-linux-5.13.yaml": 8,
        "ubuntu-24.04-linux-6.8.0.yaml": 4,
    ]

    @Test("every file of the Linux audit corpus parses; only YAML structure lines are skipped")
    func wholeCorpus() async throws {
        let files = TestData.files(under: "linux-audit").filter { $0.hasSuffix(".log") || $0.hasSuffix(".yaml") }
        #expect(files.count == 21)
        var totalEvents = 0
        for file in files {
            let symbols = SymbolTable()
            let (events, statistics) = try await replayLinuxAudit(file, symbols: symbols)
            let name = String(file.split(separator: "/").last ?? "")
            var expected: [AuditSkipReason: Int] = [:]
            if let count = Self.expectedNonRecordLines[name] { expected[.notAuditRecord] = count }
            // audit-rhel7.log line 31 is `type=UNKNOWN[1329] msg=?`: auditd could not stamp that record.
            if name == "audit-rhel7.log" { expected[.noTimestamp] = 1 }
            #expect(statistics.skipped == expected, "\(name)")
            #expect(statistics.badHexFields == 0, "\(name)")
            #expect(statistics.records > 0, "\(name)")
            #expect(statistics.events == events.count)
            #expect(!events.isEmpty, "\(name)")
            totalEvents += events.count
        }
        #expect(totalEvents > 100)
    }

    @Test("an execve with its EXECVE arguments and CWD (go-libaudit testdata/normal.log)")
    func execWithArguments() async throws {
        let symbols = SymbolTable()
        let (events, _) = try await replayLinuxAudit(
            TestData.path("linux-audit/go-libaudit/testdata/normal.log"), symbols: symbols)
        let exec = try #require(events.first { $0.kind == .processExec && $0.process.pid == 13393 })
        guard case .process(let fields) = exec.fields else { Issue.record("not process fields"); return }
        #expect(symbols.string(fields.executable) == "/usr/bin/grep")
        #expect(ArgumentList.split(symbols.string(fields.arguments)) == ["grep", "--color=auto", "mapping"])
        #expect(symbols.string(fields.workingDirectory) == "/home/andrew_kroh")
        #expect(fields.parent.pid == 12041)
        #expect(exec.uid == 1000)
        #expect(fields.effectiveUID == 1000)
        #expect(fields.gid == 1001)
        #expect(exec.time == 1_492_037_291_036_000_000)
    }

    @Test("a connect with its SOCKADDR address and port; a unix-socket connect stays an audit record")
    func connectWithSockaddr() async throws {
        // go-libaudit testdata/normal.log: serial 58 connects to 169.254.169.254:80 (EINPROGRESS);
        // serial 61 connects to the unix socket public/pickup.
        let symbols = SymbolTable()
        let (events, _) = try await replayLinuxAudit(
            TestData.path("linux-audit/go-libaudit/testdata/normal.log"), symbols: symbols)
        let connect = try #require(events.first { $0.kind == .networkConnect })
        guard case .network(let fields) = connect.fields else { Issue.record("not network fields"); return }
        #expect(fields.remote == SocketAddress(address: IPAddress(v4: 169, 254, 169, 254), port: 80))
        #expect(fields.result == -115)
        #expect(connect.process.pid == 1172)
        let unix = try #require(
            events.first { event in
                if case .audit(let audit) = event.fields { return audit.serial == 61 }
                return false
            })
        #expect(unix.kind == .auditRecord)
        guard case .audit(let audit) = unix.fields else { return }
        #expect(audit.syscall == 42)
        #expect(audit.recordType == 1300)
    }

    @Test("an open whose relative PATH is resolved against the CWD (go-libaudit auparse/testdata/test2.log)")
    func openResolvedAgainstCwd() async throws {
        let symbols = SymbolTable()
        let (events, statistics) = try await replayLinuxAudit(
            TestData.path("linux-audit/go-libaudit/auparse/testdata/test2.log"), symbols: symbols)
        let open = try #require(events.first { $0.kind == .fileOpen })
        guard case .file(let fields) = open.fields else { Issue.record("not file fields"); return }
        #expect(symbols.string(fields.path) == "/var/spool/postfix/maildrop")
        #expect(fields.flags == 0x10800)
        #expect(fields.result == -13)
        #expect(open.uid == 890)
        // AVC + SYSCALL + CWD + PATH are one event; the six user-space records are six more.
        #expect(statistics.records == 10)
        #expect(events.count == 7)
    }

    @Test("a failed USER_LOGIN with a hex-encoded account (go-libaudit auparse/testdata/audit-ubuntu16.log)")
    func userLogin() async throws {
        let symbols = SymbolTable()
        let (events, _) = try await replayLinuxAudit(
            TestData.path("linux-audit/go-libaudit/auparse/testdata/audit-ubuntu16.log"), symbols: symbols)
        let login = try #require(events.first)
        #expect(login.kind == .auditRecord)
        guard case .audit(let fields) = login.fields else { Issue.record("not audit fields"); return }
        #expect(fields.recordType == AuditRecordType.userLogin)
        #expect(fields.success == false)
        #expect(symbols.string(fields.message) == "login")
        #expect(symbols.string(login.principal) == "(invalid user)")
        #expect(login.process.pid == 12635)
        #expect(fields.loginUID == Event.unknownUID)
        let second = events[1]
        guard case .audit(let successful) = second.fields else { Issue.record("not audit fields"); return }
        #expect(successful.success)
        #expect(successful.loginUID == 1001)
        #expect(successful.session == 36)
    }

    @Test("the OTRF arp -a atomic (T1018) is an exec of /usr/sbin/arp with its arguments")
    func otrfArp() async throws {
        // OTRF/Security-Datasets: otrf/sh_arp_cache_2020-11-10074812.log.
        let symbols = SymbolTable()
        let (events, _) = try await replayLinuxAudit(
            TestData.path("linux-audit/otrf/sh_arp_cache_2020-11-10074812.log"), symbols: symbols)
        let execs = events.filter { $0.kind == .processExec }
        #expect(execs.count == 2)
        let arguments = execs.map { event -> [String] in
            guard case .process(let fields) = event.fields else { return [] }
            return ArgumentList.split(symbols.string(fields.arguments))
        }
        #expect(arguments == [["arp", "-a"], ["grep", "-v", "^?"]])
        guard case .process(let arp) = execs[0].fields else { return }
        #expect(symbols.string(arp.executable) == "/usr/sbin/arp")
        #expect(symbols.string(arp.workingDirectory) == "/home/wardog")
        #expect(execs[0].process.pid == 1631)
        #expect(arp.parent.pid == 29002)
    }

    @Test("the OTRF dd atomic (T1027.001) is an exec of /bin/dd with its arguments")
    func otrfDd() async throws {
        // OTRF/Security-Datasets: otrf/sh_binary_padding_dd_2020-11-10081941.log.
        let symbols = SymbolTable()
        let (events, _) = try await replayLinuxAudit(
            TestData.path("linux-audit/otrf/sh_binary_padding_dd_2020-11-10081941.log"), symbols: symbols)
        #expect(events.count == 1)
        let exec = try #require(events.first)
        #expect(exec.kind == .processExec)
        guard case .process(let fields) = exec.fields else { return }
        #expect(symbols.string(fields.executable) == "/bin/dd")
        #expect(ArgumentList.split(symbols.string(fields.arguments)) == ["dd", "if=/dev/zero", "bs=1", "count=1"])
    }

    @Test("out-of-order and lost records give the same events as the normal log (go-libaudit testdata)")
    func outOfOrderAndLost() async throws {
        let symbols = SymbolTable()
        let normal = try await replayLinuxAudit(
            TestData.path("linux-audit/go-libaudit/testdata/normal.log"), symbols: symbols)
        let reordered = try await replayLinuxAudit(
            TestData.path("linux-audit/go-libaudit/testdata/out_of_order.log"), symbols: symbols)
        let lost = try await replayLinuxAudit(
            TestData.path("linux-audit/go-libaudit/testdata/lost_messages.log"), symbols: symbols)
        func kinds(_ events: [Event]) -> [EventKind] { events.map(\.kind).sorted(by: { $0.rawValue < $1.rawValue }) }
        #expect(kinds(reordered.events) == kinds(normal.events))
        #expect(reordered.events.count == normal.events.count)
        #expect(lost.events.count == normal.events.count)
        let rollover = try await replayLinuxAudit(
            TestData.path("linux-audit/go-libaudit/testdata/rollover.log"), symbols: symbols)
        #expect(rollover.statistics.records == 5)
    }
}
