import Foundation

/// The sensor's compiled BPF programs, built from `BPF/*.bpf.c` by the BPFCompiler plugin during `swift build`
/// and embedded as base64, so the binary needs no object file beside it.
enum EmbeddedBPF {
    /// The bytes of the compiled `vigil.bpf.c`.
    static var vigil: [UInt8] {
        guard let data = Data(base64Encoded: vigilBase64) else {
            preconditionFailure("the build embedded a BPF object that is not valid base64")
        }
        return [UInt8](data)
    }
}
