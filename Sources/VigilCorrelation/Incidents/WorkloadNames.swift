import VigilCore

/// Names derived from workloads, kept by ``WorkloadID``: a workload never changes once interned, while looking
/// one up in the ``SymbolTable`` takes its lock and copies its strings.
struct WorkloadNames {
    private var names: [String?] = []
    private let name: @Sendable (Workload) -> String

    /// Keeps the names `name` gives.
    init(_ name: @escaping @Sendable (Workload) -> String) {
        self.name = name
    }

    /// The name of the workload `id` stands for in `symbols`.
    mutating func name(of id: WorkloadID, in symbols: SymbolTable) -> String {
        let index = Int(id.rawValue)
        if index < names.count, let name = names[index] { return name }
        let workload = symbols.workload(id)
        let name = self.name(workload)
        // The table answers the host for an id it has not issued yet: only a workload it knows is kept. A stray
        // huge id is not kept either, so the list stays as dense as the table.
        if workload != .host || index == 0, index < 1 << 22 {
            if index >= names.count { names.append(contentsOf: repeatElement(nil, count: index + 1 - names.count)) }
            names[index] = name
        }
        return name
    }
}
