import CVigilEBPF
import Foundation
import Logging
import Metrics
import Synchronization
import VigilCore
import VigilLinux

/// The eBPF sensor: process, file, network, DNS and privileged-syscall events from the running kernel,
/// with the container each belongs to.
///
/// `run` checks privileges and BTF, loads the CO-RE programs (tracepoints and raw tracepoints only), seeds
/// its process cache from /proc, attaches, and then reads the kernel ring buffer on a thread of its own
/// until the task is cancelled, when it detaches every program before returning. The agent's own process
/// is left out in the kernel. Records the kernel could not write because the ring buffer was full are
/// counted per kind (``Statistics/kernelDrops``, metric `vigil_ebpf_kernel_drops_total{kind}`) and reported
/// to the engine, so the next finding says events were lost before it.
///
/// Bounds: strings (paths, arguments, names) are cut at 1023 bytes, and kernel path walks at 40 directory
/// levels; cut events say so (``ProcessFields/argumentsTruncated`` for arguments).
public struct EBPFSensor: Sensor {
    /// What the sensor has seen so far.
    public struct Statistics: Sendable, Equatable {
        /// Records read from the ring buffer.
        public var records: UInt64 = 0
        /// Events handed to the engine.
        public var events: UInt64 = 0
        /// Records the kernel dropped because the ring buffer was full, per kind.
        public var kernelDrops: [EventKind: UInt64] = [:]
        /// Records that could not be decoded (malformed, unknown kind, not a DNS query).
        public var skippedRecords: UInt64 = 0
        /// Processes found in /proc at start.
        public var seededProcesses: Int = 0
        /// Programs attached.
        public var attachedPrograms: Int = 0
        /// The kernel ids of the programs loaded (they are unloaded when the sensor stops).
        public var programIDs: [UInt32] = []
    }

    public let name = "ebpf"
    /// How the sensor runs.
    public let configuration: EBPFSensorConfiguration
    private let logger: Logger
    private let state: SensorState

    /// Creates a sensor; nothing is loaded until `run`.
    public init(
        configuration: EBPFSensorConfiguration = EBPFSensorConfiguration(), logger: Logger = Logger(label: "vigil.ebpf")
    ) {
        self.configuration = configuration
        self.logger = logger
        self.state = SensorState()
    }

    /// The statistics so far (safe from any thread).
    public var statistics: Statistics { state.statistics.withLock { $0 } }

    /// Whether the programs are attached now: true from the moment `run` has attached them until it detaches.
    public var isAttached: Bool { state.attached.load(ordering: .acquiring) }

    public func run(into sink: EventSink) async throws {
        try Privileges.checkBPF()
        let session = try KernelSession(configuration: configuration, sink: sink, state: state, logger: logger)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let thread = Thread {
                    do {
                        try session.readUntilStopped()
                        continuation.resume()
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.name = "vigil-ebpf-reader"
                thread.start()
            }
        } onCancel: {
            session.stop()
        }
    }
}

/// State shared between the sensor value, its reader thread and observers.
final class SensorState: Sendable {
    let statistics = Mutex(EBPFSensor.Statistics())
    let attached = Atomic<Bool>(false)
}

/// One loaded and attached instance of the programs, read by one thread.
private final class KernelSession: @unchecked Sendable {
    /// Programs attached, in this order: process lifetime first, so the cache sees processes before their
    /// syscalls.
    static let programs = ["vigil_fork", "vigil_exec", "vigil_exit", "vigil_signal_deliver", "vigil_sys_exit"]

    private let configuration: EBPFSensorConfiguration
    private let sink: EventSink
    private let state: SensorState
    private let logger: Logger
    private let stopped = Atomic<Bool>(false)

    private let object: BPFObject
    private let dropsMap: BPFMap
    private let usageMap: BPFMap
    private var ring: BPFRingBuffer?
    private var decoder: RecordDecoder
    private var batch: EventBatch
    private var records: UInt64 = 0
    private var events: UInt64 = 0
    /// Kernel drop counts already reported, per kind, and losses waiting for the next event to carry them.
    private var reportedDrops = [UInt64](repeating: 0, count: Int(VIGIL_KIND_COUNT.rawValue))
    private var unreportedLoss: [(EventKind, Int)] = []
    /// The last event handed on: losses still unreported at shutdown are reported against its shard.
    private var lastEvent: Event?
    /// Syscall bits already turned into events, per cgroup id.
    private var usageSeen: [UInt64: [UInt64]] = [:]
    /// cgroups whose path could not be found at the last read: gone if still not found at the next one.
    private var unresolvedCgroups: Set<UInt64> = []
    private let dropCounters: [Counter?]

    init(configuration: EBPFSensorConfiguration, sink: EventSink, state: SensorState, logger: Logger) throws {
        self.configuration = configuration
        self.sink = sink
        self.state = state
        self.logger = logger
        self.batch = EventBatch(capacity: configuration.batchSize)

        let object = try BPFObject(bytes: EmbeddedBPF.vigil, name: "vigil")
        try object.setConstant("agent_tgid", to: UInt32(getpid()))
        // Never above half the ring: the kernel must wake the reader before the ring is full.
        let wakeup = min(configuration.wakeupBytes, Int(configuration.effectiveRingBufferBytes) / 2)
        try object.setConstant("wakeup_bytes", to: UInt32(max(0, wakeup)))
        // The last quarter of the ring is kept for the kinds that do not come in floods.
        try object.setConstant("bulk_limit_bytes", to: UInt32(configuration.effectiveRingBufferBytes / 4 * 3))
        try object.setMaximumEntries(of: "events", to: configuration.effectiveRingBufferBytes)
        try object.load()
        self.object = object
        self.dropsMap = try object.map(named: "drops")
        self.usageMap = try object.map(named: "syscall_usage")

        var cgroups: CgroupResolver?
        do {
            cgroups = CgroupResolver(filesystem: try CgroupFilesystem.locateV2())
        } catch {
            logger.warning("no cgroup v2 mount: every event is attributed to the host", metadata: ["error": "\(error)"])
        }
        var processes = ProcessCache(capacity: configuration.processCacheCapacity)
        let snapshots = ProcFS.allProcesses()
        processes.seed(snapshots, symbols: sink.symbols) { path in (try? cgroups?.id(forPath: path)) ?? 0 }
        self.decoder = RecordDecoder(
            symbols: sink.symbols, bootOffset: ProcFS.bootTimeOffsetNanoseconds(), processes: processes,
            workloads: WorkloadResolver(cgroups: cgroups, symbols: sink.symbols))
        self.dropCounters = (0..<Int(VIGIL_KIND_COUNT.rawValue)).map { raw in
            EventKind(rawValue: UInt8(raw)).map {
                Counter(label: "vigil_ebpf_kernel_drops_total", dimensions: [("kind", $0.name)])
            }
        }
        state.statistics.withLock { $0.seededProcesses = processes.count }

        // The ring is opened before attaching, so nothing written after attach is missed.
        self.ring = try BPFRingBuffer(map: try object.map(named: "events")) { [unowned self] bytes in
            self.handle(bytes)
        }
        for program in Self.programs { try object.attach(program: program) }
        state.attached.store(true, ordering: .releasing)
        let programIDs = object.programIDs()
        state.statistics.withLock {
            $0.attachedPrograms = object.attachedCount
            $0.programIDs = programIDs
        }
        logger.info(
            "eBPF sensor attached",
            metadata: [
                "programs": "\(object.attachedCount)", "ring_buffer_bytes": "\(configuration.effectiveRingBufferBytes)",
                "processes_seeded": "\(snapshots.count)",
            ])
    }

    func stop() {
        stopped.store(true, ordering: .releasing)
    }

    /// Reads records until ``stop()``; then detaches, drains what is left, and flushes.
    func readUntilStopped() throws {
        defer {
            // Unload now rather than whenever the last reference goes: a stopped sensor leaves nothing behind.
            ring = nil
            object.close()
            state.attached.store(false, ordering: .releasing)
        }
        let pollMilliseconds = Int32(
            clamping: configuration.pollInterval.components.seconds * 1000
                + configuration.pollInterval.components.attoseconds / 1_000_000_000_000_000)
        let usageInterval = configuration.syscallUsageInterval
        var lastUsageRead = ContinuousClock.now
        // Each read is bounded, so that under a flood the loop still checks drops, flushes and sees a stop.
        let limit = configuration.batchSize * 8
        while !stopped.load(ordering: .acquiring) {
            // A timed-out wait consumes nothing: records written without a wakeup are collected here.
            if try ring?.poll(timeoutMilliseconds: max(1, pollMilliseconds), limit: limit) == 0 {
                try ring?.consume(limit: limit)
            }
            try checkDrops()
            if ContinuousClock.now - lastUsageRead >= usageInterval {
                try readSyscallUsage()
                lastUsageRead = .now
            }
            flush()
        }
        // Detach first, then read what the kernel wrote before it stopped writing.
        object.detachAll()
        state.attached.store(false, ordering: .releasing)
        try ring?.consume()
        try checkDrops()
        try readSyscallUsage()
        // Drops after the last event have no next event to carry them: report them now.
        let carrier = lastEvent ?? Event(time: 0, kind: .syscall, fields: .syscall(SyscallFields(number: 0)))
        for (kind, count) in unreportedLoss { sink.recordLostAtSource(count, kind: kind, before: carrier) }
        unreportedLoss.removeAll()
        flush()
        logger.info("eBPF sensor detached", metadata: ["records": "\(records)", "events": "\(events)"])
    }

    private func handle(_ bytes: UnsafeRawBufferPointer) {
        records += 1
        let decoded = decoder.decode(bytes)
        if !decoder.snapshots.isEmpty {
            for snapshot in decoder.snapshots { batch.append(snapshot) }
            decoder.snapshots.removeAll(keepingCapacity: true)
        }
        guard let event = decoded.event else { return }
        lastEvent = event
        if !unreportedLoss.isEmpty {
            for (kind, count) in unreportedLoss { sink.recordLostAtSource(count, kind: kind, before: event) }
            unreportedLoss.removeAll(keepingCapacity: true)
        }
        batch.append(event)
        if batch.count >= configuration.batchSize { flush() }
    }

    private func flush() {
        let count = batch.count
        if count > 0 {
            events += UInt64(count)
            sink.push(&batch)
        }
        let skips = decoder.skips
        let records = self.records
        let events = self.events
        state.statistics.withLock {
            $0.records = records
            $0.events = events
            $0.skippedRecords = skips.malformed + skips.unknownKind + skips.notDNS
        }
    }

    /// Reads the kernel's per-kind drop counters; new drops are counted and carried by the next event.
    private func checkDrops() throws {
        let sums = try dropsMap.perCPUSums(count: reportedDrops.count)
        var changed = false
        for slot in sums.indices where sums[slot] > reportedDrops[slot] {
            let new = sums[slot] - reportedDrops[slot]
            reportedDrops[slot] = sums[slot]
            changed = true
            dropCounters[slot]?.increment(by: Int(new))
            if let kind = EventKind(rawValue: UInt8(slot)) { unreportedLoss.append((kind, Int(new))) }
        }
        guard changed else { return }
        var byKind: [EventKind: UInt64] = [:]
        for slot in reportedDrops.indices where reportedDrops[slot] > 0 {
            if let kind = EventKind(rawValue: UInt8(slot)) { byKind[kind] = reportedDrops[slot] }
        }
        state.statistics.withLock { $0.kernelDrops = byKind }
    }

    /// Turns syscalls newly set in the per-cgroup usage map into `syscall` events. An entry is deleted only
    /// after it has been read, and only when its cgroup is gone.
    private func readSyscallUsage() throws {
        let words = Int(VIGIL_SYSCALL_MAX) / 64
        var bits = [UInt64](repeating: 0, count: words)
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
        for var cgroup in try usageMap.keys64() {
            guard try usageMap.lookup(key: &cgroup, into: &bits) else { continue }
            let seen = usageSeen[cgroup] ?? [UInt64](repeating: 0, count: words)
            guard let resolution = decoder.workloads.resolveCgroup(cgroup) else {
                // Not found: perhaps made a moment ago, so wait one more read before calling it gone.
                if unresolvedCgroups.insert(cgroup).inserted { continue }
                // Gone: report what it used as the host's (it has been read now), then forget it.
                unresolvedCgroups.remove(cgroup)
                try usageMap.delete(key: &cgroup)
                usageSeen[cgroup] = nil
                emitUsage(bits: bits, seen: seen, workload: .host, container: .none, time: now)
                continue
            }
            unresolvedCgroups.remove(cgroup)
            if bits != seen {
                emitUsage(
                    bits: bits, seen: seen, workload: resolution.workload, container: resolution.container, time: now)
                usageSeen[cgroup] = bits
            }
        }
    }

    private func emitUsage(bits: [UInt64], seen: [UInt64], workload: WorkloadID, container: Symbol, time: Int64) {
        for word in bits.indices {
            var new = bits[word] & ~seen[word]
            while new != 0 {
                let bit = new.trailingZeroBitCount
                new &= new - 1
                batch.append(
                    Event(
                        time: time, kind: .syscall, workload: workload, container: container,
                        fields: .syscall(
                            SyscallFields(number: Int32(word * 64 + bit), architecture: RecordDecoder.architecture))))
                if batch.count >= configuration.batchSize { flush() }
            }
        }
    }
}
