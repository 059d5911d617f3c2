import VigilCore

/// The names of workloads, kept by ``WorkloadID``: a workload never changes once interned, while looking one
/// up in the ``SymbolTable`` takes its lock and copies its strings. One list serves the facts (the workload's
/// entity) and the phrases (its short name).
struct WorkloadNames {
    /// What the correlator says of one workload.
    struct Names {
        /// The workload's ``Workload/name``, which names its entity.
        var name: String
        /// Its short name in phrases: the owner or container name, or `the host`.
        var place: String

        init(_ workload: Workload) {
            name = workload.name
            switch workload.kind {
            case .host: place = "the host"
            case .container, .kubernetes:
                place = workload.ownerName.isEmpty ? workload.containerName : workload.ownerName
            }
        }
    }

    private var names: [Names?] = []

    /// The names of the workload `id` stands for in `symbols`.
    mutating func names(of id: WorkloadID, in symbols: SymbolTable) -> Names {
        let index = Int(id.rawValue)
        if index < names.count, let known = names[index] { return known }
        let workload = symbols.workload(id)
        let made = Names(workload)
        // The table answers the host for an id it has not issued yet: only a workload it knows is kept. A stray
        // huge id is not kept either, so the list stays as dense as the table.
        if workload != .host || index == 0, index < 1 << 22 {
            if index >= names.count { names.append(contentsOf: repeatElement(nil, count: index + 1 - names.count)) }
            names[index] = made
        }
        return made
    }
}
