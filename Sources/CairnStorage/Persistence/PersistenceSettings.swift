// The directives the persistence component follows (redis.conf names in the comments). The
// server parses them (CONFIG GET/SET, the config file) into ServerSettings, which holds one of
// these, and pushes it here when they change.

public struct PersistenceSettings: Sendable, Equatable {
    /// `dbfilename`: the RDB file, relative to the working directory (`dir`).
    public var dbfilename = "dump.rdb"
    /// `save <seconds> <changes> ...`: snapshot in the background when both have passed.
    public var savePoints = SavePoint.defaults
    /// `rdbcompression`, `rdb-compression-level`, `rdbchecksum`.
    public var rdbCompression = RDBCompression.lz4
    public var rdbCompressionLevel = 1
    public var rdbChecksum = true
    /// `stop-writes-on-bgsave-error`.
    public var stopWritesOnBgsaveError = true
    /// `rdb-key-save-delay`: µs the saving process sleeps after each key (a test knob, as Redis's).
    public var rdbKeySaveDelayMicros = 0
    /// `rdb-child-watchdog-seconds`: a saving child silent this long is killed; 0 disables.
    public var rdbChildWatchdogSeconds = 60
    /// `appendonly`.
    public var appendonly = false
    /// `appendfilename`: the prefix of every file in the AOF directory.
    public var appendfilename = "appendonly.aof"
    /// `appenddirname`.
    public var appenddirname = "appendonlydir"
    /// `appendfsync`.
    public var appendfsync = AOFFsyncPolicy.everysec
    /// `aof-use-rdb-preamble`, `aof-timestamp-enabled`, `aof-load-truncated`.
    public var aofUseRdbPreamble = true
    public var aofTimestampEnabled = false
    public var aofLoadTruncated = true
    /// Rewrite automatically once the AOF grew by this percentage over its size after the last
    /// rewrite (0: never) and is larger than `autoAofRewriteMinSize` bytes.
    public var autoAofRewritePercentage = 100
    public var autoAofRewriteMinSize = 64 * 1024 * 1024
    /// `no-appendfsync-on-rewrite`.
    public var noAppendfsyncOnRewrite = false

    public init() {}
}

/// One `save` point: a background save starts once `changes` writes were made and `seconds`
/// passed since the last successful save.
public struct SavePoint: Sendable, Equatable {
    public var seconds: Int
    public var changes: Int
    public init(seconds: Int, changes: Int) {
        self.seconds = seconds
        self.changes = changes
    }

    public static let defaults = [SavePoint(seconds: 3600, changes: 1), SavePoint(seconds: 300, changes: 100),
                                  SavePoint(seconds: 60, changes: 10000)]
}
