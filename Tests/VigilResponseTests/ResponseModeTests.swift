import Testing
import VigilResponse

@Suite("Response mode")
struct ResponseModeTests {
    @Test("the three modes parse from their command-line names, and nothing else does")
    func parsing() {
        #expect(ResponseMode(argument: "off") == .off)
        #expect(ResponseMode(argument: "dry-run") == .dryRun)
        #expect(ResponseMode(argument: "on") == .on)
        #expect(ResponseMode(argument: "dryrun") == nil)
        #expect(ResponseMode(argument: "ON") == nil)
        #expect(ResponseMode.allCases.map(\.description) == ["off", "dry-run", "on"])
    }
}
