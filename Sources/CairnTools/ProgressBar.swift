// The progress bar a long read draws on stderr: only when stderr is a terminal and the file is
// big enough to take a while, so pipes and logs never see carriage returns.

public enum ProgressBar {
    /// Files smaller than this read fast enough that a bar would only flicker.
    public static let fileBytesMin: Int64 = 8 * 1024 * 1024
    public static let barWidth = 30

    /// Whether to draw at all.
    public static func wanted(stderrIsTerminal: Bool, fileBytes: Int64) -> Bool {
        stderrIsTerminal && fileBytes > fileBytesMin
    }

    /// Whole percent done, 0...100 (a total of 0 counts as done).
    public static func percent(done: Int64, total: Int64) -> Int {
        guard total > 0 else { return 100 }
        let clamped = min(max(done, 0), total)
        return Int(clamped * 100 / total)
    }

    /// One line of the bar, e.g. `[=============>                ]  45%  12.3 MiB / 27.2 MiB`.
    public static func line(done: Int64, total: Int64, width: Int = barWidth) -> String {
        let p = percent(done: done, total: total)
        let filled = width * p / 100
        var bar = String(repeating: "=", count: filled)
        if filled < width {
            bar += ">"
            bar += String(repeating: " ", count: width - filled - 1)
        }
        let pct = String(p)
        let padded = String(repeating: " ", count: 3 - pct.count) + pct
        return "[\(bar)] \(padded)%  \(byteCount(min(max(done, 0), total))) / \(byteCount(total))"
    }

    /// A size in the largest binary unit that keeps it at least 1, with one decimal.
    public static func byteCount(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var unit = 0
        var scale: Int64 = 1
        while unit + 1 < units.count && bytes >= scale * 1024 {
            scale *= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let tenths = (bytes * 10 + scale / 2) / scale
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}

/// Draws `ProgressBar` lines on a descriptor, redrawing only when the percentage moves.
final class ProgressReporter {
    private let fd: Int32
    private let total: Int64
    private var shownPercent = -1

    /// A reporter for a read of `total` bytes, or nil when no bar should be drawn.
    static func forStandardError(fileBytes: Int64) -> ProgressReporter? {
        let fd: Int32 = 2
        guard ProgressBar.wanted(stderrIsTerminal: POSIX.isTerminal(fd), fileBytes: fileBytes) else { return nil }
        return ProgressReporter(fd: fd, total: fileBytes)
    }

    init(fd: Int32, total: Int64) {
        self.fd = fd
        self.total = total
    }

    func update(_ done: Int64) {
        let p = ProgressBar.percent(done: done, total: total)
        guard p != shownPercent else { return }
        shownPercent = p
        draw("\r" + ProgressBar.line(done: done, total: total))
    }

    /// Erases the bar so that what follows starts on a clean line.
    func finish() {
        guard shownPercent >= 0 else { return }
        draw("\r\u{1B}[K")
        shownPercent = -1
    }

    private func draw(_ text: String) {
        var text = text
        // A progress bar that cannot be drawn is not worth failing the read for.
        _ = text.withUTF8 { POSIX.writeAll(fd, UnsafeRawBufferPointer($0)) }
    }
}
