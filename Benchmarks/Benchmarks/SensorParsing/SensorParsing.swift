import Benchmark
import Foundation
import VigilAuditLog
import VigilCloudEvents
import VigilCore

/// Records parsed per second on one core, on real logs from ../shared/data replicated to a realistic size:
/// auditd lines (go-libaudit's normal.log), Kubernetes audit events (Falco's test events, one per line),
/// and CloudTrail records (the Stratus Red Team detonations) from a gzip `{"Records":[…]}` delivery file.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock], maxDuration: .seconds(20), maxIterations: 10)

    Benchmark("auditd lines, 100k (one core)") { benchmark in
        let lines = SensorData.auditLines(count: 100_000)
        let symbols = SymbolTable()
        var parser = LinuxAuditParser(symbols: symbols)
        var batch = EventBatch(capacity: 4_096)
        benchmark.startMeasurement()
        for line in lines {
            line.withUnsafeBytes { parser.parse(line: $0, into: &batch) }
            if batch.count >= 4_000 { batch.removeAll() }
        }
        parser.finish(into: &batch)
        benchmark.stopMeasurement()
        blackHole(batch.count)
    }

    Benchmark("Kubernetes audit events, 50k (one core)") { benchmark in
        let lines = SensorData.kubernetesLines(count: 50_000)
        let symbols = SymbolTable()
        var parser = KubernetesAuditParser(symbols: symbols)
        var batch = EventBatch(capacity: 4_096)
        benchmark.startMeasurement()
        for line in lines {
            line.withUnsafeBytes { parser.parse(line: $0, into: &batch) }
            if batch.count >= 4_000 { batch.removeAll() }
        }
        benchmark.stopMeasurement()
        blackHole(batch.count)
    }

    Benchmark("CloudTrail records from gzip, 50k (one core)") { benchmark in
        let path = try SensorData.cloudTrailDelivery(records: 50_000)
        let symbols = SymbolTable()
        benchmark.startMeasurement()
        let (events, skipped) = try CloudEventFile.read(path: path, symbols: symbols)
        benchmark.stopMeasurement()
        precondition(events.count == 50_000 && skipped.total == 0, "records were lost")
        try? FileManager.default.removeItem(atPath: path)
    }
}

enum SensorData {
    /// ../shared/data, found from this file's location (Benchmarks/Benchmarks/SensorParsing/).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/data")

    static func auditLines(count: Int) -> [[UInt8]] {
        let text = try! String(
            contentsOf: root.appendingPathComponent("linux-audit/go-libaudit/testdata/normal.log"), encoding: .utf8)
        let lines = text.split(separator: "\n").map { Array($0.utf8) }
        return (0..<count).map { lines[$0 % lines.count] }
    }

    static func kubernetesLines(count: Int) -> [[UInt8]] {
        let directory = root.appendingPathComponent("k8s-audit/falco/k8s_audit")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var events: [[UInt8]] = []
        for file in files.sorted() where file.hasSuffix(".json") && file != "fal_01_003.json" {
            guard let data = try? Data(contentsOf: directory.appendingPathComponent(file)),
                let value = try? JSONParser.parse([UInt8](data))
            else { continue }
            // One compact event per line, as an API server's log backend writes them.
            for item in value.object?["items"]?.array ?? [value] { events.append(Array(item.serialized().utf8)) }
        }
        return (0..<count).map { events[$0 % events.count] }
    }

    static func cloudTrailDelivery(records count: Int) throws -> String {
        let directory = root.appendingPathComponent("cloudtrail/stratus-red-team/detonation-logs")
        var records: [JSONValue] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        where file.hasSuffix(".json") {
            let data = try Data(contentsOf: directory.appendingPathComponent(file))
            records += try JSONParser.parse([UInt8](data)).array ?? []
        }
        var writer = JSONWriter(capacity: 64 << 20)
        writer.beginObject()
        writer.key("Records")
        writer.beginArray()
        for index in 0..<count { writer.value(records[index % records.count]) }
        writer.endArray()
        writer.endObject()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vigil-bench-\(UUID().uuidString).json"
        ).path
        try Data(writer.bytes).write(to: URL(fileURLWithPath: path))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-f", path]
        try gzip.run()
        gzip.waitUntilExit()
        return path + ".gz"
    }
}
