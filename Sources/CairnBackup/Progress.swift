// The progress bar create, verify and restore draw on stderr: only on a terminal and only for
// work big enough to take a while (CairnTools.ProgressBar decides and draws the line), so pipes,
// logs and --json output never see a carriage return.

import CairnTools
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class Progress {
    private let total: Int64
    private var base: Int64 = 0
    private var shown = -1
    private let enabled: Bool

    /// A bar for `total` bytes of work, drawn only when stderr is a terminal and `allowed`.
    init(total: Int64, allowed: Bool = true) {
        self.total = total
        enabled = allowed && ProgressBar.wanted(stderrIsTerminal: isatty(2) == 1, fileBytes: total)
    }

    /// Work done so far is `base` plus what the current step reports.
    func beginStep() { base = done }
    private(set) var done: Int64 = 0

    func update(stepDone: Int64) { set(base + stepDone) }

    func set(_ value: Int64) {
        done = value
        guard enabled else { return }
        let p = ProgressBar.percent(done: value, total: total)
        guard p != shown else { return }
        shown = p
        draw("\r" + ProgressBar.line(done: value, total: total))
    }

    /// Erases the bar.
    func finish() {
        guard enabled, shown >= 0 else { return }
        draw("\r\u{1B}[K")
        shown = -1
    }

    private func draw(_ text: String) {
        var text = text
        text.withUTF8 { p in
            var off = 0
            while off < p.count {
                let n = write(2, p.baseAddress! + off, p.count - off)
                if n <= 0 { return }
                off += n
            }
        }
    }
}
