import VigilCore
import VigilProfiles
import VigilSeccomp

/// What `vigil-agent profiles` does: list, show, export and reopen stored profiles.
public struct ProfileCommands: Sendable {
    /// The store.
    public let store: any ProfileStore

    /// Creates the commands over a store.
    public init(store: any ProfileStore) { self.store = store }

    /// One line per stored profile: state, subject, name, size and overflowed parts.
    public func list() async throws -> [String] {
        var lines: [String] = []
        for key in try await store.keys() {
            guard let stored = try await store.load(key) else { continue }
            do {
                let profile = try ProfileCoding.decode(stored.body)
                var line =
                    "\(profile.lifecycle.state.rawValue.padding(9)) \(key.subject.rawValue.padding(9)) \(key.name)"
                line += "  \(profile.entryCount) entries, \(profile.lifecycle.events) events"
                if profile.lifecycle.partial { line += ", partial" }
                if !profile.overflowedParts.isEmpty {
                    line += ", overflowed: " + profile.overflowedParts.map(\.rawValue).joined(separator: ",")
                }
                lines.append(line)
            } catch {
                lines.append("unreadable \(key.subject.rawValue.padding(9)) \(key.name)  \(error)")
            }
        }
        return lines
    }

    /// The profile named `name`, found among workloads and principals.
    public func profile(named name: String) async throws -> Profile {
        for subject in ProfileSubject.allCases {
            if let stored = try await store.load(ProfileKey(subject: subject, name: name)) {
                do {
                    return try ProfileCoding.decode(stored.body)
                } catch {
                    throw AgentError("profile \(name) cannot be read: \(error)")
                }
            }
        }
        let known = try await store.keys().map(\.name)
        let hint =
            known.isEmpty ? "the store holds no profiles yet" : "known: " + known.prefix(10).joined(separator: ", ")
        throw AgentError("no profile named '\(name)' (\(hint))")
    }

    /// The stored JSON of the profile (the readable document a `files:` store keeps).
    public func show(_ name: String) async throws -> String {
        String(decoding: ProfileCoding.encode(try await profile(named: name)), as: UTF8.self)
    }

    /// The profile's learned syscalls as a seccomp profile, and the learned syscalls libseccomp cannot name.
    public func seccompProfile(named name: String) async throws -> (profile: SeccompProfile, unresolved: [String]) {
        let profile = try await profile(named: name)
        let syscalls = profile.entries(.syscalls).compactMap(LearnedSyscall.init(entry:))
        guard !syscalls.isEmpty else {
            throw AgentError(
                "profile '\(name)' has no learned syscalls: syscall usage is recorded by the eBPF sensor while learning"
            )
        }
        let (seccomp, unresolved) = SeccompProfile.learned(syscalls.map { ($0.number, $0.architecture) })
        return (
            seccomp,
            unresolved.map { "\(SeccompArchitecture(auditArchitecture: $0.architecture)?.name ?? "?"):\($0.number)" }
        )
    }

    /// The profile's learned syscalls as a Kubernetes/OCI seccomp profile, and what could not be named.
    public func exportSeccomp(_ name: String, mode: SeccompMode) async throws -> (json: String, unresolved: [String]) {
        let (seccomp, unresolved) = try await seccompProfile(named: name)
        return (seccomp.ociJSON(mode: mode), unresolved)
    }

    /// Starts learning again for the profile named `name`, keeping what it learned.
    public func reopen(_ name: String, at time: Int64) async throws {
        var profile = try await profile(named: name)
        profile.lifecycle.reopen(at: time)
        try await store.save([
            StoredProfile(
                key: profile.key, state: profile.lifecycle.state, updatedAt: time, body: ProfileCoding.encode(profile))
        ])
    }
}

/// A syscall entry of a profile (`x86_64:59`).
struct LearnedSyscall {
    var architecture: UInt32
    var number: Int32

    init?(entry: String) {
        let parts = entry.split(separator: ":")
        guard parts.count == 2, let number = Int32(parts[1]) else { return nil }
        switch parts[0] {
        case "x86_64": architecture = 0xc000_003e
        case "aarch64": architecture = 0xc000_00b7
        default:
            guard parts[0].hasPrefix("0x"), let value = UInt32(parts[0].dropFirst(2), radix: 16) else { return nil }
            architecture = value
        }
        self.number = number
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
