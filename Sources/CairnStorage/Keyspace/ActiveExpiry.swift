// The active expiry cycle, after Redis's activeExpireCycle (expire.c): every 1/hz seconds, sample
// keys that carry a TTL in each database, delete the expired ones, and keep sampling a database
// while more than `acceptableStalePercent` of a sample was expired, within a CPU budget of
// `slowTimePercent` of the cycle period. Keys are reclaimed even if no client ever touches them.

extension Engine {
    static let expireKeysPerLoopBase = 20
    static let expireAcceptableStalePercentBase = 10
    static let expireSlowTimePercentBase = 25

    /// Runs one cycle; returns the number of keys it expired.
    @discardableResult
    public func activeExpireCycle() -> Int {
        // A replica's keys expire when its master says so (the master's DELs).
        guard settings.activeExpireEnabled, role == .master, !datasetFrozen else { return 0 }
        let effort = max(1, min(10, settings.activeExpireEffort)) - 1
        let keysPerLoop = Self.expireKeysPerLoopBase + Self.expireKeysPerLoopBase / 4 * effort
        let acceptableStale = Self.expireAcceptableStalePercentBase - effort
        let timePercent = Self.expireSlowTimePercentBase + 2 * effort
        let budgetMicros = Int64(1_000_000 * timePercent / max(1, settings.hz) / 100)
        let start = Clock.monotonicMicros()
        now = Clock.unixMillis()
        var expired = 0
        var sampledTotal = 0
        var expiredTotal = 0
        var iterations = 0
        outer: for db in databases where db.table.volatileCount > 0 {
            while db.table.volatileCount > 0 {
                let sample = min(keysPerLoop, db.table.volatileCount)
                var expiredHere = 0
                for _ in 0..<sample {
                    guard let i = db.table.randomVolatileIndex(using: &random) else { break }
                    if db.isExpired(i) {
                        db.expire(at: i)
                        expiredHere += 1
                    }
                }
                expired += expiredHere
                sampledTotal += sample
                expiredTotal += expiredHere
                iterations += 1
                if iterations % 16 == 0 && Clock.monotonicMicros() - start > budgetMicros {
                    stats.expiredTimeCapReached += 1
                    break outer
                }
                if expiredHere * 100 <= sample * acceptableStale { break }
            }
        }
        let elapsed = Clock.monotonicMicros() - start
        stats.expireCycleMicros += elapsed
        if sampledTotal > 0 {
            let current = Double(expiredTotal) / Double(sampledTotal)
            stats.expiredStalePercent = current * 0.05 + stats.expiredStalePercent * 0.95
        }
        return expired
    }
}
