import Foundation
import VigilCore
import VigilLinux
import VigilResponse
import VigilSQLite

/// `vigil-agent quarantine list | release PID`: what sits in the quarantine cgroup, and letting a process out.
///
/// It works beside a running agent or without one: the processes are read from the cgroup itself, where each
/// came from and why from the response audit trail in the SQLite store.
public struct QuarantineControl: Sendable {
    /// One quarantined process.
    public struct Entry: Sendable, Equatable {
        /// Its pid.
        public var pid: Int32
        /// Its executable, when /proc still tells.
        public var executable: String
        /// The cgroup it came from, when the audit trail has its quarantine record.
        public var origin: String?
        /// The alert that quarantined it, from the same record.
        public var alertID: String?
        /// When it was quarantined, in nanoseconds since the epoch (0 when not known).
        public var since: Int64
    }

    /// The quarantine cgroup, relative to the cgroup v2 mount.
    public var cgroupPath: String
    /// Where the audit trail lives.
    public var store: StoreLocation

    /// Creates a control for the agent's quarantine cgroup and store.
    public init(cgroupPath: String = NetworkQuarantine.defaultPath, store: StoreLocation = .standard) {
        self.cgroupPath = cgroupPath
        self.store = store
    }

    /// The processes in quarantine now.
    ///
    /// - Throws: ``AgentError`` when the cgroup v2 hierarchy or the store cannot be read.
    public func list() async throws -> [Entry] {
        try await list(trail: try auditTrail())
    }

    private func list(trail: (any ResponseAuditTrail)?) async throws -> [Entry] {
        guard let cgroup = try quarantineCgroup() else { return [] }
        let pids: [Int32]
        do {
            pids = try cgroup.processes()
        } catch {
            throw AgentError("cannot read the quarantine cgroup \(cgroupPath): \(error)")
        }
        let records = try await quarantineRecords(in: trail)
        return pids.map { pid in
            let snapshot = try? ProcFS.snapshot(pid: pid)
            let record = records.last { entry in
                entry.record.action.target.process.pid == pid
                    && (snapshot == nil || entry.record.action.target.process.startTime == snapshot?.startTime)
            }
            return Entry(
                pid: pid, executable: snapshot?.executable ?? "",
                origin: record.flatMap { LinuxActuator.quarantineOrigin(fromDetail: $0.record.detail) },
                alertID: record?.alertID, since: record?.record.time ?? 0)
        }
    }

    /// Moves a quarantined process back to `destination`, or to the cgroup its quarantine record says it came
    /// from, and records the release in the audit trail; returns the cgroup it went to.
    ///
    /// - Throws: ``AgentError`` when the process is not in quarantine, or its origin is not known and no
    ///   destination is given, or the move fails.
    @discardableResult
    public func release(pid: Int32, to destination: String? = nil) async throws -> String {
        let trail = try auditTrail()
        guard let entry = try await list(trail: trail).first(where: { $0.pid == pid }) else {
            throw AgentError("process \(pid) is not in the quarantine cgroup \(cgroupPath)")
        }
        guard let target = destination ?? entry.origin else {
            throw AgentError(
                "the audit trail does not say where process \(pid) came from: give the cgroup with --to PATH")
        }
        let filesystem = try cgroupFilesystem()
        let snapshot = try? ProcFS.snapshot(pid: pid)
        do {
            try Cgroup(existing: target, in: filesystem).add(pid: pid)
        } catch {
            throw AgentError("cannot move process \(pid) to cgroup \(target): \(error)")
        }
        let key = ProcessKey(pid: pid, startTime: snapshot?.startTime ?? 0)
        let record = ResponseRecord(
            action: ResponseAction(
                kind: .release, target: ResponseTarget(process: key), reason: entry.alertID ?? "operator"),
            outcome: .done, detail: "released by the operator to cgroup \(target)",
            time: Int64(Date().timeIntervalSince1970 * 1_000_000_000))
        if let trail {
            do {
                try await trail.record(record, alertID: entry.alertID ?? "operator")
            } catch {
                throw AgentError("released process \(pid), but cannot record it in the audit trail: \(error)")
            }
        }
        return target
    }

    private func cgroupFilesystem() throws -> CgroupFilesystem {
        do {
            return try CgroupFilesystem.locateV2()
        } catch {
            throw AgentError("no cgroup v2 hierarchy: \(error)")
        }
    }

    /// The quarantine cgroup, or nil when no agent has made it yet.
    private func quarantineCgroup() throws -> Cgroup? {
        let filesystem = try cgroupFilesystem()
        do {
            return try Cgroup(existing: cgroupPath, in: filesystem)
        } catch let error as LinuxError where error.code == .notFound {
            return nil
        } catch {
            throw AgentError("cannot open the quarantine cgroup \(cgroupPath): \(error)")
        }
    }

    private func auditTrail() throws -> (any ResponseAuditTrail)? {
        guard case .sqlite(let path) = store else { return nil }
        do {
            return try SQLiteResponseAuditTrail(path: path)
        } catch {
            throw AgentError("cannot open the response audit trail in \(path): \(error)")
        }
    }

    /// The quarantine records that were done, oldest first.
    private func quarantineRecords(in trail: (any ResponseAuditTrail)?) async throws -> [ResponseAuditEntry] {
        guard let trail else { return [] }
        do {
            return try await trail.latest(100_000).filter {
                $0.record.action.kind == .quarantine && $0.record.outcome == .done
            }
        } catch {
            throw AgentError("cannot read the response audit trail: \(error)")
        }
    }
}
