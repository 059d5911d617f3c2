import VigilCore

/// Learns each subject's behaviors while the book is learning, then flags behaviors a subject never
/// showed while learning.
///
/// Only subjects that were learned raise deviations (a subject first seen while detecting has no
/// profile, so nothing is known about its normal behavior); a baseline that overflowed its bound raises
/// none (its gaps are not evidence); each deviation is reported once per subject.
public struct DeviationDetector: Detector {
    private let book: BaselineBook
    private let partition: BaselineBook.Partition
    private let symbols: SymbolTable

    /// Creates the detector of one shard.
    public init(book: BaselineBook, shard: ShardInfo) {
        self.book = book
        self.partition = book.partition(for: shard)
        self.symbols = shard.symbols
    }

    public mutating func inspect(_ events: EventBatch, into findings: inout [Finding]) {
        let learning = book.phase == .learning
        for event in events.events {
            guard let behavior = Behavior(of: event) else { continue }
            let subject = Subject(of: event)
            if learning {
                partition.baselines[subject, default: Baseline(capacity: book.capacityPerSubject)]
                    .learn(behavior, describedAs: describe(event))
            } else if let baseline = partition.baselines[subject], !baseline.overflowed,
                !baseline.contains(behavior), partition.reported[subject, default: []].insert(behavior).inserted
            {
                findings.append(finding(for: event, subject: subject, baseline: baseline))
            }
        }
    }

    private func finding(for event: Event, subject: Subject, baseline: Baseline) -> Finding {
        let (id, name, mitre, severity) = classify(event)
        let known = baseline.examples[event.kind] ?? []
        let nearby: String
        if known.isEmpty {
            nearby = "it did nothing of this kind while learning"
        } else {
            let count = baseline.count(of: event.kind)
            let more = count > known.count ? " and \(count - known.count) more" : ""
            nearby = "while learning it only " + known.joined(separator: ", ") + more
        }
        let explanation =
            "\(subject.name(in: symbols)) \(describe(event)), which it never did while learning; \(nearby)."
        return Finding(
            severity: severity, rule: RuleReference(id: id, name: name), mitre: mitre, event: event,
            explanation: explanation)
    }

    private func classify(_ event: Event) -> (String, String, MITREMapping, Severity) {
        switch event.fields {
        case .process(let f):
            let path = symbols.string(f.executable)
            let fromTemp = ["/tmp/", "/dev/shm/", "/var/tmp/"].contains { path.hasPrefix($0) }
            return (
                "profile.unexpected-process", "Unexpected process",
                MITREMapping(tactic: .execution, technique: "T1059"), fromTemp ? .high : .medium
            )
        case .file(let f):
            let sensitive = SensitivePaths.contains(symbols.string(f.path))
            return (
                "profile.unexpected-file-access", "Unexpected file access",
                MITREMapping(tactic: .collection, technique: "T1005"), sensitive ? .high : .low
            )
        case .network:
            return (
                "profile.unexpected-egress", "Unexpected outbound connection",
                MITREMapping(tactic: .exfiltration, technique: "T1041"), .medium
            )
        case .dns:
            return (
                "profile.unexpected-dns", "Unexpected DNS query",
                MITREMapping(tactic: .commandAndControl, technique: "T1071.004"), .low
            )
        case .cloud:
            return (
                "profile.unexpected-cloud-action", "Unexpected cloud API call",
                MITREMapping(tactic: .defenseEvasion, technique: "T1078.004"), .medium
            )
        case .kubernetes:
            return (
                "profile.unexpected-k8s-request", "Unexpected Kubernetes API request",
                MITREMapping(tactic: .defenseEvasion, technique: "T1078"), .medium
            )
        default:
            return (
                "profile.unexpected-http-endpoint", "Unexpected HTTP endpoint",
                MITREMapping(tactic: .initialAccess, technique: "T1190"), .low
            )
        }
    }

    /// What the event's subject did, in words ("executed /bin/sh").
    private func describe(_ event: Event) -> String {
        let s = symbols.string
        switch event.fields {
        case .process(let f):
            return "executed \(s(f.executable))"
        case .file(let f):
            return "opened \(s(f.path)) for \(f.flags & 0b11 != 0 ? "writing" : "reading")"
        case .network(let f):
            return "connected to \(f.remote) over \(f.transport.name)"
        case .dns(let f):
            return "looked up \(s(f.name))"
        case .cloud(let f):
            return "called \(s(f.service)):\(s(f.action))"
        case .kubernetes(let f):
            let resource = f.subresource.isNone ? s(f.resource) : "\(s(f.resource))/\(s(f.subresource))"
            let scope = f.namespace.isNone ? "cluster-wide" : "in namespace \(s(f.namespace))"
            return "did \(s(f.verb)) on \(resource) \(scope)"
        case .http(let f):
            return "served \(s(f.method)) \(s(f.route.isNone ? f.path : f.route))"
        default:
            return "did \(event.kind.name)"
        }
    }
}

/// Paths whose access is always worth a higher severity: credentials and loader configuration.
enum SensitivePaths {
    static let prefixes = [
        "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/ld.so.preload", "/root/.ssh/", "/root/.aws/",
        "/var/run/secrets/kubernetes.io/serviceaccount/", "/run/secrets/kubernetes.io/serviceaccount/",
    ]

    static func contains(_ path: String) -> Bool {
        prefixes.contains { path.hasPrefix($0) } || path.contains("/.ssh/") || path.contains("/.aws/credentials")
    }
}
