import VigilCore

/// Turns events into ``Observation``s: resolves symbols and normalizes, the same way for learning and
/// for checking.
public struct Observer: Sendable {
    /// The table events' symbols come from.
    public let symbols: SymbolTable

    /// Creates an observer.
    public init(symbols: SymbolTable) { self.symbols = symbols }

    /// The observation of `event`, or nil for kinds profiles do not track.
    public func observe(_ event: Event) -> Observation? {
        let s = symbols.string
        switch event.fields {
        case .process(let f) where event.kind == .processExec:
            let arguments = ArgumentList.split(s(f.arguments)).dropFirst().map(Normalizer.argument)
            return .execution(executable: Normalizer.path(s(f.executable)), arguments: arguments.joined(separator: " "))
        case .file(let f):
            let access: FileAccess = event.kind == .fileOpen ? FileAccess(openFlags: f.flags) : .write
            return .file(path: Normalizer.path(s(f.path)), access: access)
        case .network(let f):
            switch event.kind {
            case .networkConnect:
                return .entries([(.egress, "\(f.transport.name) \(f.remote)")])
            case .networkAccept:
                let network = NetworkEntry.network(of: f.remote.address.description) ?? f.remote.address.description
                return .entries([(.ingress, "\(f.transport.name) \(network) -> :\(f.local.port)")])
            case .networkSocket:
                // A packet or raw socket is what CAP_NET_RAW grants: learned as that capability's use.
                return .entries([(.capabilities, Capabilities.name(Capabilities.netRaw))])
            default:
                return nil
            }
        case .dns(let f):
            return .entries([(.dns, Normalizer.dnsName(s(f.name)))])
        case .syscall(let f):
            return .entries([(.syscalls, "\(SyscallName.architecture(f.architecture)):\(f.number)")])
        case .capability(let f):
            return .entries([(.capabilities, Capabilities.name(f.capability))])
        case .http(let f) where event.kind == .httpFetch:
            // A fetched URL is an outbound peer, named by host (and port when known) like a connection.
            // An address stays an address (it collapses into its network like a connection's); a name is
            // normalized like a DNS query.
            let host = s(f.host)
            let name = IPAddress(host).map(\.description) ?? Normalizer.dnsName(host)
            let port = f.client.port == 0 ? "" : ":\(f.client.port)"
            return .entries([(.egress, "http \(name)\(port)")])
        case .http(let f):
            let target = f.route.isNone ? Normalizer.path(s(f.path)) : s(f.route)
            return .entries([(.http, "\(s(f.method)) \(target)")])
        case .cloud(let f):
            var entries: [(ProfilePart, String)] = [(.actions, "\(s(f.service)):\(s(f.action))")]
            if !f.region.isNone { entries.append((.regions, s(f.region))) }
            if f.sourceAddress.family != .none { entries.append((.sources, f.sourceAddress.description)) }
            if !f.userAgent.isNone { entries.append((.userAgents, Normalizer.userAgent(s(f.userAgent)))) }
            return .entries(entries)
        case .kubernetes(let f):
            let resource = f.subresource.isNone ? s(f.resource) : "\(s(f.resource))/\(s(f.subresource))"
            var entries: [(ProfilePart, String)] = [
                (.actions, "k8s:\(s(f.verb)):\(resource):\(s(f.namespace))"), (.resourceTypes, s(f.resource)),
            ]
            if f.sourceAddress.family != .none { entries.append((.sources, f.sourceAddress.description)) }
            if !f.userAgent.isNone { entries.append((.userAgents, Normalizer.userAgent(s(f.userAgent)))) }
            return .entries(entries)
        default:
            return nil
        }
    }
}

extension Normalizer {
    /// Normalizes a user agent: version numbers become `{ver}`, so upgrades do not look new.
    public static func userAgent(_ agent: String) -> String {
        agent.split(separator: " ", omittingEmptySubsequences: true).map { part -> String in
            guard let slash = part.firstIndex(of: "/") else { return String(part) }
            let version = part[part.index(after: slash)...]
            let looksVersioned = version.first?.isNumber == true
            return looksVersioned ? part[..<slash] + "/{ver}" : String(part)
        }.joined(separator: " ")
    }
}

/// Architecture names for syscall entries.
enum SyscallName {
    /// `x86_64`, `aarch64`, or the audit architecture in hex.
    static func architecture(_ audit: UInt32) -> String {
        switch audit {
        case 0xc000_003e: return "x86_64"
        case 0xc000_00b7: return "aarch64"
        case 0: return "native"
        default: return "0x" + String(audit, radix: 16)
        }
    }

    /// The audit architecture of a name written by ``architecture(_:)``.
    static func audit(_ name: String) -> UInt32? {
        switch name {
        case "x86_64": return 0xc000_003e
        case "aarch64": return 0xc000_00b7
        case "native": return 0
        default: return name.hasPrefix("0x") ? UInt32(name.dropFirst(2), radix: 16) : nil
        }
    }
}

/// Linux capability names (include/uapi/linux/capability.h).
public enum Capabilities {
    static let names = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    /// CAP_NET_RAW: packet and raw sockets.
    public static let netRaw: UInt8 = 13

    /// The capability's name (`CAP_SYS_ADMIN`), or `CAP_<number>` for one newer than this table.
    public static func name(_ capability: UInt8) -> String {
        Int(capability) < names.count ? names[Int(capability)] : "CAP_\(capability)"
    }
}
