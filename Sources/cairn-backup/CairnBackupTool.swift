// cairn-backup: consistent, compressed, optionally encrypted backups of a Cairn node, with verify,
// restore and retention. Each subcommand parses its arguments and calls one function of
// CairnBackup; docs/tools-cairn-backup.md is the manual, docs/format-backup.md the archive format.

import ArgumentParser
import CairnBackup
import CairnTools

@main
struct CairnBackupTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn-backup",
        abstract: "Back up a Cairn node into compressed, optionally encrypted archives; verify, restore, prune them.",
        discussion: """
        Examples:
          cairn-backup create --node 127.0.0.1:6379 --out /backups
          cairn-backup create --data-dir /var/lib/cairn --out /backups --compression gzip --encrypt --key-file /etc/cairn/backup.key
          cairn-backup list /backups
          cairn-backup verify /backups/cairn-backup-20261125T074400Z.tar.lz4
          cairn-backup restore /backups/cairn-backup-20261125T074400Z.tar.lz4 --to /var/lib/cairn-restored
          cairn-backup prune /backups --keep-hourly 24 --keep-daily 30 --keep-weekly 8

        Exit status:
          0  success
          1  the archive is damaged (truncated, changed, a member missing, a bad checksum)
          2  usage error
          3  unsupported content (a newer archive format, RDB content Cairn does not read)
          4  I/O error (cannot read or write a file, a full disk)
          5  key problem (none given for an encrypted archive, the wrong key, a bad key file)
          6  the node failed (cannot connect, AUTH refused, BGSAVE failed or timed out)
          7  restore target not empty (add --force to replace it)
        """,
        subcommands: [Create.self, List.self, Verify.self, Restore.self, Prune.self, Keygen.self]
    )

    func run() throws {
        printError(Self.helpMessage())
        throw ExitCode(BackupExit.usage.rawValue)
    }

    /// Bad arguments exit 2, as documented (ToolMain).
    static func main() { ToolMain.run(Self.self) }
}

func printError(_ text: String) { BackupRunner.printError(text) }

func finish(_ status: Int32) throws {
    if status != 0 { throw ExitCode(status) }
}

extension CairnBackupTool {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Snapshot a node into a new archive named cairn-backup-<UTC time>.tar.<gz|lz4>[.enc] in --out.",
            discussion: """
            --node asks a running node for BGSAVE, waits for it, and archives the fresh RDB it finds
            through CONFIG GET dir / dbfilename: run it on the node's machine. --data-dir archives a
            data directory, stopped or running: the RDB, exactly the files of one AOF manifest
            generation, and nodes.conf.

            Examples:
              cairn-backup create --node 127.0.0.1:6379 --password-file /etc/cairn/pw --out /backups
              cairn-backup create --data-dir /var/lib/cairn --out /backups --encrypt --key-file backup.key
            """)
        @Option(help: "A running node, HOST:PORT.") var node: String?
        @Option(help: "A file holding the node's password (AUTH); never on the command line.") var passwordFile: String?
        @Option(help: "The ACL user to AUTH as (with --password-file).") var user: String?
        @Option(help: "A node's data directory.") var dataDir: String?
        @Option(help: "The RDB file name in --data-dir.") var dbfilename = "dump.rdb"
        @Option(help: "The AOF directory name in --data-dir.") var appenddirname = "appendonlydir"
        @Option(help: "Where the archive goes (created if missing).") var out: String
        @Option(help: "gzip or lz4.") var compression = "lz4"
        @Option(help: "Compression level: gzip 1...9 (default 6), lz4 0...12 (default 1).") var level: Int?
        @Flag(help: "Encrypt with AES-256-GCM under the key in --key-file.") var encrypt = false
        @Option(help: "The key: a file of 32 raw bytes or 64 hex digits (see keygen).") var keyFile: String?
        @Option(help: "Seconds to wait for the node's BGSAVE.") var timeout = 600
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            guard (node == nil) != (dataDir == nil) else { throw ValidationError("give exactly one of --node and --data-dir") }
            if passwordFile != nil || user != nil, node == nil { throw ValidationError("--password-file and --user go with --node") }
            if user != nil && passwordFile == nil { throw ValidationError("--user needs --password-file") }
            if encrypt != (keyFile != nil) { throw ValidationError("--encrypt and --key-file go together") }
            guard ArchiveCompression(rawValue: compression) != nil else { throw ValidationError("--compression must be gzip or lz4, got '\(compression)'") }
            guard timeout >= 1 else { throw ValidationError("--timeout must be at least 1") }
        }

        func run() throws {
            let source: CreateOptions.Source
            if let node {
                var n = NodeOptions(address: node)
                n.passwordFile = passwordFile
                n.user = user
                n.timeoutSeconds = timeout
                source = .node(n)
            } else {
                var d = DataDirOptions(dir: dataDir ?? ".")
                d.dbfilename = dbfilename
                d.appenddirname = appenddirname
                source = .dataDir(d)
            }
            var options = CreateOptions(source: source, outDir: out)
            options.compression = ArchiveCompression(rawValue: compression) ?? .lz4
            options.level = level
            options.keyFile = keyFile
            options.json = json
            try finish(CreateCommand.main(options))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The archives in a directory, oldest first: name, created, size, keys, encrypted.",
            discussion: "Example:\n  cairn-backup list /backups --json")
        @Argument(help: "The directory.") var dir: String
        @Option(help: "Key for encrypted archives (their keys count shows only with it).") var keyFile: String?
        @Flag(help: "One JSON object per archive.") var json = false

        func run() throws {
            var options = ListOptions(dir: dir)
            options.keyFile = keyFile
            options.json = json
            try finish(ListCommand.main(options))
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every checksum, the tar structure, and the RDB (CRC and a full parse); write nothing.",
            discussion: "Example:\n  cairn-backup verify /backups/cairn-backup-20261125T074400Z.tar.lz4.enc --key-file backup.key")
        @Argument(help: "The archive.") var archive: String
        @Option(help: "The key, for an encrypted archive.") var keyFile: String?
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            var options = VerifyOptions(archive: archive)
            options.keyFile = keyFile
            options.json = json
            try finish(VerifyCommand.main(options))
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an archive and unpack it into a data directory, atomically.",
            discussion: """
            The target must be empty or missing unless --force, which replaces it whole. Nothing of the
            target changes unless every member checked out. --to-time cuts the archive's AOF at the
            first #TS: annotation later than the time (Unix seconds or YYYY-MM-DDTHH:MM:SSZ); start the
            node on the result with appendonly yes.

            Examples:
              cairn-backup restore /backups/cairn-backup-20261125T074400Z.tar.lz4 --to /var/lib/cairn-new
              cairn-backup restore ARCHIVE --to /tmp/pit --to-time 2026-11-25T07:30:00Z
            """)
        @Argument(help: "The archive.") var archive: String
        @Option(help: "The data directory to create or fill.") var to: String
        @Flag(help: "Replace a non-empty target directory.") var force = false
        @Option(help: "Point in time: Unix seconds or YYYY-MM-DDTHH:MM:SSZ.") var toTime: String?
        @Option(help: "The key, for an encrypted archive.") var keyFile: String?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            if let toTime {
                do { _ = try RestoreCommand.parseTime(toTime) } catch let e as BackupError { throw ValidationError(e.message) }
            }
        }

        func run() throws {
            var options = RestoreOptions(archive: archive, target: to)
            options.force = force
            options.toTime = try toTime.map { try RestoreCommand.parseTime($0) }
            options.keyFile = keyFile
            options.json = json
            try finish(RestoreCommand.main(options))
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove archives outside an hourly/daily/weekly retention; never the newest.",
            discussion: """
            Keeps the newest archive of each of the N most recent UTC hours, days and ISO weeks that
            have one; prints what it removes.

            Example:
              cairn-backup prune /backups --keep-hourly 24 --keep-daily 30 --keep-weekly 8 --dry-run
            """)
        @Argument(help: "The directory.") var dir: String
        @Option(help: "Hours to keep one archive each.") var keepHourly = 0
        @Option(help: "Days to keep one archive each.") var keepDaily = 0
        @Option(help: "Weeks to keep one archive each.") var keepWeekly = 0
        @Flag(help: "Say what would be removed; remove nothing.") var dryRun = false
        @Flag(help: "One JSON object per archive, with the decision.") var json = false

        func validate() throws {
            guard keepHourly >= 0 && keepDaily >= 0 && keepWeekly >= 0 else { throw ValidationError("--keep-* counts must be 0 or more") }
        }

        func run() throws {
            var options = PruneOptions(dir: dir, policy: RetentionPolicy(hourly: keepHourly, daily: keepDaily, weekly: keepWeekly))
            options.dryRun = dryRun
            options.json = json
            try finish(PruneCommand.main(options))
        }
    }

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new random key (64 hex digits, mode 0600) to a new file.",
            discussion: "Example:\n  cairn-backup keygen /etc/cairn/backup.key")
        @Argument(help: "The key file to create.") var file: String

        func run() throws { try finish(KeygenCommand.main(path: file)) }
    }
}
