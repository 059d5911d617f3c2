/// A source of events: the kernel, an audit log, a cloud trail, an application.
///
/// A sensor turns raw input into ``Event``s and pushes them in batches into the ``EventSink`` the engine
/// gives it. `run` returns when the input ends or the task is cancelled (the engine cancels sensors on
/// graceful shutdown); a live sensor must then detach from its source before returning.
public protocol Sensor: Sendable {
    /// A short name used in metrics and logs (`ebpf`, `cloudtrail`, `replay`).
    var name: String { get }

    /// Produces events into `sink` until the input ends or the task is cancelled.
    func run(into sink: EventSink) async throws
}
