import CairnTools
import Testing

@Suite struct ProgressBarTests {
    @Test func drawnOnlyOnATerminalForBigFiles() {
        #expect(ProgressBar.wanted(stderrIsTerminal: true, fileBytes: 100 * 1024 * 1024))
        #expect(!ProgressBar.wanted(stderrIsTerminal: false, fileBytes: 100 * 1024 * 1024))
        #expect(!ProgressBar.wanted(stderrIsTerminal: true, fileBytes: 1024))
        #expect(!ProgressBar.wanted(stderrIsTerminal: true, fileBytes: ProgressBar.fileBytesMin))
    }

    @Test func percentIsClampedAndWhole() {
        #expect(ProgressBar.percent(done: 0, total: 200) == 0)
        #expect(ProgressBar.percent(done: 99, total: 200) == 49)
        #expect(ProgressBar.percent(done: 200, total: 200) == 100)
        #expect(ProgressBar.percent(done: 500, total: 200) == 100)
        #expect(ProgressBar.percent(done: -5, total: 200) == 0)
        #expect(ProgressBar.percent(done: 0, total: 0) == 100)
    }

    @Test func lineLayout() {
        let mib: Int64 = 1024 * 1024
        #expect(ProgressBar.line(done: 0, total: 10 * mib, width: 10) == "[>         ]   0%  0 B / 10.0 MiB")
        #expect(ProgressBar.line(done: 5 * mib, total: 10 * mib, width: 10) == "[=====>    ]  50%  5.0 MiB / 10.0 MiB")
        #expect(ProgressBar.line(done: 10 * mib, total: 10 * mib, width: 10) == "[==========] 100%  10.0 MiB / 10.0 MiB")
    }

    @Test func byteCounts() {
        #expect(ProgressBar.byteCount(0) == "0 B")
        #expect(ProgressBar.byteCount(1023) == "1023 B")
        #expect(ProgressBar.byteCount(1024) == "1.0 KiB")
        #expect(ProgressBar.byteCount(1536) == "1.5 KiB")
        #expect(ProgressBar.byteCount(27 * 1024 * 1024 + 200 * 1024) == "27.2 MiB")
        #expect(ProgressBar.byteCount(3 * 1024 * 1024 * 1024) == "3.0 GiB")
    }
}
