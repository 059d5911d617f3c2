import Testing
import VigilCore
import VigilRules
import VigilTestKit

/// Events of one container for the drift detector: the builder's events, placed in a container instance.
private struct ContainerEvents {
    var builder: EventBuilder
    let workload: WorkloadID
    let container: Symbol

    init(symbols: SymbolTable, builder: EventBuilder? = nil, id: String = "c0ffee00c0ffee00c0ffee00") {
        self.builder = builder ?? EventBuilder(symbols: symbols, step: 1_000_000_000)
        workload = self.builder.workload(namespace: "shop", deployment: "web")
        container = symbols.intern(id)
    }

    private func inside(_ event: Event, executable: String) -> Event {
        var event = event
        event.container = container
        event.executable = builder.symbols.intern(executable)
        return event
    }

    /// `curl` (pid 40) opens `path` with `flags`, as the sensor reports a successful open.
    mutating func write(_ path: String, flags: UInt32 = 0o1101, by executable: String = "/usr/bin/curl") -> Event {
        inside(builder.open(pid: 40, path: path, flags: flags, workload: workload), executable: executable)
    }

    /// A file event of `kind` by pid 41 (`mv`, `ln`, `chmod`).
    mutating func file(
        _ kind: EventKind, path: String, target: String = "", mode: UInt32 = 0, result: Int32 = 0,
        by executable: String
    ) -> Event {
        var event = builder.open(pid: 41, path: path, workload: workload)
        event.kind = kind
        event.fields = .file(
            FileFields(
                path: builder.symbols.intern(path), target: builder.symbols.intern(target), mode: mode, result: result))
        return inside(event, executable: executable)
    }

    /// Pid 50 executes `path`.
    mutating func exec(_ path: String) -> Event {
        inside(builder.exec(pid: 50, parent: 1, executable: path, workload: workload), executable: path)
    }
}

private func run(_ detector: inout ContainerDriftDetector, _ events: [Event]) -> [Finding] {
    var findings: [Finding] = []
    detector.inspect(EventBatch(events), into: &findings)
    return findings
}

@Suite("Container drift detector")
struct ContainerDriftDetectorTests {
    @Test("a file written in a container and executed there raises one high finding with both events")
    func writtenThenExecuted() throws {
        let symbols = SymbolTable()
        var c = ContainerEvents(symbols: symbols)
        var detector = ContainerDriftDetector(symbols: symbols)
        let write = c.write("/tmp/x")
        c.builder.time += 2_000_000_000
        let exec = c.exec("/tmp/x")
        let findings = run(&detector, [write, c.exec("/bin/ls"), exec, c.exec("/tmp/x")])
        try #require(findings.count == 1, "\(findings.map(\.explanation))")
        let finding = findings[0]
        #expect(finding.rule.id == "vigil.workload.container-drift")
        #expect(finding.severity == .high)
        #expect(finding.mitre == MITREMapping(tactic: .commandAndControl, technique: "T1105"))
        #expect(finding.event == exec)
        #expect(finding.evidence == [write])
        #expect(
            finding.explanation.hasPrefix(
                "/tmp/x was written by curl (pid 40) and executed 3 s later in container c0ffee00c0ff "
                    + "(shop/Deployment/web/web)"), "\(finding.explanation)")
        #expect(detector.statistics.findings == 1)
        #expect(detector.tracked == 0)
    }

    @Test("writes across batches, renames, links and chmod +x count; reads and failures do not")
    func waysOfWriting() throws {
        let symbols = SymbolTable()
        var c = ContainerEvents(symbols: symbols)
        var detector = ContainerDriftDetector(symbols: symbols)
        // The write and the exec in separate batches.
        #expect(run(&detector, [c.write("/app/a")]).isEmpty)
        #expect(run(&detector, [c.exec("/app/a")]).count == 1)
        // Renamed into place: the new name is what runs; the old name is gone.
        let renamed = run(
            &detector,
            [
                c.write("/tmp/.part"),
                c.file(.fileRename, path: "/tmp/.part", target: "/usr/local/bin/b", by: "/bin/mv"),
                c.exec("/tmp/.part"), c.exec("/usr/local/bin/b"),
            ])
        #expect(renamed.count == 1)
        #expect(renamed.first?.explanation.hasPrefix("/usr/local/bin/b was renamed into place by mv (pid 41)") == true)
        // Linked onto a path.
        #expect(
            run(&detector, [c.file(.fileLink, path: "/bin/true", target: "/tmp/t", by: "/bin/ln"), c.exec("/tmp/t")])
                .count == 1)
        // Made executable.
        let chmod = run(
            &detector, [c.file(.fileChmod, path: "/srv/run.sh", mode: 0o755, by: "/bin/chmod"), c.exec("/srv/run.sh")])
        #expect(chmod.first?.explanation.hasPrefix("/srv/run.sh was made executable by chmod") == true)
        // Not writes: a read-only open, a chmod without an execute bit, a failed open, an unlinked file.
        let notWrites = run(
            &detector,
            [
                c.write("/bin/sh", flags: 0), c.exec("/bin/sh"),
                c.file(.fileChmod, path: "/srv/conf", mode: 0o644, by: "/bin/chmod"), c.exec("/srv/conf"),
                failedOpen(&c, "/tmp/denied"), c.exec("/tmp/denied"),
                c.write("/tmp/gone"), c.file(.fileUnlink, path: "/tmp/gone", by: "/bin/rm"), c.exec("/tmp/gone"),
            ])
        #expect(notWrites.isEmpty, "\(notWrites.map(\.explanation))")
    }

    private func failedOpen(_ c: inout ContainerEvents, _ path: String) -> Event {
        var event = c.write(path)
        if case .file(var file) = event.fields {
            file.result = -13
            event.fields = .file(file)
        }
        return event
    }

    @Test("a script written then run through its interpreter is matched by its file name")
    func script() {
        let symbols = SymbolTable()
        var c = ContainerEvents(symbols: symbols)
        var detector = ContainerDriftDetector(symbols: symbols)
        var exec = c.exec("/bin/bash")
        if case .process(var process) = exec.fields {
            process.fileName = symbols.intern("/tmp/stage2.sh")
            exec.fields = .process(process)
        }
        #expect(run(&detector, [c.write("/tmp/stage2.sh"), exec]).count == 1)
    }

    @Test("an image's own program that was never written raises nothing")
    func imageFile() {
        let symbols = SymbolTable()
        var c = ContainerEvents(symbols: symbols)
        var detector = ContainerDriftDetector(symbols: symbols)
        #expect(run(&detector, [c.write("/var/log/app.log"), c.exec("/usr/bin/python3"), c.exec("/bin/sh")]).isEmpty)
    }

    @Test("on the host a written then executed file raises nothing")
    func host() {
        let symbols = SymbolTable()
        var b = EventBuilder(symbols: symbols)
        var detector = ContainerDriftDetector(symbols: symbols)
        let events = [b.open(pid: 40, path: "/tmp/x", flags: 0o1101), b.exec(pid: 50, executable: "/tmp/x")]
        #expect(events.allSatisfy { $0.container == .none })
        #expect(run(&detector, events).isEmpty)
        #expect(detector.tracked == 0)
    }

    @Test("written in one container and executed in another raises nothing")
    func otherContainer() {
        let symbols = SymbolTable()
        var a = ContainerEvents(symbols: symbols, id: "aaaaaaaaaaaaaaaa")
        // The same workload (a replica), another container instance.
        var other = ContainerEvents(symbols: symbols, builder: a.builder, id: "bbbbbbbbbbbbbbbb")
        var detector = ContainerDriftDetector(symbols: symbols)
        #expect(run(&detector, [a.write("/tmp/x"), other.exec("/tmp/x")]).isEmpty)
        // Still remembered for its own container.
        #expect(run(&detector, [a.exec("/tmp/x")]).count == 1)
    }

    @Test("state stays within its bound, evictions and aged-out writes are counted")
    func bounded() {
        let symbols = SymbolTable()
        var c = ContainerEvents(symbols: symbols)
        var detector = ContainerDriftDetector(
            symbols: symbols, configuration: .init(capacity: 8, maximumAge: 3_600 * 1_000_000_000))
        let writes = (0..<20).map { c.write("/tmp/f\($0)") }
        var findings: [Finding] = []
        for write in writes {
            detector.inspect(EventBatch([write]), into: &findings)
            #expect(detector.tracked <= 8)
        }
        #expect(detector.statistics.recorded == 20)
        #expect(detector.statistics.evicted == 12)
        // The newest writes are still known, the oldest were evicted.
        #expect(run(&detector, [c.exec("/tmp/f19")]).count == 1)
        #expect(run(&detector, [c.exec("/tmp/f0")]).isEmpty)
        // Two hours later everything left has aged out.
        c.builder.time += 7_200 * 1_000_000_000
        #expect(run(&detector, [c.exec("/tmp/f18")]).isEmpty)
        #expect(detector.tracked == 0)
        #expect(detector.statistics.agedOut == 7)
    }
}
