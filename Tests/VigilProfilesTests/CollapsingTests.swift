import Testing
import VigilCore
import VigilProfiles

@Suite("Collapsing")
struct CollapsingTests {
    @Test(
        "high-cardinality parts of paths become placeholders",
        arguments: [
            ("/proc/4242/status", "/proc/{pid}/status"),
            ("/proc/self/fd/3", "/proc/{pid}/fd/{num}"),
            ("/proc/12/task/77/stat", "/proc/{pid}/task/{pid}/stat"),
            ("/tmp/tmpa8f3k2q9/out.txt", "/tmp/{tmp}/out.txt"),
            (
                "/var/lib/docker/containers/3f2a9c1d5e7b4a60b1c2d3e4f5a6b7c8/config.json",
                "/var/lib/docker/containers/{id}/config.json"
            ),
            ("/run/user/1000/bus", "/run/user/{num}/bus"),
            (
                "/srv/uploads/123e4567-e89b-12d3-a456-426614174000.png",
                "/srv/uploads/123e4567-e89b-12d3-a456-426614174000.png"
            ),
            ("/srv/uploads/123e4567-e89b-12d3-a456-426614174000", "/srv/uploads/{id}"),
            ("/cache/Xk9mP2qL7vR4tN8w/blob", "/cache/{rand}/blob"),
            ("/usr/bin/python3", "/usr/bin/python3"),
            ("/etc/nginx/nginx.conf", "/etc/nginx/nginx.conf"),
            ("/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
        ])
    func paths(path: String, expected: String) {
        #expect(Normalizer.path(path) == expected)
    }

    @Test("arguments, DNS names and user agents normalize their variable parts")
    func tokens() {
        #expect(Normalizer.argument("--port=8080") == "--port={num}")
        #expect(Normalizer.argument("/proc/99/maps") == "/proc/{pid}/maps")
        #expect(Normalizer.argument("app:app") == "app:app")
        #expect(Normalizer.argument(String(repeating: "a", count: 200)) == "{long}")
        #expect(Normalizer.dnsName("d41d8cd98f00b204.cdn.Example.COM") == "{id}.cdn.example.com")
        #expect(
            Normalizer.userAgent("aws-cli/2.15.3 Python/3.11.6 Linux/6.1.0 botocore/2.0")
                == "aws-cli/{ver} Python/{ver} Linux/{ver} botocore/{ver}")
    }

    @Test("a directory collapses into * after the threshold, and the wildcard covers new children")
    func collapse() {
        var trie = PathTrie(collapseThreshold: 50)
        for index in 0..<50 {
            trie.insert("/srv/data/file-\(Character(UnicodeScalar(65 + index % 26)!))\(index)", access: .read)
        }
        #expect(trie.access(of: "/srv/data/unseen") == nil)
        trie.insert("/srv/data/one-more", access: .read)
        #expect(trie.access(of: "/srv/data/unseen") == .read, "the wildcard does not cover an unseen child")
        #expect(trie.entries.map(\.path) == ["/srv/data/*"])
        #expect(trie.access(of: "/srv/data/unseen")?.contains(.write) == false)
        #expect(trie.nodeCount <= 4, "collapsed children still occupy nodes")
    }

    @Test("collapsing a deep directory among many others keeps learning in the right place")
    func collapseAmongSiblings() {
        // Collapsing renumbers the trie's nodes; the insert that caused it must go on from the directory's new
        // place. Many sibling directories, filled one after another, move it around.
        var trie = PathTrie(collapseThreshold: 50)
        for directory in 0..<12 {
            for file in 0..<60 {
                trie.insert("/var/lib/app\(directory)/cache/entry-\(file)/data-\(directory)", access: .write)
            }
        }
        for directory in 0..<12 {
            #expect(trie.access(of: "/var/lib/app\(directory)/cache/unseen/data-\(directory)") == .write)
            #expect(trie.access(of: "/var/lib/app\(directory)/cache/unseen/data-\((directory + 1) % 12)") == nil)
        }
        #expect(trie.entries.count == 12)
    }

    @Test("sensitive paths never collapse, and a wildcard never covers them")
    func sensitive() {
        var trie = PathTrie(collapseThreshold: 10)
        trie.insert("/etc/shadow", access: .read)
        for index in 0..<20 { trie.insert("/etc/conf\(Character(UnicodeScalar(97 + index)!))", access: .read) }
        let paths = trie.entries.map(\.path)
        #expect(paths.contains("/etc/*"))
        #expect(paths.contains("/etc/shadow"), "a sensitive file was folded into the wildcard")
        #expect(trie.access(of: "/etc/hostname") == .read)
        #expect(trie.access(of: "/etc/gshadow") == nil, "the wildcard covered a sensitive path")
        #expect(trie.access(of: "/etc/sudoers") == nil)
        #expect(trie.access(of: "/etc/ld.so.preload") == nil)
        // Service-account tokens and SSH keys stay exact under collapsed parents too.
        var secrets = PathTrie(collapseThreshold: 3)
        for index in 0..<5 { secrets.insert("/root/dir\(Character(UnicodeScalar(97 + index)!))/x", access: .read) }
        #expect(secrets.access(of: "/root/.ssh/id_rsa") == nil)
        #expect(SensitivePaths.contains("/var/run/secrets/kubernetes.io/serviceaccount/token"))
        #expect(SensitivePaths.contains("/home/alice/.ssh/authorized_keys"))
        #expect(SensitivePaths.contains("/home/alice/.aws/credentials"))
        #expect(!SensitivePaths.contains("/srv/app.py"))
    }

    @Test("the trie has a size bound and says when it overflowed")
    func bound() {
        var trie = PathTrie(collapseThreshold: 1000, capacity: 10)
        var refused = 0
        for index in 0..<20 where !trie.insert("/a\(Character(UnicodeScalar(97 + index)!))", access: .read) {
            refused += 1
        }
        #expect(trie.nodeCount == 10)
        #expect(refused == 11)
        #expect(trie.overflowed)
    }

    @Test("open flags map to access")
    func access() {
        #expect(FileAccess(openFlags: 0) == .read)
        #expect(FileAccess(openFlags: 1) == .write)
        #expect(FileAccess(openFlags: 2) == [.read, .write])
        #expect(FileAccess(openFlags: 0o101) == .write)
        #expect(FileAccess(openFlags: 0o2002) == [.read, .write])
        #expect(FileAccess(letters: "r-x") == [.read, .execute])
        #expect(FileAccess(letters: "rwz") == nil)
    }
}
