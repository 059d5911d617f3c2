import Foundation
import Hummingbird

/// A stand-in for the cloud instance metadata service (IMDSv1), run inside the demo's own network
/// namespace at 169.254.169.254: it hands out the node role's (fake) temporary credentials, as the real one
/// does to anything on the node that asks.
enum MetadataService {
    static func run(
        host: String, port: Int, role: String, accessKeyID: String, secret: String, token: String
    )
        async throws
    {
        let router = Router()
        router.get("/latest/meta-data/") { _, _ in "ami-id\nhostname\niam/\ninstance-id\nlocal-ipv4\n" }
        router.get("/latest/meta-data/iam/security-credentials/") { _, _ in role }
        router.get("/latest/meta-data/iam/security-credentials/{name}") { _, context -> String in
            guard context.parameters.get("name") == role else { throw HTTPError(.notFound) }
            let expiration = Date(timeIntervalSinceNow: 6 * 3600).ISO8601Format()
            return """
                {
                  "Code" : "Success",
                  "LastUpdated" : "\(Date().ISO8601Format())",
                  "Type" : "AWS-HMAC",
                  "AccessKeyId" : "\(accessKeyID)",
                  "SecretAccessKey" : "\(secret)",
                  "Token" : "\(token)",
                  "Expiration" : "\(expiration)"
                }
                """
        }
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)))
        try await app.runService()
    }
}
