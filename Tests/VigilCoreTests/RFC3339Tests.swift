import Testing
import VigilCore

/// An independent, deliberately naive conversion used to cross-check the calendar arithmetic.
private func naiveDays(year: Int, month: Int, day: Int) -> Int {
    func isLeap(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }
    let monthLengths = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    var days = 0
    if year >= 1970 {
        for y in 1970..<year { days += isLeap(y) ? 366 : 365 }
    } else {
        for y in year..<1970 { days -= isLeap(y) ? 366 : 365 }
    }
    for m in 0..<(month - 1) { days += monthLengths[m] }
    return days + day - 1
}

private func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

@Suite("RFC 3339")
struct RFC3339Tests {
    @Test func knownInstants() {
        #expect(RFC3339.format(nanoseconds: 0) == "1970-01-01T00:00:00.000000000Z")
        #expect(RFC3339.formatCompact(nanoseconds: 0) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.parse("1970-01-01T00:00:00Z") == 0)

        let instant: Int64 = 1_795_975_790_123_456_789
        #expect(RFC3339.format(nanoseconds: instant) == "2026-11-29T18:09:50.123456789Z")
        #expect(RFC3339.formatCompact(nanoseconds: instant) == "2026-11-29T18:09:50.123456789Z")
        #expect(RFC3339.parse("2026-11-29T18:09:50.123456789Z") == instant)
        #expect(RFC3339.parse("2026-11-29T23:39:50.123456789+05:30") == instant)
        #expect(RFC3339.parse("2026-11-29T10:09:50.123456789-08:00") == instant)
        #expect(RFC3339.parse("2026-11-29t18:09:50.123456789z") == instant)
        #expect(RFC3339.parse("2026-11-29 18:09:50.123456789Z") == instant)
        #expect(RFC3339.parse("2026-11-29T18:09:50.123456789-00:00") == instant)
        #expect(RFC3339.parse("2026-11-29T18:09:50.1234567891234Z") == instant)  // extra digits truncated
        #expect(RFC3339.parse("2026-11-29T18:09:50.5Z") == 1_795_975_790_500_000_000)
        #expect(RFC3339.parse("2026-11-29T18:09:50Z") == 1_795_975_790_000_000_000)
        #expect(RFC3339.formatCompact(nanoseconds: 1_795_975_790_000_000_000) == "2026-11-29T18:09:50Z")
        #expect(RFC3339.formatCompact(nanoseconds: 1_795_975_790_500_000_000) == "2026-11-29T18:09:50.5Z")
        #expect(RFC3339.formatCompact(nanoseconds: 1_795_975_790_000_001_000) == "2026-11-29T18:09:50.000001Z")

        #expect(RFC3339.parse("1969-12-31T23:59:59.5Z") == -500_000_000)
        #expect(RFC3339.format(nanoseconds: -500_000_000) == "1969-12-31T23:59:59.500000000Z")
        #expect(RFC3339.formatCompact(nanoseconds: -1) == "1969-12-31T23:59:59.999999999Z")
        #expect(RFC3339.parse("1900-01-01T00:00:00Z") == -2_208_988_800_000_000_000)
        #expect(RFC3339.parse("2000-02-29T12:00:00Z") == 951_825_600_000_000_000)
        #expect(RFC3339.parse("2024-02-29T00:00:00+01:00") == 1_709_161_200_000_000_000)

        #expect(RFC3339.format(nanoseconds: .max) == "2262-04-11T23:47:16.854775807Z")
        #expect(RFC3339.format(nanoseconds: .min) == "1677-09-21T00:12:43.145224192Z")
        #expect(RFC3339.parse("2262-04-11T23:47:16.854775807Z") == .max)
        #expect(RFC3339.parse("1677-09-21T00:12:43.145224192Z") == .min)
        #expect(RFC3339.parse("2262-04-11T23:47:16.854775808Z") == nil)  // one past Int64.max
        #expect(RFC3339.parse("1677-09-21T00:12:43.145224191Z") == nil)  // one before Int64.min
    }

    @Test func leapSecondIsClamped() {
        #expect(RFC3339.parse("2016-12-31T23:59:60Z") == RFC3339.parse("2016-12-31T23:59:59.999999999Z"))
        #expect(RFC3339.parse("2016-12-31T23:59:60.5Z") == RFC3339.parse("2016-12-31T23:59:59.999999999Z"))
        #expect(RFC3339.parse("2016-12-31T23:59:61Z") == nil)
    }

    @Test func stringAndByteInputs() {
        let text = "xx2026-11-29T18:09:50Z yy"
        let substring = text.dropFirst(2).dropLast(3)
        #expect(RFC3339.parse(substring) == 1_795_975_790_000_000_000)
        let bytes = Array("2026-11-29T18:09:50.25Z".utf8)
        let parsed = bytes.withUnsafeBytes { RFC3339.parse(utf8: $0) }
        #expect(parsed == 1_795_975_790_250_000_000)
        #expect(RFC3339.parse(utf8: UnsafeRawBufferPointer(start: nil, count: 0)) == nil)
    }

    @Test func matchesNaiveCalendar() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let year = 1678 + Int(generator.next() % 584)  // 1678...2261
            let month = 1 + Int(generator.next() % 12)
            let day = 1 + Int(generator.next() % 28)
            let hour = Int(generator.next() % 24)
            let minute = Int(generator.next() % 60)
            let second = Int(generator.next() % 60)
            let nanos = Int(generator.next() % 1_000_000_000)
            let text =
                "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):"
                + "\(pad(second, 2)).\(pad(nanos, 9))Z"
            let seconds = naiveDays(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
            let expected = Int64(seconds) * 1_000_000_000 + Int64(nanos)
            #expect(RFC3339.parse(text) == expected, "\(text)")
            #expect(RFC3339.format(nanoseconds: expected) == text)
        }
    }

    @Test func roundTrips() {
        var generator = SplitMix64(seed: 7)
        var samples: [Int64] = [
            0, 1, -1, 999_999_999, -999_999_999, 1_000_000_000, -1_000_000_000, .max, .min,
            86_400_000_000_000, -86_400_000_000_000, 951_782_400_000_000_000,
        ]
        for _ in 0..<5000 { samples.append(Int64(bitPattern: generator.next())) }
        for _ in 0..<5000 { samples.append(Int64(bitPattern: generator.next()) / 1_000_000 * 1_000_000) }
        for _ in 0..<2000 { samples.append(Int64(bitPattern: generator.next()) / 1_000_000_000 * 1_000_000_000) }
        for value in samples {
            let full = RFC3339.format(nanoseconds: value)
            let compact = RFC3339.formatCompact(nanoseconds: value)
            #expect(full.utf8.count == 30)
            #expect(RFC3339.parse(full) == value, "\(full)")
            #expect(RFC3339.parse(compact) == value, "\(compact)")
            #expect(compact.utf8.count <= 30 && !compact.contains(".Z"))
            #expect(!compact.contains(".") || !compact.hasSuffix("0Z"))
        }
    }

    @Test func everyDayOfSomeYears() {
        for year in [1600, 1700, 1900, 1969, 1970, 2000, 2023, 2024, 2100] where year >= 1678 {
            for month in 1...12 {
                for day in 1...31 {
                    let text = "\(year)-\(pad(month, 2))-\(pad(day, 2))T00:00:00Z"
                    let lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
                    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
                    let valid = day <= lengths[month - 1] + (month == 2 && leap ? 1 : 0)
                    let parsed = RFC3339.parse(text)
                    #expect((parsed != nil) == valid, "\(text)")
                    if let parsed {
                        #expect(parsed == Int64(naiveDays(year: year, month: month, day: day)) * 86_400_000_000_000)
                        #expect(RFC3339.formatCompact(nanoseconds: parsed) == text)
                    }
                }
            }
        }
    }

    @Test func invalidInputs() {
        let invalid = [
            "", "2026", "2026-11-29", "2026-11-29T18:09:50", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
            "2026-01-32T00:00:00Z", "2026-01-00T00:00:00Z", "2026-02-29T00:00:00Z", "2024-02-30T00:00:00Z",
            "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T18:60:00Z",
            "2026-11-29T18:09:50+24:00", "2026-11-29T18:09:50+05:60", "2026-11-29T18:09:50+0530",
            "2026-11-29T18:09:50+05", "2026-11-29T18:09:50.Z", "2026-11-29T18:09:50.123", "2026-11-29X18:09:50Z",
            "2026/11/29T18:09:50Z", "2026-11-29T18:09:50ZZ", " 2026-11-29T18:09:50Z", "2026-11-29T18:09:50Z ",
            "26-11-29T18:09:50Z", "2026-1-29T18:09:50Z", "2026-11-29T18:9:50Z", "2026-11-29T18:09:5Z",
            "2026-11-29T18:09:50.12a4Z", "2026-11-29T18:09:50,5Z", "+2026-11-29T18:09:50Z", "2026-11-29T18:09:50UTC",
            "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "2026-１1-29T18:09:50Z",
        ]
        for text in invalid {
            #expect(RFC3339.parse(text) == nil, "\(text.debugDescription)")
        }
    }
}

/// A small deterministic generator for the randomized tests.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
