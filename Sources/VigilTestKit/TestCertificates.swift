import Foundation

/// A throwaway PKI made with the `openssl` CLI once per test run: a CA, a server certificate for IP 127.0.0.1,
/// a client certificate from that CA, and a second CA with its own client certificate (which the server must
/// refuse).
public struct TestCertificates: Sendable {
    /// The folder holding the PEM files.
    public let directory: String
    /// The test CA.
    public var caPath: String { directory + "/ca.pem" }
    /// The server certificate (for IP 127.0.0.1) and its key.
    public var serverChainPath: String { directory + "/server.pem" }
    public var serverKeyPath: String { directory + "/server.key" }
    /// A client certificate from the test CA, and its key.
    public var client: (chain: String, key: String) { (directory + "/client.pem", directory + "/client.key") }
    /// A second CA and a client certificate from it, which a server trusting only the first must refuse.
    public var otherCAPath: String { directory + "/other-ca.pem" }
    public var otherClient: (chain: String, key: String) {
        (directory + "/other-client.pem", directory + "/other-client.key")
    }

    /// An `openssl` command failed.
    public struct OpenSSLFailed: Error, CustomStringConvertible {
        public let description: String
    }

    private static let made: Result<TestCertificates, any Error> = Result { try TestCertificates.make() }

    /// Why the certificates cannot be made here.
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The certificates of this test run, made on first use; throws ``Unavailable`` without `openssl`.
    public static func forThisRun() throws -> TestCertificates {
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") {
            throw Unavailable(
                description: "needs the openssl CLI to make test certificates: apt-get install -y openssl")
        }
        return try made.get()
    }

    private static func make() throws -> TestCertificates {
        let directory = NSTemporaryDirectory() + "vigil-webhook-pki-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let pki = TestCertificates(directory: directory)
        try pki.write("server.ext", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        try pki.write("client.ext", "extendedKeyUsage=clientAuth\n")
        for ca in ["ca", "other-ca"] {
            try pki.openssl([
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "\(ca).key", "-out", "\(ca).pem", "-days", "2", "-subj", "/CN=vigil-test-\(ca)",
            ])
        }
        for (name, ca, serial) in [("server", "ca", "2"), ("client", "ca", "3"), ("other-client", "other-ca", "4")] {
            try pki.openssl([
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(name).key",
                "-out", "\(name).csr", "-subj", "/CN=vigil-test-\(name)",
            ])
            try pki.openssl([
                "x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key", "-set_serial",
                serial, "-days", "2", "-out", "\(name).pem", "-extfile", name == "server" ? "server.ext" : "client.ext",
            ])
        }
        return pki
    }

    private func write(_ name: String, _ text: String) throws {
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
    }

    /// Runs `openssl` in the directory, its output going to a file (never a pipe).
    private func openssl(_ arguments: [String]) throws {
        let log = directory + "/openssl.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw OpenSSLFailed(description: "openssl \(arguments.joined(separator: " ")) failed: \(text)")
        }
    }
}
