import Foundation
import Glibc
import VigilCore
import VigilCorrelation

/// The formats `vigil-agent` writes alerts in.
public enum AlertFormat: String, Sendable, CaseIterable {
    /// JSON Lines: one finding or incident object per line (the stable alert schema).
    case json
    /// One readable line per finding, a short block per incident.
    case text
    /// OCSF Detection Finding (class 2004) JSON Lines: each finding, and each incident (activity Create the
    /// first time, Update when it grows).
    case ocsf
    /// The JSON Falco writes with `json_output: true`, which falcosidekick reads: one line per finding
    /// (incidents have no Falco form and are left out).
    case falco
}

/// Writes alerts to a file or standard output, in JSON Lines or text.
public actor StreamAlertOutput: AlertOutput {
    private let handle: FileHandle
    private let closeAtEnd: Bool
    private let format: AlertFormat
    private var jsonEncoder: AlertEncoder
    private let symbols: SymbolTable
    private var buffer: [UInt8] = []
    private let flushEachAlert: Bool
    private let ocsf = OCSFDetectionFinding(hostname: AlertFormat.hostname)
    private let falco = FalcoAlert(hostname: AlertFormat.hostname)
    private var reportedIncidents: Set<String> = []

    /// Writes to the file at `path` (created or truncated), or to standard output when `path` is nil or `-`.
    /// Standard output gets each alert as it comes; a file does too when `flushEachAlert` is set (a live
    /// run, watched by people or by a tool tailing the file), and otherwise in 64 KiB writes.
    public init(path: String?, format: AlertFormat, symbols: SymbolTable, flushEachAlert: Bool = false) throws {
        if let path, path != "-" {
            guard let handle = OutputFile.open(path) else {
                throw AgentError("cannot write alerts to \(path): \(String(cString: strerror(errno)))")
            }
            self.handle = handle
            self.closeAtEnd = true
            self.flushEachAlert = flushEachAlert
        } else {
            self.handle = FileHandle.standardOutput
            self.closeAtEnd = false
            // Someone may be watching a live stream: show each alert as it comes.
            self.flushEachAlert = true
        }
        self.format = format
        self.symbols = symbols
        self.jsonEncoder = AlertEncoder(symbols: symbols)
    }

    public func write(_ alert: Alert) throws {
        switch (format, alert) {
        case (.json, _): buffer.append(contentsOf: jsonEncoder.line(for: alert).utf8)
        case (.text, _): buffer.append(contentsOf: TextAlertRenderer(symbols: symbols).render(alert).utf8)
        case (.ocsf, .finding(let finding)):
            buffer.append(contentsOf: ocsf.render(FindingRecord(finding, symbols: symbols)).utf8)
        case (.ocsf, .incident(let incident)):
            let activity: OCSFDetectionFinding.Activity =
                reportedIncidents.insert(incident.id).inserted ? .create : .update
            buffer.append(contentsOf: ocsf.render(IncidentRecord(incident, symbols: symbols), activity: activity).utf8)
        case (.falco, .finding(let finding)):
            buffer.append(contentsOf: falco.render(FindingRecord(finding, symbols: symbols)).utf8)
        case (.falco, .incident):
            return
        }
        buffer.append(0x0a)
        if flushEachAlert || buffer.count >= 1 << 16 { try flush() }
    }

    public func finish() throws {
        try flush()
        if closeAtEnd { try handle.close() }
    }

    private func flush() throws {
        if buffer.isEmpty { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Renders alerts for people: one line per finding, a short block per incident.
public struct TextAlertRenderer: Sendable {
    /// The table the alerts' symbols come from.
    public let symbols: SymbolTable

    /// Creates a renderer.
    public init(symbols: SymbolTable) { self.symbols = symbols }

    /// The alert as text, without a trailing newline.
    public func render(_ alert: Alert) -> String {
        switch alert {
        case .finding(let finding): return render(finding)
        case .incident(let incident): return render(incident)
        }
    }

    private func render(_ finding: Finding) -> String {
        var line = "\(RFC3339.formatCompact(nanoseconds: finding.time)) \(finding.severity.name.uppercased()) "
        let scope: String
        switch finding.layer {
        case .cloud, .cluster: scope = finding.layer.name
        case .workload, .application: scope = symbols.workload(finding.event.workload).name
        }
        line += "\(finding.rule.id) [\(scope)]"
        if let process = finding.process {
            line += " pid \(process.key.pid)"
            if !process.executable.isEmpty { line += " \(process.executable)" }
        }
        if !finding.event.principal.isNone { line += " principal \(symbols.string(finding.event.principal))" }
        line += ": \(finding.explanation) (\(finding.mitre.technique) \(finding.mitre.tactic.name))"
        if finding.eventsLostBefore > 0 { line += " [\(finding.eventsLostBefore) events lost before this]" }
        for record in finding.response {
            line += " [response: \(record.action.kind.rawValue) \(record.outcome.rawValue)]"
        }
        return line
    }

    private func render(_ incident: Incident) -> String {
        var lines = ["INCIDENT \(incident.id) \(incident.severity.name.uppercased()): \(incident.title)"]
        if !incident.narrative.isEmpty { lines.append("  \(incident.narrative)") }
        for (number, step) in incident.steps.enumerated() {
            let root = step.findingIDs.contains(incident.rootCause) ? " (root cause)" : ""
            lines.append(
                "  \(number + 1). \(RFC3339.formatCompact(nanoseconds: step.time)) \(step.layer.name) "
                    + "\(step.mitre.technique): \(step.summary)\(root)")
        }
        for record in incident.response {
            lines.append("  response: \(record.action.kind.rawValue) \(record.outcome.rawValue) \(record.detail)")
        }
        return lines.joined(separator: "\n")
    }
}

extension AlertFormat {
    /// This machine's name, for the formats that carry one.
    static let hostname: String = {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()
}

/// Opens output files for writing.
enum OutputFile {
    /// Opens `path` for writing, creating or truncating it in place: a device such as /dev/null or a FIFO
    /// stays what it is (FileManager's createFile would replace it with a regular file).
    static func open(_ path: String) -> FileHandle? {
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return nil }
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }
}
