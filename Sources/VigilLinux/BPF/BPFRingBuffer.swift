import CLibBPF
import Glibc

/// Reads records from a BPF ring buffer map (`BPF_MAP_TYPE_RINGBUF`).
///
/// `poll` waits up to a timeout for records and hands each one, in order, to the handler given at
/// creation; the record's bytes are valid only during the call. Poll from one thread at a time.
///
/// libbpf keeps reading for as long as the kernel keeps writing, so a reader slower than its producers
/// would never get back from one call; a record limit per call bounds each call instead.
public final class BPFRingBuffer: @unchecked Sendable {
    /// Called with each record's bytes.
    public typealias Handler = (UnsafeRawBufferPointer) -> Void

    private final class Box {
        let handler: Handler
        /// Records to handle in the current call before stopping it.
        var limit = Int.max
        /// Records handled in the current call.
        var handled = 0
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
                let box = Unmanaged<Box>.fromOpaque(context).takeUnretainedValue()
                box.handler(UnsafeRawBufferPointer(start: data, count: size))
                box.handled += 1
                // A negative answer makes libbpf stop after this record (it is consumed); `read` tells the
                // stop from an error by the count.
                return box.handled >= box.limit ? -ECANCELED : 0
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

    /// Waits up to `timeoutMilliseconds` for records and handles those there, at most `limit`; returns
    /// how many. An interrupted wait (EINTR) returns 0.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32, limit: Int = .max) throws -> Int {
        try read(limit: limit, call: "ring_buffer__poll") { ring_buffer__poll(ring, timeoutMilliseconds) }
    }

    /// Handles the records there now, at most `limit`, without waiting; returns how many.
    @discardableResult
    public func consume(limit: Int = .max) throws -> Int {
        try read(limit: limit, call: "ring_buffer__consume") { ring_buffer__consume(ring) }
    }

    private func read(limit: Int, call: String, _ body: () -> Int32) throws -> Int {
        let box = self.box.takeUnretainedValue()
        box.limit = max(1, limit)
        box.handled = 0
        let result = body()
        if result >= 0 || box.handled >= box.limit { return box.handled }
        if -result == EINTR { return box.handled }
        throw LinuxError(code: .bpfFailed, message: "cannot read the ring buffer", errno: -result, call: call)
    }
}
