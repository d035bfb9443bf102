// Grandfather-father-son retention (docs/tools-cairn-backup.md, "prune"), decided from archive
// names alone, so the same names always give the same answer. For each of hourly, daily and
// weekly, walking from the newest archive back: the newest archive of each UTC hour (day; ISO
// week, from Monday) is kept, for the N most recent hours (days, weeks) that have one — as restic
// and Borg count them, so backups that stopped a month ago are not all pruned at once. The newest
// archive is always kept.

public struct RetentionPolicy: Sendable, Equatable {
    public var hourly: Int
    public var daily: Int
    public var weekly: Int

    public init(hourly: Int = 0, daily: Int = 0, weekly: Int = 0) {
        self.hourly = hourly
        self.daily = daily
        self.weekly = weekly
    }
}

public struct RetentionDecision: Codable, Sendable, Equatable {
    public var name: String
    public var createdAt: String
    public var keep: Bool
    /// Why it is kept: "newest", "hourly", "daily", "weekly".
    public var reasons: [String]
}

public enum Retention {
    public static func decide(_ names: [String], policy: RetentionPolicy) -> [RetentionDecision] {
        let archives = names.compactMap { n in ArchiveName.parse(n).map { (name: n, time: $0.time) } }
            .sorted { ($0.time, $0.name) > ($1.time, $1.name) }
        var reasons = [[String]](repeating: [], count: archives.count)
        if !archives.isEmpty { reasons[0].append("newest") }
        let rules: [(String, Int, (UTCTime) -> Int64)] = [
            ("hourly", policy.hourly, { $0.unixSeconds / 3600 }),
            ("daily", policy.daily, { Int64($0.daysSinceEpoch) }),
            ("weekly", policy.weekly, { Int64(($0.daysSinceEpoch + 3) / 7) }),
        ]
        for (label, count, bucket) in rules where count > 0 {
            var last: Int64? = nil
            var kept = 0
            for (i, a) in archives.enumerated() {
                let b = bucket(a.time)
                guard b != last else { continue }
                last = b
                guard kept < count else { break }
                kept += 1
                reasons[i].append(label)
            }
        }
        return archives.enumerated().map { i, a in
            RetentionDecision(name: a.name, createdAt: a.time.iso8601, keep: !reasons[i].isEmpty, reasons: reasons[i])
        }
    }
}
