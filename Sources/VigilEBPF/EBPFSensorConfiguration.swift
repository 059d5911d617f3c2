/// How the eBPF sensor runs.
public struct EBPFSensorConfiguration: Sendable {
    /// The kernel ring buffer's size in bytes: a power of two and a multiple of the page size (rounded up
    /// to one). Larger rides out longer bursts before records are dropped (and counted).
    public var ringBufferBytes: Int
    /// How long one wait on the ring buffer lasts before the sensor flushes what it has and checks for
    /// shutdown.
    public var pollInterval: Duration
    /// How often the per-workload syscall usage map is read.
    public var syscallUsageInterval: Duration
    /// How many bytes must wait in the ring before the kernel wakes the reader; 0 wakes it for each record
    /// once it has caught up. Waking costs the traced process an interrupt, so by default the reader instead
    /// collects sparse records every ``pollInterval`` and is woken only when the ring fills past this, or
    /// at once for the rare kinds a response may hinge on (exec, module load, ptrace, memfd, bpf...).
    public var wakeupBytes: Int
    /// How many events the sensor gathers before handing a batch to the engine.
    public var batchSize: Int
    /// How many processes the user-space process cache remembers (running ones, and recently exited ones
    /// for late lookups).
    public var processCacheCapacity: Int

    /// Creates a configuration; the defaults suit a node agent.
    public init(
        ringBufferBytes: Int = 16 << 20,
        pollInterval: Duration = .milliseconds(50),
        syscallUsageInterval: Duration = .seconds(1),
        batchSize: Int = 1024,
        processCacheCapacity: Int = 65536,
        wakeupBytes: Int = 256 << 10
    ) {
        self.wakeupBytes = wakeupBytes
        self.ringBufferBytes = ringBufferBytes
        self.pollInterval = pollInterval
        self.syscallUsageInterval = syscallUsageInterval
        self.batchSize = batchSize
        self.processCacheCapacity = processCacheCapacity
    }

    /// The ring size the kernel accepts: the next power of two of at least one page.
    var effectiveRingBufferBytes: UInt32 {
        var size = 4096
        while size < ringBufferBytes && size < (1 << 30) { size <<= 1 }
        return UInt32(size)
    }
}
