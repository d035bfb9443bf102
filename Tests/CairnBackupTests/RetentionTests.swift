// prune's grandfather-father-son policy over given timestamps: the same names always give the
// same decisions, the newest archive always stays, --dry-run removes nothing.

@testable import CairnBackup
import CairnTools
import Testing

@Suite struct RetentionTests {
    func name(_ iso: String, _ ext: String = "tar.lz4") -> String {
        "cairn-backup-\(UTCTime.parseISO(iso)!.compact).\(ext)"
    }

    func kept(_ names: [String], _ policy: RetentionPolicy) -> [String] {
        Retention.decide(names, policy: policy).filter(\.keep).map(\.name)
    }

    @Test func hourlyKeepsTheNewestOfEachOfTheLastNHours() {
        // Every 20 minutes over 5 hours.
        let names = (0..<15).map { i in name("2026-03-10T\(10 + i / 3):\(["00", "20", "40"][i % 3]):00Z") }
        let keep = kept(names, RetentionPolicy(hourly: 3))
        #expect(keep == [name("2026-03-10T14:40:00Z"), name("2026-03-10T13:40:00Z"), name("2026-03-10T12:40:00Z")])
    }

    @Test func dailyAndWeeklyCombine() {
        // One archive a day at 03:00 for 40 days from Monday 2026-01-05, plus two more today.
        var names: [String] = []
        for d in 0..<40 {
            let t = UTCTime(unixSeconds: UTCTime(year: 2026, month: 1, day: 5, hour: 3).unixSeconds + Int64(d) * 86400)
            names.append("cairn-backup-\(t.compact).tar.gz")
        }
        names.append(name("2026-02-13T09:00:00Z", "tar.gz.enc"))
        names.append(name("2026-02-13T10:00:00Z", "tar.gz"))
        let decisions = Retention.decide(names, policy: RetentionPolicy(hourly: 2, daily: 7, weekly: 4))
        let keep = decisions.filter(\.keep).map(\.createdAt)
        #expect(keep == [
            "2026-02-13T10:00:00Z",  // newest, hourly, daily (Friday)
            "2026-02-13T09:00:00Z",  // hourly
            "2026-02-12T03:00:00Z", "2026-02-11T03:00:00Z", "2026-02-10T03:00:00Z", "2026-02-09T03:00:00Z",
            "2026-02-08T03:00:00Z",  // daily; also the newest of the week of Feb 2 (a Sunday)
            "2026-02-07T03:00:00Z",  // daily
            "2026-02-01T03:00:00Z",  // weekly: Sunday ending the week of Jan 26
            "2026-01-25T03:00:00Z",  // weekly
        ])
        #expect(decisions.first?.reasons == ["newest", "hourly", "daily", "weekly"])
        #expect(decisions.first { $0.createdAt == "2026-02-08T03:00:00Z" }?.reasons == ["daily", "weekly"])
    }

    @Test func neverDeletesTheNewest() {
        let names = [name("2026-01-01T00:00:00Z"), name("2025-01-01T00:00:00Z")]
        #expect(kept(names, RetentionPolicy()) == [name("2026-01-01T00:00:00Z")])
        #expect(kept([name("2026-01-01T00:00:00Z")], RetentionPolicy()) == [name("2026-01-01T00:00:00Z")])
        #expect(kept([], RetentionPolicy(hourly: 5)).isEmpty)
    }

    @Test func oldBackupsAreNotAllPrunedWhenBackupsStopped() {
        // The last archive is months old: the N most recent days that have one are still kept.
        let names = (1...10).map { name("2025-06-\($0 < 10 ? "0" : "")\($0)T12:00:00Z") }
        #expect(kept(names, RetentionPolicy(daily: 3)).count == 3)
    }

    @Test func otherFilesAreIgnored() {
        let names = ["notes.txt", "cairn-backup-garbage.tar.gz", ".cairn-backup-20260101T000000Z.tar.gz.tmp-1", name("2026-01-01T00:00:00Z")]
        #expect(Retention.decide(names, policy: RetentionPolicy()).map(\.name) == [name("2026-01-01T00:00:00Z")])
    }

    @Test func pruneRemovesWhatItPrintsAndDryRunRemovesNothing() throws {
        let scratch = try Scratch()
        let names = (0..<6).map { name("2026-03-0\($0 + 1)T12:00:00Z") }
        for n in names + ["unrelated.txt"] { try writeFile(scratch.file(n), [1]) }
        var options = PruneOptions(dir: scratch.path, policy: RetentionPolicy(daily: 2))
        options.dryRun = true
        let out = ByteOutput()
        try PruneCommand.run(options, output: out)
        #expect(scratch.names().count == 7)
        #expect(out.text.contains("would remove \(names[0])"))
        #expect(out.text.hasSuffix("dry run: kept 2, would remove 4\n"))
        options.dryRun = false
        let real = ByteOutput()
        try PruneCommand.run(options, output: real)
        #expect(scratch.names() == [names[4], names[5], "unrelated.txt"])
        #expect(real.text.split(separator: "\n").filter { $0.hasPrefix("removed ") }.count == 4)
    }
}

@Suite struct NamesAndTimeTests {
    @Test func civilDates() {
        #expect(UTCTime(unixSeconds: 0).iso8601 == "1970-01-01T00:00:00Z")
        #expect(UTCTime(unixSeconds: 951_782_400).iso8601 == "2000-02-29T00:00:00Z")
        #expect(UTCTime(unixSeconds: 1_764_056_640).iso8601 == "2025-11-25T07:44:00Z")
        for t: Int64 in [0, 86399, 86400, 1_000_000_000, 4_102_444_799] {
            #expect(UTCTime(unixSeconds: t).unixSeconds == t)
            #expect(UTCTime.parseISO(UTCTime(unixSeconds: t).iso8601)?.unixSeconds == t)
            #expect(UTCTime.parseCompact(UTCTime(unixSeconds: t).compact)?.unixSeconds == t)
        }
        #expect(UTCTime.parseISO("2026-02-30T00:00:00Z") == nil)
        #expect(UTCTime.parseISO("2026-01-01 10:30Z")?.iso8601 == "2026-01-01T10:30:00Z")
        #expect(UTCTime.parseISO("2026-01-01T10:30:00") == nil)
    }

    @Test func archiveNames() {
        let t = UTCTime(year: 2026, month: 11, day: 25, hour: 7, minute: 44)
        let n = ArchiveName(time: t, compression: .gzip, encrypted: true)
        #expect(n.fileName == "cairn-backup-20261125T074400Z.tar.gz.enc")
        #expect(ArchiveName.parse(n.fileName) == n)
        #expect(ArchiveName.parse("cairn-backup-20261125T074400Z.tar.lz4")?.compression == .lz4)
        for bad in ["cairn-backup-20261125T074400Z.tar", "cairn-backup-20261325T074400Z.tar.gz", "x-20261125T074400Z.tar.gz",
                    "cairn-backup-20261125T074400Z.tar.gz.tmp"] {
            #expect(ArchiveName.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func toTimeAcceptsSecondsAndISO() throws {
        #expect(try RestoreCommand.parseTime("1700000000") == 1_700_000_000)
        #expect(try RestoreCommand.parseTime("2023-11-14T22:13:20Z") == 1_700_000_000)
        #expect(exitOf { _ = try RestoreCommand.parseTime("yesterday") } == .usage)
    }

    @Test func nodeAddresses() throws {
        #expect(try NodeSnapshot.parseAddress("127.0.0.1:6379") == ("127.0.0.1", 6379))
        #expect(try NodeSnapshot.parseAddress("[::1]:7000") == ("::1", 7000))
        #expect(try NodeSnapshot.parseAddress("localhost:1") == ("localhost", 1))
        for bad in ["6379", "host:", ":6379", "host:0", "host:70000", "[::1]6379"] {
            #expect(exitOf { _ = try NodeSnapshot.parseAddress(bad) } == .usage, "\(bad)")
        }
    }
}
