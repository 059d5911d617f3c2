import CZlib

/// Decompresses gzip data with zlib, as CloudTrail delivers its log files to S3.
public enum Gzip {
    /// Whether `bytes` start with the gzip magic number `1f 8b`.
    @inlinable
    public static func isGzip(_ bytes: some Collection<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        return iterator.next() == 0x1f && iterator.next() == 0x8b
    }

    /// Where to start the output: the size the gzip trailer gives (ISIZE, the size modulo 2^32 of the last
    /// member, exact for the usual single-member file) when it is plausible, else about eight times the input.
    static func initialSize(of bytes: [UInt8]) -> Int {
        let guess = max(4096, bytes.count * 8)
        guard bytes.count >= 18 else { return guess }
        let n = bytes.count
        let trailer = Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24
        // Deflate expands at most about 1000 times; a smaller or wilder value is padding or another member.
        guard trailer >= bytes.count / 2, trailer <= bytes.count * 1032 else { return guess }
        // A little room so that the stream ends before the output is full (no growth to detect the end).
        return max(4096, trailer + 64)
    }

    /// Decompresses a gzip stream (several concatenated members are read as one, as `gunzip` does).
    ///
    /// - Parameters:
    ///   - bytes: The compressed bytes.
    ///   - maximumSize: The largest decompressed size accepted; a bound so that a small hostile file (a "zip
    ///     bomb") cannot exhaust memory.
    ///   - path: Names the file in errors.
    /// - Throws: ``CloudEventError/Code/truncatedGzip`` when the stream ends early,
    ///   ``CloudEventError/Code/invalidGzip`` on corrupt data, ``CloudEventError/Code/tooLarge`` past the bound.
    public static func decompress(
        _ bytes: [UInt8], maximumSize: Int, path: String = ""
    ) throws(CloudEventError) -> [UInt8] {
        var stream = z_stream()
        guard vigil_zlib_inflate_init_gzip(&stream) == Z_OK else {
            throw CloudEventError(
                code: .invalidGzip, path: path, message: "zlib could not start inflating (out of memory?)")
        }
        defer { inflateEnd(&stream) }
        // Compressed JSON typically shrinks 8 to 15 times; start near that and grow by doubling.
        var output = [UInt8](repeating: 0, count: min(maximumSize, initialSize(of: bytes)))
        var produced = 0
        var consumed = 0
        while true {
            if produced == output.count {
                guard output.count < maximumSize else {
                    throw CloudEventError(
                        code: .tooLarge, path: path,
                        message:
                            "decompresses to more than \(maximumSize) bytes; raise the limit if the file is genuine")
                }
                output.append(contentsOf: repeatElement(0, count: min(output.count, maximumSize - output.count)))
            }
            let status: Int32 = bytes.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + consumed)
                    stream.avail_in = UInt32(clamping: input.count - consumed)
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = UInt32(clamping: out.count - produced)
                    let before = (stream.avail_in, stream.avail_out)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    consumed += Int(before.0 - stream.avail_in)
                    produced += Int(before.1 - stream.avail_out)
                    return status
                }
            }
            switch status {
            case Z_STREAM_END:
                // Another gzip member may follow (concatenated files); trailing zero padding is ignored.
                let rest = bytes[consumed...]
                if rest.allSatisfy({ $0 == 0 }) {
                    output.removeSubrange(produced...)
                    return output
                }
                guard inflateReset(&stream) == Z_OK else {
                    throw CloudEventError(
                        code: .invalidGzip, path: path, message: "zlib could not reset between members")
                }
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: either the output is full (grow it) or the input ran out mid-stream.
                if produced == output.count { continue }
                throw CloudEventError(
                    code: .truncatedGzip, path: path,
                    message: "the gzip stream ends after \(bytes.count) bytes without its end marker; "
                        + "the file is cut short or still being written, read it again once complete")
            default:
                let detail = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                throw CloudEventError(
                    code: .invalidGzip, path: path, message: "corrupt gzip data (\(detail)); the file is damaged")
            }
        }
    }
}
