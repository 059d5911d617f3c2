import Foundation
import Testing
import VigilCore
import VigilEBPF
import VigilLinux
import VigilTestKit

/// The Python program the tests run: each step makes one kind of kernel event the sensor must report.
let behaviourScript = #"""
    import ctypes, os, signal, socket, sys, time
    libc = ctypes.CDLL(None, use_errno=True)
    resolver = sys.argv[1]

    # A relative open, resolved against the working directory.
    fd = os.open("data.txt", os.O_RDONLY)
    os.close(fd)

    # bind, listen, connect and accept, all on loopback.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close(); client.close(); server.close()

    # A DNS query to the test's resolver.
    query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05vigil\x04test\x07example\x00\x00\x01\x00\x01"
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.settimeout(2)
    udp.sendto(query, (resolver, 53))
    try:
        udp.recv(512)
    except OSError:
        pass
    udp.close()

    # An anonymous memory file.
    os.close(os.memfd_create("vigil-test-memfd"))

    # A packet socket and a raw IP socket (recorded), beside the ordinary sockets above and a netlink socket,
    # raw as well (not recorded).
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close()
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close()
    socket.socket(socket.AF_INET, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.IPPROTO_ICMP).close()

    # A signal to a handler of its own: the handler returns through rt_sigreturn.
    signal.signal(signal.SIGUSR1, lambda number, frame: None)
    os.kill(os.getpid(), signal.SIGUSR1)

    # ptrace attach to a child of its own.
    child = os.fork()
    if child == 0:
        time.sleep(10)
        os._exit(0)
    attached = libc.syscall(101, 16, child, 0, 0)  # PTRACE_ATTACH
    os.waitpid(child, 0)
    os.kill(child, 9)
    os.waitpid(child, 0)

    # finit_module on a file that is not a module: refused, but recorded.
    fd = os.open("data.txt", os.O_RDONLY)
    libc.syscall(313, fd, b"", 0)
    os.close(fd)

    print(port, child, attached, flush=True)
    sys.exit(3)
    """#

@Suite("eBPF sensor on the running kernel", .serialized)
struct EBPFSensorTests {
    @Test("a process in a container-like cgroup produces exactly the expected events")
    func processInContainerCgroup() async throws {
        guard kernelTestsAllowed() else { return }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("hello\n".utf8).write(to: directory.appendingPathComponent("data.txt"))
        try Data(behaviourScript.utf8).write(to: directory.appendingPathComponent("behaviour.py"))

        // A docker-like cgroup: /vigil-test-<random>/docker-<64 hex>.scope.
        let filesystem = try CgroupFilesystem.locateV2()
        let containerID = (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 1...UInt64.max)) }.joined()
        let parentGroup = try Cgroup.create("/vigil-test-\(UInt32.random(in: 0...UInt32.max))", in: filesystem)
        let group = try Cgroup.create(parentGroup.path + "/docker-\(containerID).scope", in: filesystem)
        defer {
            try? group.remove()
            try? parentGroup.remove()
        }
        let resolver = try LoopbackResolver(address: "127.0.53.1")
        defer { resolver.close() }

        let python = realExecutable("python3")
        var child: Child?
        let run = try await withSensor {
            // The shell moves itself into the cgroup, then becomes python: same pid, now in the container.
            child = try runChild(
                "/bin/sh",
                [
                    "-c",
                    "echo $$ > \(group.absolutePath)/cgroup.procs && exec /usr/bin/python3 behaviour.py \(resolver.address)",
                ],
                directory: directory)
        }
        let process = try #require(child)
        #expect(process.status == 3, "the script failed: \(process.output)")
        let printed = process.output.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        try #require(printed.count == 3, "unexpected output: \(process.output)")
        let (port, tracedChild, attachResult) = (UInt16(printed[0]), printed[1], printed[2])
        #expect(attachResult == 0)

        let events = run.events(ofPID: process.pid)
        let container = run.symbols.lookup(containerID)
        #expect(container != nil, "no event carried the container id")

        // exec: the shell, then python in the container.
        let execs = events.filter { $0.kind == .processExec }
        try #require(execs.count == 2, "exec events: \(execs.map { describe($0, run) })")
        guard case .process(let shell) = execs[0].fields, case .process(let exec) = execs[1].fields else {
            Issue.record("exec events without process fields")
            return
        }
        #expect(run.text(shell.executable) == URL(fileURLWithPath: "/bin/sh").resolvingSymlinksInPath().path)
        #expect(execs[0].container == .none)
        #expect(run.text(exec.executable) == python)
        #expect(ArgumentList.split(run.text(exec.arguments)) == ["/usr/bin/python3", "behaviour.py", resolver.address])
        #expect(run.text(exec.workingDirectory) == directory.path)
        #expect(exec.parent.pid == getpid())
        #expect(execs[1].container == container)
        #expect(
            run.symbols.workload(execs[1].workload)
                == Workload(kind: .container, containerName: String(containerID.prefix(12))))
        #expect(execs[1].uid == 0)
        #expect(run.text(exec.fileName) == "/usr/bin/python3")
        #expect(exec.mountNamespace == ownMountNamespace())

        // Everything python did is in the container.
        let afterExec = events.filter { $0.time >= execs[1].time }
        #expect(afterExec.allSatisfy { $0.container == container })

        // The relative open, as a full path.
        let dataPath = directory.appendingPathComponent("data.txt").path
        let opens = afterExec.compactMap { event -> FileFields? in
            guard event.kind == .fileOpen, case .file(let file) = event.fields, run.text(file.path) == dataPath else {
                return nil
            }
            return file
        }
        #expect(opens.count == 2, "opens of data.txt: \(opens.count)")
        #expect(opens.allSatisfy { $0.flags & 3 == 0 && $0.result >= 0 })

        // bind, listen, connect, accept on 127.0.0.1:port.
        let loopback = IPAddress(v4: 127, 0, 0, 1)
        let network = afterExec.compactMap { event -> (EventKind, NetworkFields)? in
            guard case .network(let fields) = event.fields else { return nil }
            return (event.kind, fields)
        }
        let server = SocketAddress(address: loopback, port: port)
        #expect(network.contains { $0.0 == .networkBind && $0.1.local == server && $0.1.transport == .tcp })
        #expect(network.contains { $0.0 == .networkListen && $0.1.local == server })
        #expect(network.contains { $0.0 == .networkConnect && $0.1.remote == server && $0.1.result == 0 })
        #expect(network.contains { $0.0 == .networkAccept && $0.1.local == server && $0.1.remote.address == loopback })

        // socket(): only the packet and the raw socket, in that order.
        let sockets = network.filter { $0.0 == .networkSocket }.map(\.1)
        #expect(sockets.map(\.transport) == [.packet, .raw], "socket events: \(sockets)")
        #expect(sockets.allSatisfy { $0.result == 0 })
        #expect(sockets.last?.local == SocketAddress(address: IPAddress(v4: 0, 0, 0, 0), port: 0))

        // The DNS query, parsed.
        let queries = afterExec.compactMap { event -> DNSFields? in
            if case .dns(let fields) = event.fields { return fields }
            return nil
        }
        try #require(queries.count == 1, "DNS queries: \(queries.count)")
        #expect(run.text(queries[0].name) == "vigil.test.example")
        #expect(queries[0].queryType == 1)
        #expect(queries[0].server == SocketAddress(address: IPAddress(v4: 127, 0, 53, 1), port: 53))
        #expect(resolver.answered == 1)

        // memfd_create, ptrace attach, finit_module.
        #expect(
            afterExec.contains {
                if case .memfd(let fields) = $0.fields {
                    return run.text(fields.name) == "vigil-test-memfd" && fields.result >= 0
                }
                return false
            })
        let traces = afterExec.compactMap { event -> PtraceFields? in
            if case .ptrace(let fields) = event.fields { return fields }
            return nil
        }
        #expect(traces.count == 1 && traces.first?.request == 16 && traces.first?.target.pid == tracedChild)
        #expect(traces.first?.result == 0)
        let modules = afterExec.compactMap { event -> ModuleFields? in
            if case .module(let fields) = event.fields { return fields }
            return nil
        }
        #expect(modules.count == 1 && modules.first?.fromFile == true && modules.first?.result ?? 0 < 0)
        #expect(modules.first.map { run.text($0.name) } == dataPath)

        // The fork of the traced child, and python's exit with status 3.
        let forks = run.events(ofPID: tracedChild).filter { $0.kind == .processFork }
        #expect(forks.count == 1)
        if case .process(let fork)? = forks.first?.fields { #expect(fork.parent.pid == process.pid) }
        let exits = events.filter { $0.kind == .processExit }
        #expect(exits.count == 1)
        if case .process(let exit)? = exits.first?.fields { #expect(exit.exitStatus == 3 << 8) }

        // The container's syscall usage, from the kernel's per-cgroup map: what python called is there.
        let used = Set(
            run.events.compactMap { event -> Int32? in
                guard event.kind == .syscall, event.container == container, case .syscall(let fields) = event.fields
                else { return nil }
                return fields.number
            })
        // Calls that never reach the syscall exit hook are there too: exit_group (231) and rt_sigreturn (15).
        #expect(
            used.isSuperset(of: [101, 313, 319, 42, 288, 49, 50, 257, 41, 231, 15]), "syscalls seen: \(used.sorted())")

        // The sensor's own process (this test) is left out in the kernel; it was running before the sensor
        // started, so it is announced once, from /proc, as the parent of what it started.
        let own = run.events(ofPID: getpid())
        #expect(own.count == 1 && own.first?.kind == .processSnapshot)
        if case .process(let snapshot)? = own.first?.fields {
            #expect(
                run.text(snapshot.executable)
                    == URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path)
        }
        #expect(run.sensor.attachedPrograms == 5)
        // Shutdown detached and unloaded every program.
        #expect(run.sensor.programIDs.count == 9)
        // The kernel frees programs after an RCU grace period: give it a moment.
        var remaining = BPFObject.loadedProgramIDs().intersection(run.sensor.programIDs)
        for _ in 0..<100 where !remaining.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            remaining = BPFObject.loadedProgramIDs().intersection(run.sensor.programIDs)
        }
        #expect(remaining.isEmpty, "programs left loaded: \(remaining.sorted())")
    }

    @Test("a process in a kubepods-like cgroup belongs to its pod's container")
    func processInPodCgroup() async throws {
        guard kernelTestsAllowed() else { return }
        let filesystem = try CgroupFilesystem.locateV2()
        let podUID = UUID().uuidString.lowercased()
        let containerID = (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 1...UInt64.max)) }.joined()
        let slice = "kubepods-burstable-pod\(podUID.replacingOccurrences(of: "-", with: "_")).slice"
        let base = "/vigil-test-\(UInt32.random(in: 0...UInt32.max))"
        let paths = [
            base, base + "/kubepods.slice", base + "/kubepods.slice/kubepods-burstable.slice",
            base + "/kubepods.slice/kubepods-burstable.slice/" + slice,
            base + "/kubepods.slice/kubepods-burstable.slice/" + slice + "/cri-containerd-\(containerID).scope",
        ]
        var groups: [Cgroup] = []
        defer { for group in groups.reversed() { try? group.remove() } }
        for path in paths { groups.append(try Cgroup.create(path, in: filesystem)) }
        let group = try #require(groups.last)
        var child: Child?
        let run = try await withSensor {
            child = try runChild("/bin/sh", ["-c", "echo $$ > \(group.absolutePath)/cgroup.procs && exec /bin/true"])
        }
        let process = try #require(child)
        let exec = try #require(run.events(ofPID: process.pid).last { $0.kind == .processExec })
        #expect(run.text(exec.container) == containerID)
        let workload = run.symbols.workload(exec.workload)
        #expect(workload.kind == .kubernetes)
        #expect(workload.ownerName == podUID)
        #expect(workload.containerName == String(containerID.prefix(12)))
    }
}

/// Host-side file, namespace and privilege calls, IPv6, and the /proc seeding of running processes.
let privilegedScript = #"""
    import ctypes, os, socket, struct, sys
    libc = ctypes.CDLL(None, use_errno=True)
    os.mkdir("work")
    os.chdir("work")
    open("a.txt", "w").close()                      # openat with O_CREAT
    os.rename("a.txt", "b.txt")                     # rename, relative on both sides
    os.link("b.txt", "c.txt")                       # link
    os.symlink("/etc/hostname", "d.lnk")            # symlink: the target stays as written
    os.chmod("b.txt", 0o600)                        # chmod (fchmodat)
    os.unlink("c.txt")                              # unlink (unlinkat)

    # A new mount namespace, a tmpfs mounted inside it, and setns back into the network namespace we are in.
    assert libc.unshare(0x00020000) == 0            # CLONE_NEWNS
    libc.mount(b"none", b"/", None, 0x40000 | 0x4000, None)   # MS_PRIVATE | MS_REC: keep the mount to ourselves
    assert libc.mount(b"vigiltmp", os.getcwd().encode(), b"tmpfs", 0, None) == 0
    ns = os.open("/proc/self/ns/net", os.O_RDONLY)
    assert libc.setns(ns, 0x40000000) == 0          # CLONE_NEWNET
    os.close(ns)

    os.setgid(0)                                    # a credential change (to what it was)

    # bpf(BPF_MAP_CREATE) for a tiny named array map.
    attr = struct.pack("IIIIIII16s", 2, 4, 4, 1, 0, 0, 0, b"vigiltestmap")
    attr = attr + b"\0" * (128 - len(attr))
    buffer = ctypes.create_string_buffer(attr, len(attr))
    fd = libc.syscall(321, 0, buffer, len(attr))
    assert fd >= 0, ctypes.get_errno()
    os.close(fd)

    # IPv6: a listener and a connection on ::1.
    server = socket.socket(socket.AF_INET6)
    server.bind(("::1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    client = socket.create_connection(("::1", port))
    client.close(); server.close()
    print(port, flush=True)
    """#

extension EBPFSensorTests {
    @Test("file, namespace, credential and bpf calls and IPv6 of a host process")
    func hostProcessCalls() async throws {
        guard kernelTestsAllowed() else { return }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(privilegedScript.utf8).write(to: directory.appendingPathComponent("calls.py"))
        var child: Child?
        let run = try await withSensor {
            child = try runChild("/usr/bin/python3", ["calls.py"], directory: directory)
        }
        let process = try #require(child)
        try #require(process.status == 0, "the script failed: \(process.output)")
        let port = try #require(UInt16(process.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        let events = run.events(ofPID: process.pid)
        let work = directory.appendingPathComponent("work").path
        func files(_ kind: EventKind) -> [FileFields] {
            events.compactMap { event in
                guard event.kind == kind, case .file(let fields) = event.fields else { return nil }
                return fields
            }
        }
        let created = files(.fileOpen).filter { run.text($0.path) == work + "/a.txt" }
        #expect(created.count == 1 && (created.first?.flags ?? 0) & 0o100 != 0)  // O_CREAT
        let renames = files(.fileRename)
        #expect(renames.count == 1)
        #expect(renames.first.map { run.text($0.path) } == work + "/a.txt")
        #expect(renames.first.map { run.text($0.target) } == work + "/b.txt")
        let links = files(.fileLink)
        #expect(links.first.map { [run.text($0.path), run.text($0.target)] } == [work + "/b.txt", work + "/c.txt"])
        let symlinks = files(.fileSymlink)
        #expect(symlinks.first.map { [run.text($0.path), run.text($0.target)] } == ["/etc/hostname", work + "/d.lnk"])
        let chmods = files(.fileChmod)
        #expect(chmods.first.map { run.text($0.path) } == work + "/b.txt")
        #expect(chmods.first?.mode == 0o600)
        #expect(files(.fileUnlink).map { run.text($0.path) } == [work + "/c.txt"])

        let namespaces = events.compactMap { event -> (EventKind, NamespaceFields)? in
            if case .namespace(let fields) = event.fields { return (event.kind, fields) }
            return nil
        }
        #expect(namespaces.contains { $0.0 == .unshare && $0.1.flags == 0x0002_0000 && $0.1.result == 0 })
        #expect(
            namespaces.contains {
                $0.0 == .mount && run.text($0.1.source) == "vigiltmp" && run.text($0.1.target) == work
                    && run.text($0.1.filesystem) == "tmpfs" && $0.1.result == 0
            })
        #expect(
            namespaces.contains {
                $0.0 == .setns && $0.1.flags == 0x4000_0000 && run.text($0.1.source).hasPrefix("net:[")
            }, "setns: \(namespaces.filter { $0.0 == .setns }.map { run.text($0.1.source) })")

        #expect(
            events.contains {
                if case .credentials(let fields) = $0.fields { return fields.operation == .setgid && fields.newID == 0 }
                return false
            })
        #expect(
            events.contains {
                if case .bpf(let fields) = $0.fields {
                    return fields.command == 0 && run.text(fields.name) == "vigiltestmap" && fields.result >= 0
                }
                return false
            })

        let loopback6 = IPAddress(v6: [UInt8](repeating: 0, count: 15) + [1])
        let server = SocketAddress(address: loopback6, port: port)
        #expect(
            events.contains {
                if case .network(let fields) = $0.fields {
                    return $0.kind == .networkConnect && fields.remote == server && fields.result == 0
                }
                return false
            })
        #expect(
            events.contains {
                if case .network(let fields) = $0.fields { return $0.kind == .networkListen && fields.local == server }
                return false
            })
        // A host process's workload is its executable in its cgroup.
        let open = try #require(events.first { $0.kind == .fileOpen })
        let workload = run.symbols.workload(open.workload)
        #expect(workload.kind == .host && workload.executable == realExecutable("python3"), "workload: \(workload)")
        #expect(run.sensor.seededProcesses > 0)
    }

    @Test("a tiny ring buffer under a burst of opens drops records, counted per kind and reported to the engine")
    func dropsAreCounted() async throws {
        guard kernelTestsAllowed() else { return }
        let configuration = EBPFSensorConfiguration(
            ringBufferBytes: 4096, pollInterval: .milliseconds(200), syscallUsageInterval: .seconds(1))
        var child: Child?
        let run = try await withSensor(configuration, findingPerEvent: true) {
            child = try runChild(
                "/usr/bin/python3",
                ["-c", "import os\nfor i in range(20000): os.close(os.open('/dev/null', os.O_RDONLY))"])
        }
        #expect(child?.status == 0)
        let kernelDrops = run.sensor.kernelDrops[.fileOpen] ?? 0
        #expect(kernelDrops > 0, "no drops with a 4 KiB ring: \(run.sensor)")
        // The engine counts them as dropped for this sensor and kind, like its own drops.
        #expect(run.statistics.eventsDropped["ebpf"]?[.fileOpen] ?? 0 >= kernelDrops)
        // Not everything was lost: some opens of /dev/null made it.
        let opens = run.events(ofPID: child?.pid ?? 0).filter { $0.kind == .fileOpen }
        #expect(
            !opens.isEmpty,
            "\(run.sensor) all opens: \(run.events.filter { $0.kind == .fileOpen }.count), by child: \(run.events(ofPID: child?.pid ?? 0).count)"
        )
        #expect(UInt64(opens.count) + kernelDrops >= 20000)
        // Findings raised after the loss say so.
        #expect(run.findings.contains { $0.eventsLostBefore > 0 }, "no finding carries the loss")
    }

    @Test("a small ring flooded with opens still carries every exec: the last quarter is kept for rare kinds")
    func ringKeepsRoomForExecs() async throws {
        guard kernelTestsAllowed() else { return }
        // 256 KiB: the kept quarter holds about nineteen exec records (their string slots make them about 3.3 KiB),
        // so the execs of other processes running meanwhile (a test suite in parallel) do not crowd these out;
        // the two flooders still fill the rest many times over between polls.
        let configuration = EBPFSensorConfiguration(
            ringBufferBytes: 262_144, pollInterval: .milliseconds(200), syscallUsageInterval: .seconds(1))
        // Two flooding processes keep the ring full of opens while the script runs /bin/true 20 times.
        let script = """
            import os, signal, time
            flooders = []
            for _ in range(2):
                pid = os.fork()
                if pid == 0:
                    while True: os.close(os.open('/dev/null', os.O_RDONLY))
                flooders.append(pid)
            time.sleep(0.2)
            for burst in range(20):
                child = os.fork()
                if child == 0:
                    os.execv('/bin/true', ['/bin/true', f'vigil-burst-{burst}'])
                os.waitpid(child, 0)
                time.sleep(0.05)
            for pid in flooders:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            """
        var child: Child?
        let run = try await withSensor(configuration) { child = try runChild("/usr/bin/python3", ["-c", script]) }
        #expect(child?.status == 0)
        #expect(run.sensor.kernelDrops[.fileOpen] ?? 0 > 0, "the opens did not fill the ring: \(run.sensor)")
        let bursts = run.events.compactMap { event -> String? in
            guard event.kind == .processExec, case .process(let fields) = event.fields,
                run.text(fields.executable) == realExecutable("true")
            else { return nil }
            return ArgumentList.split(run.text(fields.arguments)).last
        }
        // Every exec of this test arrives. (Other processes' execs may still be lost when a parallel suite runs
        // more than the kept quarter holds at once: the count covers the whole machine.)
        #expect(Set(bursts) == Set((0..<20).map { "vigil-burst-\($0)" }), "execs lost: \(run.sensor)")
    }

    @Test("under a flood faster than the reader, the sensor still stops promptly when asked")
    func stopsUnderFlood() async throws {
        guard kernelTestsAllowed() else { return }
        // Four processes open and close files without end: on a machine with fewer cores they take most of
        // the CPU and write faster than the reader decodes. A reader that drained the ring in one call would
        // never get back to see the stop.
        let flood = "import os\nwhile True: os.close(os.open('/dev/null', os.O_RDONLY))"
        var flooders: [Process] = []
        // SIGKILL: children of the test process may inherit an ignored SIGTERM.
        defer {
            for process in flooders where process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        try await ExclusiveGate.kernelTracing.withExclusiveAccess {
            let sensor = EBPFSensor(configuration: EBPFSensorConfiguration(pollInterval: .milliseconds(20)))
            let engine = Engine(
                configuration: EngineConfiguration(shards: 1), symbols: SymbolTable(), sensors: [sensor],
                detectors: EventLog().factory(), outputs: [])
            let running = Task { try await engine.run() }
            while !sensor.isAttached { try await Task.sleep(for: .milliseconds(20)) }
            for _ in 0..<4 {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
                process.arguments = ["-c", flood]
                try process.run()
                flooders.append(process)
            }
            try await Task.sleep(for: .seconds(2))
            running.cancel()
            // Not a speed target: a liveness bound, far above the cost of one bounded read, far below forever.
            let deadline = ContinuousClock.now + .seconds(20)
            while sensor.isAttached && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            let detached = !sensor.isAttached
            let floodRan = flooders.allSatisfy { $0.isRunning }
            // Only now end the flood, so that a reader stuck in one endless read can finish and the test ends.
            for process in flooders { kill(process.processIdentifier, SIGKILL) }
            try await running.value
            #expect(floodRan, "the flood ended before the stop was checked")
            #expect(detached, "the sensor did not stop within 20 s of being asked, under a flood")
            #expect(sensor.statistics.records > 0)
        }
    }
}

/// The inode number of this process's mount namespace, from /proc/self/ns/mnt ("mnt:[4026531841]").
func ownMountNamespace() -> UInt32 {
    var buffer = [CChar](repeating: 0, count: 64)
    let count = readlink("/proc/self/ns/mnt", &buffer, buffer.count - 1)
    guard count > 0 else { return 0 }
    let text = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return UInt32(text.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }) ?? 0
}

extension EBPFSensorTests {
    @Test("a fileless exec (a memfd run through /proc/self/fd) names the memory file as its executable")
    func filelessExec() async throws {
        guard kernelTestsAllowed() else { return }
        let script = """
            import os
            fd = os.memfd_create("vigil-fileless", 0)
            os.write(fd, open("/bin/true", "rb").read())
            pid = os.fork()
            if pid == 0:
                os.execv("/proc/self/fd/%d" % fd, ["fileless-true"])
            _, status = os.waitpid(pid, 0)
            print(pid, flush=True)
            """
        var child: Child?
        let run = try await withSensor {
            child = try runChild("/usr/bin/python3", ["-c", script])
        }
        let process = try #require(child)
        let pid = try #require(Int32(process.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        let exec = try #require(run.events(ofPID: pid).first { $0.kind == .processExec })
        guard case .process(let fields) = exec.fields else { return }
        #expect(run.text(fields.executable) == "memfd:vigil-fileless")
        #expect(run.text(fields.fileName).hasPrefix("/proc/self/fd/"))
        #expect(ArgumentList.split(run.text(fields.arguments)) == ["fileless-true"])
    }
}

func describe(_ event: Event, _ run: SensorRun) -> String {
    if case .process(let fields) = event.fields {
        return "\(event.kind) \(run.text(fields.executable)) \(ArgumentList.split(run.text(fields.arguments)))"
    }
    return "\(event.kind)"
}
