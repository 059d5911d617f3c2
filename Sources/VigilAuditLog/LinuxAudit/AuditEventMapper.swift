import VigilCore

/// Maps the records of one audit event to a Vigil ``Event``.
struct AuditEventMapper {
    let records: [AuditRecord]
    let symbols: SymbolTable
    let configuration: LinuxAuditParser.Configuration
    /// The SYSCALL record, when the event has one.
    let syscallRecord: AuditRecord?
    /// The record that names the event: the SYSCALL record, else the first that is not auxiliary.
    let primary: AuditRecord

    init(records: [AuditRecord], symbols: SymbolTable, configuration: LinuxAuditParser.Configuration) {
        self.records = records
        self.symbols = symbols
        self.configuration = configuration
        let syscall = records.first(where: { $0.type == AuditRecordType.syscall })
        self.syscallRecord = syscall
        func isAuxiliary(_ type: UInt16) -> Bool {
            switch type {
            case AuditRecordType.path, AuditRecordType.cwd, AuditRecordType.execve, AuditRecordType.proctitle,
                AuditRecordType.sockaddr, AuditRecordType.endOfEvent:
                true
            default: false
            }
        }
        self.primary = syscall ?? records.first(where: { !isAuxiliary($0.type) }) ?? records[0]
    }

    mutating func event() -> Event {
        let base = Event(
            time: primary.time,
            kind: .auditRecord,
            process: ProcessKey(pid: Int32(truncatingIfNeeded: decimal("pid") ?? 0), startTime: 0),
            principal: principal(),
            uid: id("uid"),
            fields: .audit(auditFields()))
        guard let syscall = syscallRecord,
            let architecture = syscall.hexadecimal("arch").flatMap({ UInt32(exactly: $0) }),
            let number = syscall.integer("syscall").flatMap({ Int32(exactly: $0) }),
            let known = AuditSyscall.lookup(architecture: architecture, number: number)
        else { return base }
        var event = base
        // The SYSCALL record's exe= is the process's executable (the new image for an exec).
        if let executable = syscall.value("exe"), !executable.isEmpty, executable != "(null)" {
            event.executable = symbols.intern(executable)
        }
        let result = Int32(truncatingIfNeeded: syscall.integer("exit") ?? 0)
        switch known.mapping {
        case .exec:
            event.kind = .processExec
            event.fields = .process(processFields())
        case .open(let flagsArgument, let modeArgument, let fixedFlags):
            guard let path = chosenPath(preferring: ["CREATE", "NORMAL", "UNKNOWN"]) else { return base }
            var flags = fixedFlags
            if let flagsArgument, let value = argument(flagsArgument) { flags |= UInt32(truncatingIfNeeded: value) }
            if let oflag = records.lazy.compactMap({ $0.value("oflag") }).first,
                let value = UInt32(oflag, radix: 8) ?? UInt32(oflag)
            {
                flags |= value  // OPENAT2 records carry the open_how flags.
            }
            let mode = modeArgument.flatMap(argument).map { UInt32(truncatingIfNeeded: $0) } ?? 0
            event.kind = .fileOpen
            event.fields = .file(FileFields(path: symbols.intern(path), flags: flags, mode: mode, result: result))
        case .unlink:
            guard let path = chosenPath(preferring: ["DELETE", "NORMAL", "UNKNOWN"]) else { return base }
            event.kind = .fileUnlink
            event.fields = .file(FileFields(path: symbols.intern(path), result: result))
        case .rename:
            guard let old = chosenPath(preferring: ["DELETE"]) else { return base }
            let new = chosenPath(preferring: ["CREATE"]) ?? ""
            event.kind = .fileRename
            event.fields = .file(FileFields(path: symbols.intern(old), target: symbols.intern(new), result: result))
        case .chmod(let modeArgument):
            guard let path = chosenPath(preferring: ["NORMAL", "UNKNOWN"]) else { return base }
            let mode = argument(modeArgument).map { UInt32(truncatingIfNeeded: $0) } ?? 0
            event.kind = .fileChmod
            event.fields = .file(FileFields(path: symbols.intern(path), mode: mode, result: result))
        case .connect, .bind:
            // Only IP sockets have an address Vigil can carry; unix and netlink ones stay audit records.
            guard let address = socketAddress() else { return base }
            let isConnect: Bool
            if case .connect = known.mapping { isConnect = true } else { isConnect = false }
            event.kind = isConnect ? .networkConnect : .networkBind
            event.fields = .network(
                NetworkFields(
                    transport: .unknown, local: isConnect ? .none : address, remote: isConnect ? address : .none,
                    result: result))
        case .credential(let operation, let realArgument, let effectiveArgument):
            event.kind = .credentialChange
            event.fields = .credentials(
                CredentialFields(
                    operation: operation,
                    newID: realArgument.flatMap(argument).map { UInt32(truncatingIfNeeded: $0) } ?? Event.unknownUID,
                    newEffectiveID: effectiveArgument.flatMap(argument).map { UInt32(truncatingIfNeeded: $0) }
                        ?? Event.unknownUID,
                    result: result))
        }
        return event
    }

    // MARK: - Fields

    private func auditFields() -> AuditFields {
        let successText = primary.value("success") ?? primary.value("res")
        let success = successText.map { $0 == "yes" || $0 == "success" } ?? true
        let key = primary.value("key").flatMap { $0 == "(null)" ? nil : $0 } ?? ""
        let message = primary.value("op") ?? primary.value("operation") ?? primary.value("msg") ?? ""
        return AuditFields(
            recordType: primary.type,
            serial: primary.serial,
            syscall: syscallRecord.flatMap { $0.integer("syscall").flatMap { Int32(exactly: $0) } } ?? -1,
            success: success,
            loginUID: id("auid"),
            session: id("ses"),
            key: symbols.intern(key),
            message: symbols.intern(message.prefix(512)))
    }

    private func principal() -> Symbol {
        guard let account = primary.value("acct"), account != "?", account != "(null)" else { return .none }
        return symbols.intern(account)
    }

    private mutating func processFields() -> ProcessFields {
        let syscall = syscallRecord
        let cwd = records.first(where: { $0.type == AuditRecordType.cwd })?.value("cwd") ?? ""
        var executable = syscall?.value("exe") ?? ""
        if executable.isEmpty || executable == "(null)" {
            executable = paths().first.map { resolve($0.name, cwd: cwd) } ?? ""
        }
        let (arguments, truncated) = argumentList()
        return ProcessFields(
            parent: ProcessKey(pid: Int32(truncatingIfNeeded: decimal("ppid") ?? 0), startTime: 0),
            executable: symbols.intern(executable),
            arguments: symbols.intern(arguments),
            workingDirectory: symbols.intern(cwd),
            effectiveUID: id("euid"),
            gid: id("gid"),
            argumentsTruncated: truncated)
    }

    /// The arguments from EXECVE records (`argc`, `aN`, or `aN_len` with `aN[i]` pieces), else from the
    /// PROCTITLE record; joined with ``ArgumentList/join(_:)``.
    private func argumentList() -> (String, Bool) {
        let execve = records.filter { $0.type == AuditRecordType.execve }
        var arguments: [String] = []
        var truncated = false
        if !execve.isEmpty {
            var byIndex: [Int: String] = [:]
            var pieces: [Int: [(Int, String)]] = [:]
            var argc = 0
            for record in execve {
                for (key, value) in record.fields {
                    if key == "argc" {
                        argc = Int(value) ?? argc
                        continue
                    }
                    guard key.first == "a", !key.hasSuffix("_len") else { continue }
                    let body = key.dropFirst()
                    if let bracket = body.firstIndex(of: "["), body.last == "]",
                        let index = Int(body[..<bracket]),
                        let piece = Int(body[body.index(after: bracket)..<body.index(before: body.endIndex)])
                    {
                        pieces[index, default: []].append((piece, value))
                    } else if let index = Int(body) {
                        byIndex[index] = value
                    }
                }
            }
            for (index, parts) in pieces {
                byIndex[index] = parts.sorted(by: { $0.0 < $1.0 }).map(\.1).joined()
            }
            let count = max(argc, (byIndex.keys.max() ?? -1) + 1)
            for index in 0..<count {
                guard let value = byIndex[index] else {
                    truncated = true  // a lost EXECVE record or piece
                    break
                }
                arguments.append(value)
            }
        } else if let title = records.first(where: { $0.type == AuditRecordType.proctitle })?.value("proctitle") {
            arguments = title.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            if arguments.last == "" { arguments.removeLast() }
            // The kernel cuts PROCTITLE at 128 bytes.
            truncated = title.utf8.count >= 128
        }
        var joined = ArgumentList.join(arguments)
        if joined.utf8.count > configuration.maximumArgumentBytes {
            joined = String(decoding: joined.utf8.prefix(configuration.maximumArgumentBytes), as: UTF8.self)
            truncated = true
        }
        return (joined, truncated)
    }

    // MARK: - Paths

    private struct PathItem {
        var item: Int
        var name: String
        var nameType: String
    }

    private func paths() -> [PathItem] {
        records.filter { $0.type == AuditRecordType.path }
            .compactMap { record -> PathItem? in
                guard let name = record.value("name"), name != "(null)" else { return nil }
                let type = record.value("nametype") ?? record.value("objtype") ?? "UNKNOWN"
                return PathItem(item: Int(record.value("item") ?? "") ?? 0, name: name, nameType: type)
            }
            .sorted(by: { $0.item < $1.item })
    }

    /// The first PATH item of the first preferred name type (PARENT items name the directory only),
    /// resolved against the CWD when relative.
    private func chosenPath(preferring types: [String]) -> String? {
        let items = paths()
        let cwd = records.first(where: { $0.type == AuditRecordType.cwd })?.value("cwd") ?? ""
        for type in types {
            if let match = items.first(where: { $0.nameType == type }) { return resolve(match.name, cwd: cwd) }
        }
        return items.first(where: { $0.nameType != "PARENT" }).map { resolve($0.name, cwd: cwd) }
    }

    private func resolve(_ name: String, cwd: String) -> String {
        if name.hasPrefix("/") || cwd.isEmpty { return name }
        var relative = Substring(name)
        while relative.hasPrefix("./") { relative = relative.dropFirst(2) }
        if relative == "." { return cwd }
        return cwd.hasSuffix("/") ? cwd + relative : cwd + "/" + relative
    }

    // MARK: - Values

    private func decimal(_ key: String) -> Int64? {
        if let syscall = syscallRecord, let value = syscall.withValue(key, { AuditNumber.decimal($0) }) {
            return value
        }
        return primary.integer(key)
    }

    /// A uid-like field; `unset`, absent and -1 are ``Event/unknownUID``.
    private func id(_ key: String) -> UInt32 {
        let found =
            syscallRecord?.withValue(key, { AuditNumber.decimal($0) })
            ?? primary.withValue(key) {
                AuditNumber.decimal($0)
            }
        guard let value = found ?? nil else { return Event.unknownUID }  // absent, `unset` or not a number
        return UInt32(truncatingIfNeeded: value)
    }

    /// A SYSCALL argument `a<n>` (hex without 0x).
    private func argument(_ index: Int) -> UInt64? {
        index >= 0 && index < Self.argumentKeys.count ? syscallRecord?.hexadecimal(Self.argumentKeys[index]) : nil
    }

    private static let argumentKeys = ["a0", "a1", "a2", "a3"]

    /// The address of the SOCKADDR record when it is AF_INET or AF_INET6.
    private func socketAddress() -> SocketAddress? {
        guard let hex = records.first(where: { $0.type == AuditRecordType.sockaddr })?.value("saddr") else {
            return nil
        }
        return Self.decodeSockaddr(hex)
    }

    /// Decodes a hex `struct sockaddr`: AF_INET (2) or AF_INET6 (10); nil for other families or short data.
    static func decodeSockaddr(_ hex: String) -> SocketAddress? {
        guard let bytes = AuditRecordParser.hexBytes(hex), bytes.count >= 2 else { return nil }
        // sa_family is in host order; audit logs come from little-endian x86_64 and aarch64 hosts.
        let family = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
        switch family {
        case 2:
            guard bytes.count >= 8 else { return nil }
            let port = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
            return SocketAddress(address: IPAddress(v4: bytes[4], bytes[5], bytes[6], bytes[7]), port: port)
        case 10:
            guard bytes.count >= 24 else { return nil }
            let port = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
            return SocketAddress(address: IPAddress(v6: bytes[8..<24]), port: port)
        default:
            return nil
        }
    }
}
