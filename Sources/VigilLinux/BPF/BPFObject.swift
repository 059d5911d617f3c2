import CLibBPF
import Glibc

/// A compiled BPF object (an ELF file with programs and maps) opened with libbpf: configure it, load it
/// into the kernel, attach its programs, and reach its maps.
///
/// Not thread-safe: configure, load and attach from one task; the maps it hands out may be used from any
/// thread. Closing (deinit) detaches every program it attached and frees its maps.
public final class BPFObject: @unchecked Sendable {
    fileprivate let object: OpaquePointer
    private var links: [OpaquePointer] = []
    /// The object's name, for messages.
    public let name: String

    /// Opens an object from its bytes. Nothing reaches the kernel until ``load()``.
    public init(bytes: [UInt8], name: String) throws {
        LibBPFLog.install()
        LibBPFLog.reset()
        self.name = name
        var options = bpf_object_open_opts()
        options.sz = MemoryLayout<bpf_object_open_opts>.size
        let opened = name.withCString { objectName -> OpaquePointer? in
            options.object_name = objectName
            return bytes.withUnsafeBytes { buffer in
                bpf_object__open_mem(buffer.baseAddress, buffer.count, &options)
            }
        }
        guard let opened else {
            throw LinuxError(
                code: .bpfFailed, message: "cannot open the BPF object \(name): \(LibBPFLog.tail())", errno: errno,
                call: "bpf_object__open_mem")
        }
        self.object = opened
    }

    private var closed = false

    deinit {
        close()
    }

    /// Detaches every program and unloads the object from the kernel now (its maps and programs go away).
    /// Closing twice does nothing; nothing else may be called after.
    public func close() {
        guard !closed else { return }
        closed = true
        detachAll()
        bpf_object__close(object)
    }

    /// BTF_KIND_DATASEC: libbpf's headers define it both as a macro and an enum case, which Swift cannot
    /// tell apart.
    private static let btfKindDataSection: UInt32 = 15

    /// Sets a `const volatile` global of the programs (in `.rodata`) before load, such as a process id to
    /// leave out. The verifier then sees it as a constant.
    public func setConstant(_ variable: String, to value: UInt32) throws {
        guard let rodata = bpf_object__find_map_by_name(object, ".rodata") else {
            throw LinuxError(code: .notFound, message: "the BPF object \(name) has no read-only data for \(variable)")
        }
        guard let btf = bpf_object__btf(object) else {
            throw LinuxError(code: .notFound, message: "the BPF object \(name) has no BTF to find \(variable) in")
        }
        let section = btf__find_by_name_kind(btf, ".rodata", Self.btfKindDataSection)
        guard section > 0, let sectionType = btf__type_by_id(btf, UInt32(section)) else {
            throw LinuxError(code: .notFound, message: "the BPF object \(name) describes no .rodata section")
        }
        var size = 0
        guard let initial = bpf_map__initial_value(rodata, &size) else {
            throw LinuxError(code: .notFound, message: "the BPF object \(name) has no initial .rodata image")
        }
        let entries = btf_var_secinfos(sectionType)!
        for index in 0..<Int(btf_vlen(sectionType)) {
            let entry = entries[index]
            guard let variableType = btf__type_by_id(btf, entry.type),
                let variableName = btf__name_by_offset(btf, variableType.pointee.name_off),
                String(cString: variableName) == variable
            else { continue }
            guard entry.size == 4, Int(entry.offset) + 4 <= size else {
                throw LinuxError(code: .unsupported, message: "\(variable) in \(name) is not a 32-bit value")
            }
            UnsafeMutableRawPointer(mutating: initial).storeBytes(
                of: value, toByteOffset: Int(entry.offset), as: UInt32.self)
            return
        }
        throw LinuxError(code: .notFound, message: "the BPF object \(name) has no constant named \(variable)")
    }

    /// Sets a map's size before load (a ring buffer's bytes: a power of two, a multiple of the page size).
    public func setMaximumEntries(of map: String, to entries: UInt32) throws {
        guard let found = bpf_object__find_map_by_name(object, map) else {
            throw LinuxError(code: .notFound, message: "the BPF object \(name) has no map named \(map)")
        }
        let result = bpf_map__set_max_entries(found, entries)
        guard result == 0 else {
            throw LinuxError(
                code: .bpfFailed, message: "cannot size map \(map) to \(entries)", errno: -result,
                call: "bpf_map__set_max_entries")
        }
    }

    /// Loads the maps and programs into the kernel: CO-RE relocation against the running kernel's BTF, then
    /// the verifier. A refusal carries the end of the verifier's log.
    public func load() throws {
        LibBPFLog.reset()
        let result = bpf_object__load(object)
        guard result == 0 else {
            let code: Int32 = -result
            let hint =
                code == EPERM || code == EACCES
                ? " (run as root, or grant CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE)" : ""
            throw LinuxError(
                code: code == EPERM ? .permissionDenied : .bpfFailed,
                message: "the kernel refused the BPF object \(name)\(hint):\n\(LibBPFLog.tail())", errno: code,
                call: "bpf_object__load")
        }
    }

    /// Attaches a loaded program at the hook its section names (`tp_btf/sys_exit`, `raw_tp/...`, `tp/sched/...`).
    /// It stays attached until this object is closed.
    public func attach(program: String) throws {
        guard let found = bpf_object__find_program_by_name(object, program) else {
            throw LinuxError(code: .notFound, message: "the BPF object \(name) has no program named \(program)")
        }
        LibBPFLog.reset()
        guard let link = bpf_program__attach(found) else {
            let code = errno
            throw LinuxError(
                code: code == EPERM ? .permissionDenied : .bpfFailed,
                message: "cannot attach program \(program) of \(name): \(LibBPFLog.tail(4))", errno: code,
                call: "bpf_program__attach")
        }
        links.append(link)
    }

    /// Attaches a loaded cgroup program (`cgroup/connect4`, `cgroup_skb/egress`...) to the cgroup open at
    /// `descriptor`, through a BPF link: other programs on that cgroup keep running, and this one stays
    /// attached until this object is closed or ``detachAll()``. The descriptor may be closed afterwards.
    public func attach(program: String, toCgroupDescriptor descriptor: Int32) throws {
        guard let found = bpf_object__find_program_by_name(object, program) else {
            throw LinuxError(code: .notFound, message: "the BPF object \(name) has no program named \(program)")
        }
        LibBPFLog.reset()
        guard let link = bpf_program__attach_cgroup(found, descriptor) else {
            let code = errno
            throw LinuxError(
                code: code == EPERM ? .permissionDenied : .bpfFailed,
                message: "cannot attach program \(program) of \(name) to a cgroup: \(LibBPFLog.tail(4))",
                errno: code, call: "bpf_program__attach_cgroup")
        }
        links.append(link)
    }

    /// Detaches every attached program (the maps stay readable until the object is closed).
    public func detachAll() {
        for link in links { bpf_link__destroy(link) }
        links.removeAll()
    }

    /// How many programs are attached.
    public var attachedCount: Int { links.count }

    /// A map of the loaded object.
    public func map(named map: String) throws -> BPFMap {
        guard let found = bpf_object__find_map_by_name(object, map) else {
            throw LinuxError(code: .notFound, message: "the BPF object \(name) has no map named \(map)")
        }
        let descriptor = bpf_map__fd(found)
        guard descriptor >= 0 else {
            throw LinuxError(code: .bpfFailed, message: "map \(map) of \(name) is not loaded")
        }
        return BPFMap(
            name: map, descriptor: descriptor, keySize: Int(bpf_map__key_size(found)),
            valueSize: Int(bpf_map__value_size(found)))
    }
}

extension BPFObject {
    /// The kernel ids of this object's loaded programs.
    public func programIDs() -> [UInt32] {
        var ids: [UInt32] = []
        var program = bpf_object__next_program(object, nil)
        while let current = program {
            let descriptor = bpf_program__fd(current)
            if descriptor >= 0, let id = Self.programID(descriptor: descriptor) { ids.append(id) }
            program = bpf_object__next_program(object, current)
        }
        return ids
    }

    /// The ids of every BPF program loaded in the kernel now, by any process (needs root): to check that a
    /// sensor left nothing behind.
    public static func loadedProgramIDs() -> Set<UInt32> {
        var ids: Set<UInt32> = []
        var id: UInt32 = 0
        while bpf_prog_get_next_id(id, &id) == 0 { ids.insert(id) }
        return ids
    }

    private static func programID(descriptor: Int32) -> UInt32? {
        var info = bpf_prog_info()
        var length = UInt32(MemoryLayout<bpf_prog_info>.size)
        guard bpf_obj_get_info_by_fd(descriptor, &info, &length) == 0 else { return nil }
        return info.id
    }
}
