import CLibBPF
import Glibc

/// Reads records from a BPF ring buffer map (`BPF_MAP_TYPE_RINGBUF`).
///
/// `poll` waits up to a timeout for records and hands each one, in order, to the handler given at
/// creation; the record's bytes are valid only during the call. Poll from one thread at a time.
public final class BPFRingBuffer: @unchecked Sendable {
    /// Called with each record's bytes.
    public typealias Handler = (UnsafeRawBufferPointer) -> Void

    private final class Box {
        let handler: Handler
        init(_ handler: @escaping Handler) { self.handler = handler }
    }

    private let ring: OpaquePointer
    private let box: Unmanaged<Box>

    /// Opens the ring buffer `map` for reading.
    public init(map: BPFMap, handler: @escaping Handler) throws {
        let box = Unmanaged.passRetained(Box(handler))
        // A non-capturing closure: the context pointer carries the handler.
        let ring = ring_buffer__new(
            map.descriptor,
            { context, data, size in
                guard let context, let data else { return 0 }
                Unmanaged<Box>.fromOpaque(context).takeUnretainedValue().handler(
                    UnsafeRawBufferPointer(start: data, count: size))
                return 0
            }, box.toOpaque(), nil)
        guard let ring else {
            box.release()
            throw LinuxError(
                code: .bpfFailed, message: "cannot open ring buffer \(map.name)", errno: errno, call: "ring_buffer__new"
            )
        }
        self.ring = ring
        self.box = box
    }

    deinit {
        ring_buffer__free(ring)
        box.release()
    }

    /// Waits up to `timeoutMilliseconds` for records and handles all that are there; returns how many.
    /// An interrupted wait (EINTR) returns 0.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32) throws -> Int {
        let result = ring_buffer__poll(ring, timeoutMilliseconds)
        if result >= 0 { return Int(result) }
        if -result == EINTR { return 0 }
        throw LinuxError(
            code: .bpfFailed, message: "cannot read the ring buffer", errno: -result, call: "ring_buffer__poll")
    }

    /// Handles every record there now without waiting; returns how many.
    @discardableResult
    public func consume() throws -> Int {
        let result = ring_buffer__consume(ring)
        if result >= 0 { return Int(result) }
        throw LinuxError(
            code: .bpfFailed, message: "cannot read the ring buffer", errno: -result, call: "ring_buffer__consume")
    }
}
