import Testing
import VigilCore
import VigilProfiles
import VigilTestKit

@Suite("Profiles")
struct ProfileTests {
    let hour: Int64 = 3_600_000_000_000

    @Test("lifecycle: learning, then ready after enough events, then completed after the window")
    func lifecycleWindow() {
        let policy = LifecyclePolicy(readyAfterEvents: 3, learningWindow: 10 * hour, quietPeriod: 100 * hour)
        var lifecycle = Lifecycle()
        for step in 1...2 { lifecycle.observe(at: Int64(step) * hour, addedEntry: true) }
        lifecycle.advance(now: 2 * hour, policy: policy)
        #expect(lifecycle.state == .learning)
        lifecycle.observe(at: 3 * hour, addedEntry: true)
        lifecycle.advance(now: 3 * hour, policy: policy)
        #expect(lifecycle.state == .ready)
        lifecycle.advance(now: 10 * hour, policy: policy)
        #expect(lifecycle.state == .ready, "completed before its window")
        lifecycle.advance(now: 11 * hour, policy: policy)
        #expect(lifecycle.state == .completed)
        lifecycle.reopen(at: 12 * hour)
        #expect(lifecycle.state == .learning)
    }

    @Test("lifecycle: a ready profile with nothing new for the quiet period completes early")
    func lifecycleQuiet() {
        let policy = LifecyclePolicy(readyAfterEvents: 1, learningWindow: 100 * hour, quietPeriod: 2 * hour)
        var lifecycle = Lifecycle()
        lifecycle.observe(at: hour, addedEntry: true)
        lifecycle.observe(at: 2 * hour, addedEntry: false)
        lifecycle.advance(now: 2 * hour, policy: policy)
        #expect(lifecycle.state == .ready)
        lifecycle.advance(now: 3 * hour - 1, policy: policy)
        #expect(lifecycle.state == .ready)
        lifecycle.advance(now: 3 * hour, policy: policy)
        #expect(lifecycle.state == .completed)
    }

    @Test("learning and checking see the same normalized entries")
    func learnAndCheck() {
        var profile = Profile(subject: .workload, name: "web")
        let first = profile.learn(.execution(executable: "/usr/bin/python3", arguments: "app.py --port={num}"))
        let again = profile.learn(.execution(executable: "/usr/bin/python3", arguments: "app.py --port={num}"))
        #expect(first && !again)
        #expect(profile.contains(.execution(executable: "/usr/bin/python3", arguments: "app.py --port={num}")))
        #expect(!profile.contains(.execution(executable: "/usr/bin/python3", arguments: "-c {long}")))
        #expect(!profile.contains(.execution(executable: "/bin/sh", arguments: "")))
        // Executing a file is a file access too.
        #expect(profile.contains(.file(path: "/usr/bin/python3", access: .execute)))
        profile.learn(.file(path: "/srv/app.py", access: .read))
        #expect(profile.contains(.file(path: "/srv/app.py", access: .read)))
        #expect(!profile.contains(.file(path: "/srv/app.py", access: .write)), "a write hid behind a learned read")
        profile.learn(.entries([(.dns, "db.internal")]))
        #expect(profile.contains(.entries([(.dns, "db.internal")])))
        #expect(!profile.contains(.entries([(.dns, "pool.minexmr.com")])))
        let differences = profile.differences(.file(path: "/srv/secret.key", access: .read))
        #expect(differences.first?.part == .files)
        #expect(differences.first?.nearby == ["/srv/app.py"])
    }

    @Test("many addresses of one network and port collapse into its CIDR")
    func cidr() {
        var limits = ProfileLimits()
        limits.addressesPerNetwork = 4
        var profile = Profile(subject: .workload, name: "web", limits: limits)
        for host in 1...5 { profile.learn(.entries([(.egress, "tcp 10.0.7.\(host):443")])) }
        #expect(profile.entries(.egress) == ["tcp 10.0.7.0/24:443"])
        #expect(profile.contains(.entries([(.egress, "tcp 10.0.7.200:443")])))
        #expect(!profile.contains(.entries([(.egress, "tcp 10.0.7.200:22")])))
        #expect(!profile.contains(.entries([(.egress, "tcp 10.0.8.1:443")])))
    }

    @Test("every part is bounded and overflow is visible")
    func bounds() {
        var limits = ProfileLimits()
        limits.entriesPerPart = 3
        limits.executables = 2
        limits.argumentPatterns = 2
        var profile = Profile(subject: .workload, name: "web", limits: limits)
        for index in 0..<5 { profile.learn(.entries([(.dns, "n\(index).example")])) }
        for index in 0..<3 { profile.learn(.execution(executable: "/bin/p\(index)", arguments: "")) }
        for index in 0..<3 { profile.learn(.execution(executable: "/bin/p0", arguments: "a\(index)")) }
        #expect(profile.entries(.dns).count == 3)
        #expect(profile.executables.count == 2)
        #expect(profile.overflowedParts == [.dns, .executables])
        // An overflowed part's gaps are not evidence.
        #expect(profile.contains(.entries([(.dns, "anything.example")])))
    }

    @Test("profiles of replicas merge, and the merged lifecycle is the less advanced one")
    func merge() {
        var first = Profile(subject: .workload, name: "web")
        first.learn(.file(path: "/srv/a", access: .read))
        first.lifecycle.observe(at: 10, addedEntry: true)
        first.lifecycle.complete()
        var second = Profile(subject: .workload, name: "web", partial: true)
        second.learn(.file(path: "/srv/b", access: .write))
        second.learn(.entries([(.egress, "tcp 10.0.0.1:5432")]))
        second.lifecycle.observe(at: 5, addedEntry: true)
        first.merge(second)
        #expect(first.files.entries.map(\.path) == ["/srv/a", "/srv/b"])
        #expect(first.entries(.egress) == ["tcp 10.0.0.1:5432"])
        #expect(first.lifecycle.state == .learning)
        #expect(first.lifecycle.partial)
        #expect(first.lifecycle.firstSeen == 5)
        #expect(first.lifecycle.events == 2)
    }

    @Test("a profile survives encoding for a store")
    func coding() throws {
        var profile = Profile(
            subject: .workload, name: "shop/Deployment/web/web@web:1",
            workload: Workload(
                kind: .kubernetes, namespace: "shop", ownerKind: "Deployment", ownerName: "web",
                containerName: "web", image: "web:1"))
        profile.learn(.execution(executable: "/usr/bin/python3", arguments: "app.py"))
        profile.learn(.file(path: "/srv/app.py", access: [.read, .write]))
        profile.learn(.entries([(.egress, "tcp [2001:db8::7]:443"), (.syscalls, "x86_64:59")]))
        profile.lifecycle.observe(at: 42, addedEntry: true)
        profile.lifecycle.complete()
        let decoded = try ProfileCoding.decode(ProfileCoding.encode(profile))
        #expect(decoded == profile)
        #expect(String(decoding: ProfileCoding.encode(profile), as: UTF8.self).contains("\"/srv/app.py\":\"rw-\""))
    }

    @Test(
        "bad profile bodies are clear errors",
        arguments: [
            "not json", "[]", #"{"version":1}"#, #"{"version":99,"subject":"workload","name":"x","state":"learning"}"#,
            #"{"version":1,"subject":"workload","name":"x","state":"sleeping"}"#,
            #"{"version":1,"subject":"workload","name":"x","state":"learning","files":{"/a":"rwz"}}"#,
            #"{"version":1,"subject":"workload","name":"x","state":"learning","dns":[1]}"#,
        ])
    func badBodies(body: String) {
        #expect(throws: ProfileCodingError.self) { _ = try ProfileCoding.decode(Array(body.utf8)) }
    }
}
