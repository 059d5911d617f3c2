import Synchronization
import Testing
import VigilAuditLog
import VigilCore

#if canImport(Glibc)
    import Glibc
#endif

/// Tests against the running kernel's audit subsystem. They need root and `auditctl` (Debian's `auditd`
/// package); outside CI they are skipped when either is missing, and when CI is "true" they fail saying why.
/// Serialized: only one audit daemon can be registered at a time. The trait also covers the nested suites, such as
/// the real auditd test (`AuditdDaemonTests.swift`).
@Suite("Linux audit from the kernel", .serialized)
struct KernelAuditTests {
    /// Stops the test with a clear message: a failure in CI, a skip elsewhere.
    static func unavailable(_ reason: String) throws -> Never {
        if let ci = getenv("CI"), String(cString: ci) == "true" {
            Issue.record("\(reason) (CI=true, so this test must run)")
            throw Unavailable()
        }
        try Test.cancel("\(reason); skipped outside CI")
    }

    struct Unavailable: Error {}

    /// What the sensor task delivered, shared with the test.
    final class Collector: Sendable {
        let events = Mutex<[Event]>([])
        let failure = Mutex<LinuxAuditNetlinkError?>(nil)
    }

    /// Checks root and auditctl, and that no audit daemon holds the netlink socket.
    static func requireKernelAudit() throws {
        if geteuid() != 0 { try unavailable("needs root to register with the kernel audit subsystem") }
        if access("/usr/sbin/auditctl", X_OK) != 0 && access("/sbin/auditctl", X_OK) != 0 {
            try unavailable("needs auditctl: apt-get install -y auditd")
        }
    }

    static var auditctl: String { access("/usr/sbin/auditctl", X_OK) == 0 ? "/usr/sbin/auditctl" : "/sbin/auditctl" }

    @Test("an exec the test runs arrives through the netlink sensor with its arguments")
    func execThroughNetlink() async throws {
        try Self.requireKernelAudit()
        let sensor = LinuxAuditNetlinkSensor()
        let symbols = SymbolTable()
        let collector = Collector()
        let task = Task {
            do throws(LinuxAuditNetlinkError) {
                try await sensor.run(symbols: symbols) { batch in
                    let events = batch.events
                    collector.events.withLock { $0.append(contentsOf: events) }
                    batch.removeAll()
                }
            } catch {
                collector.failure.withLock { $0 = error }
            }
        }
        // Wait for the registration (or its failure); this bounds a wait, it does not time the code.
        for _ in 0..<500 where !sensor.isRegistered && collector.failure.withLock({ $0 }) == nil {
            try await Task.sleep(for: .milliseconds(10))
        }
        if let error = collector.failure.withLock({ $0 }) {
            if error.code == .anotherDaemon {
                Issue.record("\(error)")
                return
            }
            try Self.unavailable("\(error)")
        }
        #expect(sensor.isRegistered)

        let key = "vigiltest\(getpid())"
        let rule = ["-F", "arch=b64", "-S", "execve", "-F", "key=\(key)"]
        #expect(ChildProcess.run([Self.auditctl, "-a", "always,exit"] + rule) == 0, "auditctl could not add the rule")
        defer { ChildProcess.run([Self.auditctl, "-d", "always,exit"] + rule) }
        let marker = "vigil-netlink-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        #expect(ChildProcess.run(["/bin/true", marker]) == 0)

        func findExec() -> Event? {
            collector.events.withLock { events in
                events.first { event in
                    guard event.kind == .processExec, case .process(let fields) = event.fields else { return false }
                    return ArgumentList.split(symbols.string(fields.arguments)) == ["/bin/true", marker]
                }
            }
        }
        var exec = findExec()
        for _ in 0..<500 where exec == nil {
            try await Task.sleep(for: .milliseconds(10))
            exec = findExec()
        }
        task.cancel()
        await task.value
        #expect(!sensor.isRegistered, "the sensor must unregister when cancelled")
        let seen = collector.events.withLock { events in
            events.filter { event in
                if case .process(let fields) = event.fields {
                    return symbols.string(fields.arguments).contains("vigil-netlink")
                }
                return false
            }.suffix(5).map { event -> String in
                if case .process(let fields) = event.fields { return symbols.string(fields.arguments) }
                return "\(event.kind)"
            }
        }
        let statistics = sensor.statistics
        let event = try #require(
            exec, "no exec event with argument \(marker) arrived over netlink; \(statistics), last \(seen)")
        guard case .process(let fields) = event.fields else { return }
        #expect(symbols.string(fields.executable).hasSuffix("/true"))
        #expect(fields.parent.pid == getpid())
        #expect(event.uid == 0)
        #expect(sensor.statistics.skipped.isEmpty, "\(sensor.statistics.skipped)")
    }
}
