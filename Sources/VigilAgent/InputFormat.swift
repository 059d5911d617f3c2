import Foundation
import VigilCore

/// The kinds of input `vigil-agent replay` recognises, by content rather than by file name.
public enum InputFormat: String, Sendable, CaseIterable {
    /// Vigil's own JSON Lines events, as ``VigilCore/EventEncoder`` writes them.
    case vigilEvents = "vigil-events"

    /// Looks at the first non-empty line of the file at `path` and says what it is.
    public static func detect(path: String) throws -> InputFormat {
        var firstLine: ArraySlice<UInt8>?
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AgentError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        let head = (try handle.read(upToCount: 1 << 16)) ?? Data()
        try? handle.close()
        let bytes = [UInt8](head)
        for line in bytes.split(separator: 0x0a) where line.contains(where: { $0 > 0x20 }) {
            firstLine = line
            break
        }
        guard let firstLine else { throw AgentError("\(path) is empty: there is nothing to replay") }
        if let value = try? firstLine.withUnsafeBytes({ bytes throws(JSONParseError) in try JSONParser.parse(bytes) }),
            let object = value.object, object["kind"]?.string != nil, object["time"]?.string != nil
        {
            return .vigilEvents
        }
        throw AgentError(
            "\(path) is not an input vigil-agent recognises: expected Vigil JSON Lines events "
                + "(one {\"type\":\"event\",\"time\":…,\"kind\":…} object per line)")
    }
}
