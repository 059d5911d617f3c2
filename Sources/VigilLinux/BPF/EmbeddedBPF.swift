import Foundation

/// This module's compiled BPF programs, built from `BPF/*.bpf.c` by the BPFCompiler plugin during `swift build`
/// and embedded as base64, so the binary needs no object file beside it.
enum EmbeddedBPF {
    /// The bytes of the compiled `quarantine.bpf.c`.
    static var quarantine: [UInt8] {
        guard let data = Data(base64Encoded: quarantineBase64) else {
            preconditionFailure("the build embedded a BPF object that is not valid base64")
        }
        return [UInt8](data)
    }
}
