// RFC 3339 timestamps <-> nanoseconds since the Unix epoch, without Foundation.

/// Converts between nanoseconds since the Unix epoch and RFC 3339 text, without Foundation.
///
/// Dates use the proleptic Gregorian calendar. Every `Int64` nanosecond count (years 1677 through 2262) can be
/// formatted; parsing accepts years 0000 through 9999 and returns `nil` when the instant does not fit in `Int64`.
///
/// Leap seconds: a seconds field of `60` is accepted when parsing and clamped to the last nanosecond of that
/// minute (`…:59.999999999`), so the result stays ordered before the following minute. Formatting never
/// produces `60`.
public enum RFC3339 {
    private static let nanosecondsPerSecond: Int64 = 1_000_000_000
    private static let secondsPerDay: Int64 = 86_400

    /// "2026-11-29T18:09:50.123456789Z" — always UTC, always 9 fractional digits.
    public static func format(nanoseconds: Int64) -> String {
        render(nanoseconds, compact: false)
    }

    /// Same but omits the fraction when it is zero and otherwise trims trailing zeros ("…:50Z", "…:50.5Z").
    public static func formatCompact(nanoseconds: Int64) -> String {
        render(nanoseconds, compact: true)
    }

    /// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" (also lowercase t/z, and a space instead of T);
    /// fraction of 1–9+ digits (digits beyond 9 are truncated); returns nanoseconds since the epoch, or nil if
    /// invalid (bad field ranges such as month 13, day 32, Feb 30, hour 24, bad offset → nil). Works for dates
    /// before 1970 too. The whole text must match; surrounding whitespace is not allowed.
    public static func parse(_ text: some StringProtocol) -> Int64? {
        if let result = text.utf8.withContiguousStorageIfAvailable({ parse(utf8: UnsafeRawBufferPointer($0)) }) {
            return result
        }
        var copy = String(text)
        return copy.withUTF8 { parse(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Parses from UTF-8 bytes without creating a String (same rules as `parse(_:)`).
    public static func parse(utf8 bytes: UnsafeRawBufferPointer) -> Int64? {
        let count = bytes.count
        // The shortest valid form is "YYYY-MM-DDTHH:MM:SSZ".
        guard count >= 20 else { return nil }

        /// The value of `width` decimal digits starting at `offset`, or nil if any is not a digit.
        func number(_ offset: Int, _ width: Int) -> Int64? {
            var value: Int64 = 0
            for i in offset..<(offset + width) {
                let digit = bytes[i] &- 0x30
                guard digit <= 9 else { return nil }
                value = value * 10 + Int64(digit)
            }
            return value
        }

        guard let year = number(0, 4), bytes[4] == UInt8(ascii: "-"),
            let month = number(5, 2), bytes[7] == UInt8(ascii: "-"),
            let day = number(8, 2),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " "),
            let hour = number(11, 2), bytes[13] == UInt8(ascii: ":"),
            let minute = number(14, 2), bytes[16] == UInt8(ascii: ":"),
            var second = number(17, 2)
        else { return nil }

        var index = 19
        var fraction: Int64 = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < count {
                let digit = bytes[index] &- 0x30
                guard digit <= 9 else { break }
                if digits < 9 { fraction = fraction * 10 + Int64(digit) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in min(digits, 9)..<9 { fraction *= 10 }
        }

        guard index < count else { return nil }
        var offsetSeconds: Int64 = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 <= count, let offsetHour = number(index + 1, 2), bytes[index + 3] == UInt8(ascii: ":"),
                let offsetMinute = number(index + 4, 2), offsetHour <= 23, offsetMinute <= 59
            else { return nil }
            offsetSeconds = offsetHour * 3600 + offsetMinute * 60
            if bytes[index] == UInt8(ascii: "-") { offsetSeconds = -offsetSeconds }
            index += 6
        default:
            return nil
        }
        guard index == count else { return nil }

        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        if second == 60 {
            second = 59
            fraction = nanosecondsPerSecond - 1
        }

        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * secondsPerDay + hour * 3600 + minute * 60 + second - offsetSeconds
        // Before the epoch, borrow one second so that the earliest instants (down to Int64.min) do not overflow.
        let borrow: Int64 = seconds < 0 && fraction > 0 ? 1 : 0
        let (scaled, overflow1) = (seconds + borrow).multipliedReportingOverflow(by: nanosecondsPerSecond)
        let (result, overflow2) = scaled.addingReportingOverflow(fraction - borrow * nanosecondsPerSecond)
        guard !overflow1 && !overflow2 else { return nil }
        return result
    }

    // MARK: Calendar

    private static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    ///
    /// Years are counted from March so that the leap day falls at the end of the year; 400-year eras
    /// hold exactly 146 097 days.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let marchYear = month <= 2 ? year - 1 : year
        let era = (marchYear >= 0 ? marchYear : marchYear - 399) / 400
        let yearOfEra = marchYear - era * 400  // 0...399
        let monthFromMarch = month > 2 ? month - 3 : month + 9  // 0...11
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1  // 0...365
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        // 719 468 days separate 0000-03-01 from 1970-01-01.
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date that is `days` days after 1970-01-01.
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097  // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // 0...399
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // 0...365
        let monthFromMarch = (5 * dayOfYear + 2) / 153  // 0...11
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    // MARK: Formatting

    private static func render(_ nanoseconds: Int64, compact: Bool) -> String {
        var seconds = nanoseconds / nanosecondsPerSecond
        var fraction = nanoseconds % nanosecondsPerSecond
        if fraction < 0 {
            fraction += nanosecondsPerSecond
            seconds -= 1
        }
        var days = seconds / secondsPerDay
        var secondOfDay = seconds % secondsPerDay
        if secondOfDay < 0 {
            secondOfDay += secondsPerDay
            days -= 1
        }
        let (year, month, day) = civilFromDays(days)

        var fractionDigits = 9
        if compact {
            if fraction == 0 {
                fractionDigits = 0
            } else {
                while fraction % 10 == 0 {
                    fraction /= 10
                    fractionDigits -= 1
                }
            }
        }

        // "YYYY-MM-DDTHH:MM:SS" + "." + up to 9 digits + "Z"
        let length = 19 + (fractionDigits > 0 ? 1 + fractionDigits : 0) + 1
        return String(unsafeUninitializedCapacity: length) { buffer in
            func put(_ value: Int64, width: Int, at offset: Int) {
                var rest = value
                for i in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[i] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
                    rest /= 10
                }
            }
            put(year, width: 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(month, width: 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(day, width: 2, at: 8)
            buffer[10] = UInt8(ascii: "T")
            put(secondOfDay / 3600, width: 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(secondOfDay / 60 % 60, width: 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(secondOfDay % 60, width: 2, at: 17)
            if fractionDigits > 0 {
                buffer[19] = UInt8(ascii: ".")
                put(fraction, width: fractionDigits, at: 20)
            }
            buffer[length - 1] = UInt8(ascii: "Z")
            return length
        }
    }
}
