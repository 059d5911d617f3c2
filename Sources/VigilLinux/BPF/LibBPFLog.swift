import CLibBPF
import Glibc
import Synchronization

/// Collects libbpf's own messages (the verifier log among them) so that a failed load can say why.
///
/// libbpf prints through one process-wide callback; Vigil installs it once and keeps the most recent
/// messages, bounded, for the error of the next failure.
enum LibBPFLog {
    private static let recent = Mutex<[String]>([])
    private static let installed = Mutex(false)
    private static let maximumLines = 200

    /// Installs the callback once per process.
    static func install() {
        installed.withLock { installed in
            guard !installed else { return }
            installed = true
            _ = libbpf_set_print { level, format, arguments in
                guard let format, let arguments else { return 0 }
                var buffer = [CChar](repeating: 0, count: 1024)
                let count = vsnprintf(&buffer, buffer.count, format, arguments)
                guard count > 0 else { return 0 }
                let line = String(
                    decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                LibBPFLog.append(line.trimmingSuffixNewlines(), debug: level == LIBBPF_DEBUG)
                return count
            }
        }
    }

    private static func append(_ line: String, debug: Bool) {
        recent.withLock { lines in
            lines.append(line)
            if lines.count > maximumLines { lines.removeFirst(lines.count - maximumLines) }
        }
    }

    /// Forgets what was collected, before an operation whose failure should report only its own messages.
    static func reset() {
        recent.withLock { $0.removeAll() }
    }

    /// The last messages, the verifier's last lines first in importance: the end of a verifier log says why.
    static func tail(_ count: Int = 12) -> String {
        recent.withLock { $0.suffix(count).joined(separator: "\n") }
    }
}

extension String {
    fileprivate func trimmingSuffixNewlines() -> String {
        var text = Substring(self)
        while text.last == "\n" { text = text.dropLast() }
        return String(text)
    }
}
