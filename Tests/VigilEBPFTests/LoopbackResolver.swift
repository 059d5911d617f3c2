import Foundation
import Synchronization

/// A DNS resolver on a loopback address, port 53, that answers every query NXDOMAIN: the test's own
/// resolver, so that no query leaves the machine.
final class LoopbackResolver: Sendable {
    let address: String
    private let descriptor: Int32
    private let queries = Mutex<Int>(0)

    /// Binds UDP `address`:53 (root) and answers on a thread of its own until ``close()``.
    init(address: String = "127.0.0.53") throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket failed: errno \(errno)") }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_port = UInt16(53).bigEndian
        inet_pton(AF_INET, address, &local.sin_addr)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw TestFailure("cannot bind the test resolver to \(address):53: errno \(code)")
        }
        self.address = address
        self.descriptor = descriptor
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    /// How many queries it has answered.
    var answered: Int { queries.withLock { $0 } }

    func close() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
    }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            var peer = sockaddr_storage()
            var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(descriptor, &buffer, buffer.count, 0, $0, &peerLength)
                }
            }
            if count <= 0 { return }
            guard count >= 12 else { continue }
            // The query back, marked as a response (QR), recursion available, NXDOMAIN.
            var answer = Array(buffer[0..<count])
            answer[2] = 0x81
            answer[3] = 0x83
            _ = withUnsafePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, answer, answer.count, 0, $0, peerLength)
                }
            }
            queries.withLock { $0 += 1 }
        }
    }
}
