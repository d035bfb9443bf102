// `cairn-backup prune DIR --keep-hourly N --keep-daily N --keep-weekly N [--dry-run]`: remove the
// archives the retention policy (Retention.swift) does not keep, and say which
// (docs/tools-cairn-backup.md, "prune"). Files not named like archives are never touched.

import CairnTools
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct PruneOptions: Sendable {
    public var dir: String
    public var policy: RetentionPolicy
    public var dryRun = false
    public var json = false

    public init(dir: String, policy: RetentionPolicy) {
        self.dir = dir
        self.policy = policy
    }
}

public enum PruneCommand {
    public static func main(_ options: PruneOptions) -> Int32 {
        BackupRunner.main { _ = try run(options, output: $0) }
    }

    @discardableResult
    public static func run(_ options: PruneOptions, output: ByteOutput) throws -> [RetentionDecision] {
        let p = options.policy
        guard p.hourly >= 0 && p.daily >= 0 && p.weekly >= 0 else { throw BackupError.usage("--keep-* counts must be 0 or more") }
        let decisions = Retention.decide(try Directory.list(options.dir), policy: p)
        var removed = 0
        for d in decisions {
            if !d.keep && !options.dryRun {
                guard unlink(options.dir + "/" + d.name) == 0 || errno == ENOENT else {
                    throw BackupError.io("cannot remove \(options.dir)/\(d.name)", errno: errno)
                }
            }
            if !d.keep { removed += 1 }
            if options.json {
                try output.write(JSONOutput.line(d))
            } else if !d.keep {
                try output.write("\(options.dryRun ? "would remove" : "removed") \(d.name)\n")
            }
        }
        if removed > 0 && !options.dryRun { try Directory.fsync(options.dir) }
        if !options.json {
            try output.write("\(options.dryRun ? "dry run: " : "")kept \(decisions.count - removed), \(options.dryRun ? "would remove" : "removed") \(removed)\n")
        }
        return decisions
    }
}
