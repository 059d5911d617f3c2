import Foundation
import VigilAuditLog
import VigilCloudEvents
import VigilCore

/// The kinds of input `vigil-agent replay` recognises, by content rather than by file name.
public enum InputFormat: String, Sendable, CaseIterable {
    /// Vigil's own JSON Lines events, as ``VigilCore/EventEncoder`` writes them.
    case vigilEvents = "vigil-events"
    /// A Linux audit log (auditd's `type=… msg=audit(…)` lines).
    case linuxAudit = "linux-audit"
    /// A Kubernetes API audit log (`audit.k8s.io` Events or EventLists).
    case kubernetesAudit = "k8s-audit"
    /// Cloud control-plane records: AWS CloudTrail (plain or gzip), GCP Cloud Audit Logs, Azure Activity Log.
    case cloud

    /// Looks at the start of the file at `path` and says what it is.
    public static func detect(path: String) throws -> InputFormat {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AgentError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        let head = [UInt8]((try handle.read(upToCount: 1 << 16)) ?? Data())
        try? handle.close()
        guard let firstLine = head.split(separator: 0x0a).first(where: { $0.contains(where: { $0 > 0x20 }) }) else {
            throw AgentError("\(path) is empty: there is nothing to replay")
        }
        if head.starts(with: [0x1f, 0x8b]), (try? CloudEventFile.detectFormat(path: path)) != nil { return .cloud }
        if let value = try? firstLine.withUnsafeBytes({ bytes throws(JSONParseError) in try JSONParser.parse(bytes) }),
            let object = value.object, object["kind"]?.string != nil, object["time"]?.string != nil
        {
            return .vigilEvents
        }
        if LinuxAuditParser.detect(head) { return .linuxAudit }
        if KubernetesAuditParser.detect(head) { return .kubernetesAudit }
        // Cloud files may be gzip (CloudTrail's S3 deliveries): let the cloud reader look at the whole start.
        if (try? CloudEventFile.detectFormat(path: path)) != nil { return .cloud }
        throw AgentError(
            "\(path) is not an input vigil-agent recognises: expected Vigil JSON Lines events, a Linux audit log "
                + "(auditd), a Kubernetes audit log, or cloud records (CloudTrail, GCP audit, Azure activity)")
    }
}
