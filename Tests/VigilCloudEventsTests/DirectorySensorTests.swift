import Foundation
import Synchronization
import Testing
import VigilCloudEvents
import VigilCore
import VigilTestKit

/// Every event the engine hands to the detectors, for checking what arrived and how often.
final class EventLog: Sendable {
    private let events = Mutex<[Event]>([])

    var all: [Event] { events.withLock { $0 } }
    var count: Int { events.withLock { $0.count } }
    func add(_ batch: EventBatch) { events.withLock { $0.append(contentsOf: batch.events) } }
}

/// A detector that raises nothing and records what it sees.
struct RecordingDetector: Detector {
    let log: EventLog
    mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) { log.add(events) }
}

/// Runs `sensor` in an engine until `log` holds `count` events (or 30 s pass), then cancels it and waits for it.
func runUntil(_ count: Int, log: EventLog, symbols: SymbolTable, sensor: some Sensor) async throws {
    let engine = Engine(
        configuration: EngineConfiguration(shards: 2), symbols: symbols, sensors: [sensor],
        detectors: { _ in RecordingDetector(log: log) }, outputs: [CollectingOutput()])
    let task = Task { try await engine.run() }
    let deadline = ContinuousClock.now + .seconds(30)
    while log.count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
    // Give a wrongly re-read file the chance to show up before stopping.
    try await Task.sleep(for: .milliseconds(300))
    task.cancel()
    try await task.value
}

/// The directory sensor on a delivery tree built from Stratus Red Team detonation logs (DataDog/stratus-red-team
/// @7c9a7a5a, Apache-2.0), gzip-compressed as CloudTrail delivers them.
@Suite struct DirectorySensorTests {
    static func deliver(_ technique: String, into root: String, day: String, name: String) throws -> Int {
        let folder = root + "/AWSLogs/123456789012/CloudTrail/us-east-1/2024/08/" + day
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Write under a hidden name, then rename, as a sync tool does; the sensor ignores hidden files.
        let hidden = folder + "/." + name
        try gzip(DataPaths.stratusFile(technique), to: hidden)
        try FileManager.default.moveItem(atPath: hidden, toPath: folder + "/" + name)
        return try ReadResult(path: DataPaths.stratusFile(technique)).events.count
    }

    /// Files processed before a restart are not read again; files added while the sensor was stopped are read
    /// by the next sensor with the same checkpoint; every event arrives exactly once.
    @Test func checkpointSurvivesARestart() async throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let checkpoint = root + "/.checkpoint"
        var firstCount = 0
        firstCount += try Self.deliver(
            "aws.persistence.iam-create-admin-user", into: root, day: "01", name: "a.json.gz")
        firstCount += try Self.deliver("aws.execution.ssm-send-command", into: root, day: "01", name: "b.json.gz")
        firstCount += try Self.deliver("aws.impact.bedrock-invoke-model", into: root, day: "02", name: "c.json.gz")

        let symbols = SymbolTable()
        let firstLog = EventLog()
        let firstProgress = CloudSensorProgress()
        let first = CloudTrailDirectorySensor(
            directory: root, checkpointPath: checkpoint, pollInterval: .milliseconds(50), progress: firstProgress)
        try await runUntil(firstCount, log: firstLog, symbols: symbols, sensor: first)
        #expect(firstLog.count == firstCount)
        #expect(firstProgress.files == 3)
        let saved = try CloudTrailCheckpoint(path: checkpoint)
        #expect(
            saved.files == [
                "AWSLogs/123456789012/CloudTrail/us-east-1/2024/08/01/a.json.gz",
                "AWSLogs/123456789012/CloudTrail/us-east-1/2024/08/01/b.json.gz",
                "AWSLogs/123456789012/CloudTrail/us-east-1/2024/08/02/c.json.gz",
            ])

        var secondCount = 0
        secondCount += try Self.deliver(
            "aws.persistence.lambda-overwrite-code", into: root, day: "02", name: "d.json.gz")
        secondCount += try Self.deliver("aws.defense-evasion.cloudtrail-stop", into: root, day: "03", name: "e.json.gz")
        let secondLog = EventLog()
        let second = CloudTrailDirectorySensor(
            directory: root, checkpointPath: checkpoint, pollInterval: .milliseconds(50))
        try await runUntil(secondCount, log: secondLog, symbols: symbols, sensor: second)
        #expect(secondLog.count == secondCount)
        let secondCalls = Set(
            secondLog.all.compactMap { event -> String? in
                guard case .cloud(let cloud) = event.fields else { return nil }
                return symbols.string(cloud.action)
            })
        #expect(secondCalls == ["UpdateFunctionCode", "StopLogging"])
        #expect(try CloudTrailCheckpoint(path: checkpoint).files.count == 5)
    }

    /// A file whose size changes between walks is not read until it stops changing.
    @Test("a checkpoint in folders that do not exist yet creates them")
    func checkpointCreatesItsFolders() throws {
        let root = NSTemporaryDirectory() + "vigil-checkpoint-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        var checkpoint = try CloudTrailCheckpoint(path: root + "/state/.vigil/cloudtrail.checkpoint")
        try checkpoint.add("AWSLogs/1/CloudTrail/us-east-1/2026/11/30/a.json")
        #expect(try CloudTrailCheckpoint(path: root + "/state/.vigil/cloudtrail.checkpoint").files.count == 1)
    }

    @Test func growingFileWaitsUntilStable() async throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = root + "/AWSLogs/1/CloudTrail/r/2024/08/01"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let source = try Data(
            contentsOf: URL(fileURLWithPath: DataPaths.stratusFile("aws.persistence.iam-create-admin-user")))
        let path = folder + "/growing.json"
        _ = FileManager.default.createFile(atPath: path, contents: source.prefix(100))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let progress = CloudSensorProgress()
        let log = EventLog()
        let sensor = CloudTrailDirectorySensor(
            directory: root, checkpointPath: root + "/.checkpoint", pollInterval: .milliseconds(100), progress: progress
        )
        let engine = Engine(
            configuration: EngineConfiguration(shards: 1), symbols: SymbolTable(), sensors: [sensor],
            detectors: { _ in RecordingDetector(log: log) })
        let task = Task { try await engine.run() }
        // Keep appending more often than the poll interval: the sensor must not read the partial file.
        var offset = 100
        while offset < source.count {
            try await Task.sleep(for: .milliseconds(30))
            let next = min(source.count, offset + 200)
            try handle.seekToEnd()
            try handle.write(contentsOf: source[offset..<next])
            offset = next
            #expect(progress.files == 0 && progress.skipped.total == 0)
        }
        try handle.close()
        let deadline = ContinuousClock.now + .seconds(10)
        while progress.files == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        task.cancel()
        try await task.value
        #expect(progress.files == 1)
        #expect(progress.skipped.total == 0)
        #expect(log.count == 3)
    }

    /// The file sensor replays files in order, counts a broken one and goes on.
    @Test func fileSensorReplaysAndCountsFailures() async throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let broken = root + "/broken.json.gz"
        try Data([0x1f, 0x8b, 8, 0, 0, 0]).write(to: URL(fileURLWithPath: broken))
        let files = [
            DataPaths.stratusFile("aws.persistence.iam-create-admin-user"), broken,
            DataPaths.path("azure/azure_activity_rules.tests.jsonl"),
        ]
        let progress = CloudSensorProgress()
        let log = EventLog()
        let engine = Engine(
            configuration: EngineConfiguration(shards: 1), symbols: SymbolTable(),
            sensors: [CloudTrailFileSensor(paths: files, batchSize: 16, progress: progress)],
            detectors: { _ in RecordingDetector(log: log) })
        try await engine.run()
        #expect(progress.files == 2)
        #expect(progress.failedFiles == 1)
        #expect(progress.events == 3 + 214)
        #expect(log.count == 3 + 214)
        #expect(engine.statistics.totalDropped == 0)
    }
}
