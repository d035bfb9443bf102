import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Loading the dataset (Redis 7.0's loadDataFromDisk, rdbLoad and DEBUG RELOAD): the AOF when it
// is enabled, else the RDB file. Every RDB load goes through RDBSnapshot.load, with the rules
// spelled out in RDBLoadOptions: keys already expired are skipped (a master's rule), and a key
// already in memory is an error unless the load may replace it.

extension Persistence {
    /// Loads the AOF (when enabled) or `dbfilename` when it exists. Throws when a file cannot be
    /// read whole: the node must not start with part of its data.
    public func loadDataFromDisk() throws {
        rdb.lastLoadAux = [:]
        if settings.appendonly { return try loadAppendOnlyFilesAtStart() }
        let path = settings.dbfilename
        guard access(path, F_OK) == 0 else { return }
        let summary = try loadRDB(path)
        logger.notice("DB loaded from disk: \(InfoFormat.fixed(summary.seconds, 3)) seconds")
    }

    /// Loads `path` into the databases and logs what Redis logs about it. `existingKeys`: what a
    /// key already in memory means (`.refuse` for a load into empty databases).
    @discardableResult
    public func loadRDB(_ path: String, existingKeys: RDBLoadOptions.ExistingKeys = .refuse) throws -> RDBLoadSummary {
        try report(RDBSnapshot.load(path: path, into: engine, options: loadOptions(existingKeys)))
    }

    /// Loads an RDB stream from `source` into empty databases (a replica's diskless load).
    @discardableResult
    public func loadRDB(from source: ByteSource) throws -> RDBLoadSummary {
        let options = loadOptions(.refuse)
        let started = Clock.monotonicMicros()
        let reader = try RDBReader(source: source, settings: engine.settings, verifyChecksum: options.verifyChecksum)
        var summary = try RDBSnapshot.load(from: reader, into: engine, options: options)
        summary.seconds = Double(Clock.monotonicMicros() - started) / 1e6
        return report(summary)
    }

    private func loadOptions(_ existingKeys: RDBLoadOptions.ExistingKeys) -> RDBLoadOptions {
        var options = RDBLoadOptions()
        options.verifyChecksum = settings.rdbChecksum
        // A master drops keys whose time is past; a replica keeps them until its master's DEL
        // (Redis's rdbLoad checks iAmMaster()).
        options.skipExpiredBefore = engine.role == .master ? Clock.unixMillis() : nil
        options.existingKeys = existingKeys
        return options
    }

    /// Logs what Redis logs about a load, and keeps its AUX fields and counts.
    private func report(_ summary: RDBLoadSummary) -> RDBLoadSummary {
        let aux = Dictionary(summary.aux.map { ($0.key, String(decoding: $0.value, as: UTF8.self)) }) { a, _ in a }
        rdb.lastLoadAux = aux
        if let version = aux["redis-ver"] { logger.notice("Loading RDB produced by version \(version)") }
        if let created = aux["ctime"].flatMap({ Int64($0) }) {
            logger.notice("RDB age \(Self.unixSeconds() - created) seconds")
        }
        if let used = aux["used-mem"].flatMap({ Double($0) }) {
            logger.notice("RDB memory usage when created \(InfoFormat.fixed(used / 1024 / 1024, 2)) Mb")
        }
        logger.notice("Done loading RDB, keys loaded: \(summary.keys), keys expired: \(summary.expiredSkipped).")
        rdb.lastLoadKeysLoaded = summary.keys
        rdb.lastLoadKeysExpired = summary.expiredSkipped
        return summary
    }

    /// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty the databases, load the file back.
    /// NOFLUSH loads over the current data: a key already there is an error, unless MERGE lets
    /// the file's value replace it. The error reply, or nil.
    public func debugReload(save: Bool, flush: Bool, merge: Bool) -> String? {
        if save && !saveInForeground() { return "ERR" }
        if flush { engine.flushAll() }
        do {
            try loadRDB(settings.dbfilename, existingKeys: flush || !merge ? .refuse : .replace)
        } catch {
            logger.warning("Error loading the RDB file \(settings.dbfilename): \(error)")
            return "ERR Error trying to load the RDB dump"
        }
        logger.warning("DB reloaded by DEBUG RELOAD")
        return nil
    }
}
