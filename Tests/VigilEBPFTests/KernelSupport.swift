import Foundation
import Testing
import VigilCore
import VigilEBPF
import VigilLinux
import VigilTestKit

/// Whether this test may touch the kernel: root is needed. Under CI (`CI=true`) a missing privilege fails
/// the test with a clear message; elsewhere the test is skipped.
func kernelTestsAllowed() -> Bool {
    if getuid() == 0 { return true }
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        Issue.record("the eBPF sensor tests load BPF programs and need root; CI runs them as root")
    }
    return false
}

/// What one engine run with the eBPF sensor saw.
struct SensorRun {
    let events: [Event]
    let symbols: SymbolTable
    let statistics: EngineStatistics
    let sensor: EBPFSensor.Statistics
    let findings: [Finding]

    func text(_ symbol: Symbol) -> String { symbols.string(symbol) }

    /// The events of one process, in order.
    func events(ofPID pid: Int32) -> [Event] { events.filter { $0.process.pid == pid } }
}

/// Runs an engine with the eBPF sensor, waits until its programs are attached, runs `body`, then stops the
/// engine and waits for it to drain, so that every event the kernel wrote has been seen.
func withSensor(
    _ configuration: EBPFSensorConfiguration = EBPFSensorConfiguration(
        pollInterval: .milliseconds(20), syscallUsageInterval: .milliseconds(200)),
    findingPerEvent: Bool = false,
    _ body: () async throws -> Void
) async throws -> SensorRun {
    // One kernel-tracing test at a time: another test's burst would fill this sensor's ring buffer too.
    try await ExclusiveGate.kernelTracing.withExclusiveAccess {
        try await runSensor(configuration, findingPerEvent: findingPerEvent, body)
    }
}

private func runSensor(
    _ configuration: EBPFSensorConfiguration, findingPerEvent: Bool, _ body: () async throws -> Void
) async throws -> SensorRun {
    let symbols = SymbolTable()
    let log = EventLog()
    let sensor = EBPFSensor(configuration: configuration)
    let output = CollectingOutput()
    let engine = Engine(
        configuration: EngineConfiguration(shards: 1), symbols: symbols, sensors: [sensor],
        detectors: log.factory(findingPerEvent: findingPerEvent), outputs: [output])
    let running = Task { try await engine.run() }
    let deadline = ContinuousClock.now + .seconds(30)
    while !sensor.isAttached {
        if ContinuousClock.now > deadline {
            running.cancel()
            try await running.value
            throw TestFailure("the eBPF sensor did not attach within 30 s")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    do {
        try await body()
        // Let the reader pick up the last records before shutdown drains the ring.
        try await Task.sleep(for: .milliseconds(300))
    } catch {
        running.cancel()
        _ = try? await running.value
        throw error
    }
    running.cancel()
    try await running.value
    return SensorRun(
        events: log.events, symbols: symbols, statistics: engine.statistics, sensor: sensor.statistics,
        findings: output.findings)
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A child process the test started, with its output in files (pipes would trap on EINTR).
struct Child {
    let pid: Int32
    let status: Int32
    let output: String
}

/// Runs `executable` with `arguments` to completion.
func runChild(_ executable: String, _ arguments: [String], directory: URL? = nil) throws -> Child {
    let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-child-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: outputFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outputFile) }
    let handle = try FileHandle(forWritingTo: outputFile)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    let pid = process.processIdentifier
    process.waitUntilExit()
    try handle.close()
    let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
    return Child(pid: pid, status: process.terminationStatus, output: output)
}

/// A fresh temporary directory, resolved through symlinks (the kernel reports real paths).
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-ebpf-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return URL(fileURLWithPath: url.path).resolvingSymlinksInPath()
}

/// The real path of a program on PATH.
func realExecutable(_ name: String) -> String {
    for directory in ["/usr/local/bin", "/usr/bin", "/bin"] {
        let path = directory + "/" + name
        if FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        }
    }
    return name
}
