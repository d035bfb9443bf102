// maxmemory: evicting keys before a command runs when memory in use is over the limit, after
// Redis 7.0's performEvictions (evict.c), with the same policies, the same approximated LRU/LFU/TTL
// sampling (`maxmemory-samples` keys per database into a 16-entry pool of the best candidates
// seen so far) and the same OOM refusal when nothing can be evicted.
//
// What "memory in use" means here: the bytes glibc's malloc has handed out and not yet taken back
// (the figure INFO reports as used_memory), supplied by the server as `measure`. Reading it walks
// malloc's free lists, so it costs from microseconds up to milliseconds on a fragmented heap; it is
// therefore read at most every `MemoryGauge.refreshMicros` (at least 1 ms, and 20x the cost of the
// last reading, so measuring never takes more than ~5% of the time), and in between the gauge adds
// an estimate of what writes added (argument bytes of each write command plus a per-command
// allowance) and subtracts the MemoryUsage estimate of every key it evicts. Each fresh reading
// replaces the estimate, so errors do not accumulate.
//
// LFU keeps Redis's layout in the key's 24-bit access clock (16 bits of minutes of the last
// decrement, 8 bits of logarithmic counter) while an LFU policy is selected. The keyspace writes
// its LRU seconds clock there on every touch, so the evictor reads the field of each key argument
// before a command and, if the command touched it, writes back the updated LFU value after. Keys
// touched by other paths keep an LRU value until their next touch by a command, as in Redis after
// a policy switch.

#if canImport(Glibc)
import Glibc
#endif

public enum MaxmemoryPolicy: String, CaseIterable, Sendable {
    case volatileLRU = "volatile-lru"
    case volatileLFU = "volatile-lfu"
    case volatileRandom = "volatile-random"
    case volatileTTL = "volatile-ttl"
    case allkeysLRU = "allkeys-lru"
    case allkeysLFU = "allkeys-lfu"
    case allkeysRandom = "allkeys-random"
    case noeviction = "noeviction"

    public var isLFU: Bool { self == .volatileLFU || self == .allkeysLFU }
    public var isRandom: Bool { self == .volatileRandom || self == .allkeysRandom }
    public var onlyVolatile: Bool {
        switch self {
        case .volatileLRU, .volatileLFU, .volatileRandom, .volatileTTL: return true
        default: return false
        }
    }
}

/// Redis's LFU counter arithmetic (evict.c).
public enum LFU {
    public static let initialValue: UInt32 = 5

    /// Minutes clock, 16 bits (LFUGetTimeInMinutes).
    @inlinable
    public static func minutes(nowMillis: Int64) -> UInt32 { UInt32(truncatingIfNeeded: nowMillis / 60_000) & 0xFFFF }

    /// The access-clock value of a new key.
    public static func initialClock(nowMillis: Int64) -> UInt32 { minutes(nowMillis: nowMillis) << 8 | initialValue }

    /// LFUDecrAndReturn: the counter after decaying one step per `decayMinutes` since the last
    /// decrement (no decay when `decayMinutes` is 0).
    public static func counter(clock: UInt32, nowMillis: Int64, decayMinutes: Int) -> UInt32 {
        let ldt = (clock >> 8) & 0xFFFF
        let counter = clock & 0xFF
        guard decayMinutes > 0 else { return counter }
        let now = minutes(nowMillis: nowMillis)
        let elapsed = now >= ldt ? now - ldt : 65535 - ldt + now
        let periods = elapsed / UInt32(decayMinutes)
        return periods > counter ? 0 : counter - periods
    }

    /// LFULogIncr: increments with probability 1 / ((counter - 5) * factor + 1).
    public static func increment<G: RandomNumberGenerator>(_ counter: UInt32, logFactor: Int, using g: inout G) -> UInt32 {
        if counter >= 255 { return 255 }
        let r = Double.random(in: 0..<1, using: &g)
        let base = Double(max(0, Int(counter) - Int(initialValue)))
        let p = 1.0 / (base * Double(logFactor) + 1)
        return r < p ? counter + 1 : counter
    }

    /// updateLFU: decay, log-increment, stamp the time.
    public static func touched<G: RandomNumberGenerator>(clock: UInt32, nowMillis: Int64, logFactor: Int, decayMinutes: Int,
                                                         using g: inout G) -> UInt32 {
        let decayed = counter(clock: clock, nowMillis: nowMillis, decayMinutes: decayMinutes)
        let c = increment(decayed, logFactor: logFactor, using: &g)
        return minutes(nowMillis: nowMillis) << 8 | c
    }
}

/// The used-memory figure maxmemory is enforced against (see the file comment).
public final class MemoryGauge {
    /// Reads the bytes in use (nil if it cannot).
    public var measure: () -> Int?
    public private(set) var lastMeasured = 0
    private var measuredAtMicros: Int64 = 0
    private var lastCostMicros: Int64 = 0
    /// Estimated bytes added (positive) or freed (negative) since the last reading.
    public private(set) var drift = 0
    /// Added per write command on top of its argument bytes (key record, value headers).
    public static let perWriteAllowance = 96

    public init(measure: @escaping () -> Int?) { self.measure = measure }

    /// The shortest time between two readings (tests set 0 to read on every check).
    public var minimumRefreshMicros: Int64 = 1000

    public var refreshMicros: Int64 { max(minimumRefreshMicros, lastCostMicros * 20) }

    /// A fresh reading if the last one is old enough, else the last plus the drift.
    public func current(nowMicros: Int64 = Clock.monotonicMicros()) -> Int {
        if measuredAtMicros == 0 || nowMicros - measuredAtMicros >= refreshMicros { refresh(nowMicros: nowMicros) }
        return max(0, lastMeasured + drift)
    }

    public func refresh(nowMicros: Int64 = Clock.monotonicMicros()) {
        let start = Clock.monotonicMicros()
        if let v = measure() { lastMeasured = v }
        let end = Clock.monotonicMicros()
        lastCostMicros = end - start
        measuredAtMicros = end
        drift = 0
        _ = nowMicros
    }

    public func adjust(_ bytes: Int) { drift += bytes }
}

public final class Evictor {
    public var policy: MaxmemoryPolicy = .noeviction {
        didSet { updateArming() }
    }
    /// Bytes; 0 = no limit.
    public var maxmemory = 0 {
        didSet { updateArming() }
    }
    /// The engine this evictor is installed on, and its hooks there (armed only when there is a
    /// limit to enforce or LFU counters to keep).
    private unowned(unsafe) var engine: Engine?
    private var hooks: (oom: HookHandle, lfu: HookHandle, after: HookHandle)?
    public var samples = 5
    public var lfuLogFactor = 10
    public var lfuDecayMinutes = 1
    /// maxmemory-eviction-tenacity 0...100: how long one eviction run may take (Redis's
    /// evictionTimeLimitUs); past that the command runs anyway and the next one continues.
    public var tenacity = 10
    /// `replica-ignore-maxmemory`: a replica leaves its dataset to its master (Redis's
    /// isSafeToPerformEvictions): no eviction, no OOM refusal.
    public var replicaIgnoresMaxmemory = true
    public let gauge: MemoryGauge
    public private(set) var evictedKeys: Int64 = 0
    /// Microseconds spent over the limit (INFO total_eviction_exceeded_time).
    public private(set) var exceededMicros: Int64 = 0
    private var overSinceMicros: Int64 = 0

    static let poolSize = 16
    /// Candidates, ascending by idle score; the last is the best to evict.
    private var pool: [(idle: UInt64, db: Int, key: [UInt8])] = []
    private var nextDB = 0
    /// LFU: the access clocks of the current command's key arguments before it ran.
    private var lfuBefore: [(db: Int, key: [UInt8], clock: UInt32?)] = []

    public static let oomError = "OOM command not allowed when used memory > 'maxmemory'."
    /// Called when an eviction run stopped at its time limit with memory still over the limit
    /// (Redis's startEvictionTimeProc): the server schedules `performEvictions` again on its loop.
    public var onTimeLimit: (() -> Void)?

    public init(measure: @escaping () -> Int?) {
        gauge = MemoryGauge(measure: measure)
    }

    /// INFO's total_eviction_exceeded_time and current_eviction_exceeded_time, in ms.
    public func exceededMillis(now: Int64) -> (total: Int64, current: Int64) {
        let current = overSinceMicros == 0 ? 0 : now - overSinceMicros
        return ((exceededMicros + current) / 1000, current / 1000)
    }

    public func resetStats() {
        evictedKeys = 0
        exceededMicros = 0
    }

    // MARK: engine hooks

    /// Installs the OOM admission stage, the LFU snapshot before each command and the
    /// write-accounting/LFU observer after it.
    public func install(on engine: Engine) {
        self.engine = engine
        let oom = engine.admission.install(.outOfMemory, armed: false) { [unowned(unsafe) self, unowned(unsafe) engine] request in
            admit(engine, request)
        }
        let lfu = engine.preExecutionHooks.add(armed: false) { [unowned(unsafe) self, unowned(unsafe) engine] client, command, args in
            snapshotAccessClocks(engine, client, command, args)
        }
        let after = engine.commandObservers.add(armed: false) { [unowned(unsafe) self, unowned(unsafe) engine] client, command, args, _ in
            afterCommand(engine, client, command, args)
        }
        hooks = (oom, lfu, after)
        updateArming()
    }

    private func updateArming() {
        guard let engine, let hooks else { return }
        engine.admission.arm(hooks.oom, maxmemory > 0)
        engine.preExecutionHooks.arm(hooks.lfu, policy.isLFU)
        engine.commandObservers.arm(hooks.after, maxmemory > 0 || policy.isLFU)
    }

    /// Access clocks of the command's keys before it runs, so that afterCommand can tell the
    /// keys it touched (LFU counters count touches).
    func snapshotAccessClocks(_ engine: Engine, _ client: ClientSession, _ command: RegisteredCommand, _ args: Arguments) {
        guard policy.isLFU else { return }
        lfuBefore.removeAll(keepingCapacity: true)
        let db = engine.databases[client.db]
        for i in command.spec.keyIndices(args) {
            let key = args.bytes(i)
            lfuBefore.append((client.db, key, db.table.find(key).map { db.table.accessClock(at: $0) }))
        }
    }

    /// The maxmemory stage (Redis's processCommand): evict what the policy allows, then refuse
    /// what may grow memory. It runs for arriving commands only (not for what EXEC runs, nor for
    /// a served blocked client), as the pipeline runs it.
    func admit(_ engine: Engine, _ request: AdmissionRequest) -> String? {
        let client = request.client, command = request.command
        guard maxmemory > 0 else { return nil }
        if performEvictions(engine) { return nil }
        // For EXEC, `flags` holds those of the queued commands too.
        var reject = request.flags.contains(.denyOOM)
        // Queueing inside MULTI could use unbounded memory: refused too, except what ends it.
        if client.transaction != nil && !["exec", "discard", "quit", "reset"].contains(command.spec.name) {
            reject = true
        }
        return reject ? Self.oomError : nil
    }

    func afterCommand(_ engine: Engine, _ client: ClientSession, _ command: RegisteredCommand, _ args: Arguments) {
        if maxmemory > 0 && command.spec.flags.contains(.write) {
            var bytes = MemoryGauge.perWriteAllowance
            for i in 1..<max(1, args.count) { bytes += args[i].count }
            gauge.adjust(bytes)
        }
        guard policy.isLFU, !lfuBefore.isEmpty else { return }
        for (dbIndex, key, before) in lfuBefore {
            let db = engine.databases[dbIndex]
            guard let i = db.table.find(key) else { continue }
            let now = db.table.accessClock(at: i)
            if let before {
                // Unchanged means the command did not touch the key (LOOKUP_NOTOUCH).
                guard now != before else { continue }
                db.table.setAccessClock(at: i, LFU.touched(clock: before, nowMillis: engine.now, logFactor: lfuLogFactor,
                                                      decayMinutes: lfuDecayMinutes, using: &engine.random))
            } else if !(command.spec.name == "restore" && (4..<args.count).contains(where: { args.matches($0, "freq") })) {
                // (RESTORE ... FREQ sets the counter itself.)
                db.table.setAccessClock(at: i, LFU.initialClock(nowMillis: engine.now))
            }
        }
        lfuBefore.removeAll(keepingCapacity: true)
    }

    /// The LFU counter OBJECT FREQ reports for a key (after decay).
    public func frequency(_ entry: KeyEntry, nowMillis: Int64) -> Int {
        Int(LFU.counter(clock: entry.accessClock, nowMillis: nowMillis, decayMinutes: lfuDecayMinutes))
    }

    /// The access clock a key created outside a command's key arguments should start with.
    public func initialClock(_ engine: Engine) -> UInt32 {
        policy.isLFU ? LFU.initialClock(nowMillis: engine.now) : engine.lruClock
    }

    // MARK: eviction

    /// Redis's evictionTimeLimitUs.
    var timeLimitMicros: Int64 {
        if tenacity <= 10 { return Int64(50.0 * pow(1.15, Double(max(0, tenacity) - 1)) + 0.5) }
        if tenacity < 100 { return Int64(500.0 * pow(1.15, Double(tenacity - 10))) }
        return Int64.max
    }

    /// Frees memory until used memory is within maxmemory. Returns false when it is still over
    /// and nothing (more) could be evicted (Redis's EVICT_FAIL); true when within the limit or
    /// when the time budget ran out with keys still evictable (EVICT_RUNNING: the command runs).
    @discardableResult
    public func performEvictions(_ engine: Engine) -> Bool {
        // While clients are paused the dataset stays as it is (Redis's isSafeToPerformEvictions).
        guard maxmemory > 0, !engine.datasetFrozen else { return true }
        if replicaIgnoresMaxmemory && engine.role == .replica { return true }
        let start = Clock.monotonicMicros()
        let used = gauge.current(nowMicros: start)
        guard used > maxmemory else {
            if overSinceMicros != 0 {
                exceededMicros += start - overSinceMicros
                overSinceMicros = 0
            }
            return true
        }
        if overSinceMicros == 0 { overSinceMicros = start }
        guard policy != .noeviction else { return false }
        let toFree = used - maxmemory
        var freed = 0
        var evicted = 0
        while freed < toFree {
            guard let (dbIndex, index) = selectVictim(engine) else {
                gauge.adjust(-freed)
                return false
            }
            let db = engine.databases[dbIndex]
            let key = db.table.key(at: index)
            freed += MemoryUsage.keyBytes(db.table, at: index, samples: 0)
            if engine.observesKeys { engine.signalModifiedKey(db: dbIndex, key) }
            if engine.propagating { engine.propagateDeletion(db: dbIndex, key: key) }
            db.table.remove(at: index, freer: engine.settings.lazyFreeEviction ? engine.lazyFreer : nil)
            engine.notify(.evicted, "evicted", key, db: dbIndex)
            evictedKeys += 1
            evicted += 1
            if evicted % 16 == 0 && Clock.monotonicMicros() - start > timeLimitMicros {
                gauge.adjust(-freed)
                onTimeLimit?()
                return true
            }
        }
        gauge.adjust(-freed)
        if freed >= toFree {
            exceededMicros += Clock.monotonicMicros() - overSinceMicros
            overSinceMicros = 0
        }
        return true
    }

    /// The next key to evict under the policy, as (database, entry index), or nil if none.
    func selectVictim(_ engine: Engine) -> (Int, Int)? {
        let dbs = engine.databases
        if policy.isRandom {
            for _ in 0..<dbs.count {
                let db = dbs[nextDB % dbs.count]
                nextDB = (nextDB + 1) % dbs.count
                let pick = policy.onlyVolatile ? db.table.randomVolatileIndex(using: &engine.random)
                                               : db.table.randomIndex(using: &engine.random)
                if let pick { return (db.id, pick) }
            }
            return nil
        }
        while true {
            var total = 0
            for db in dbs {
                let n = policy.onlyVolatile ? db.table.volatileCount : db.count
                if n > 0 { populatePool(engine, db) }
                total += n
            }
            guard total > 0 else { return nil }
            // Best candidate first; entries whose key is gone (or lost its TTL) are dropped.
            while let best = pool.popLast() {
                let db = dbs[best.db]
                guard let i = db.table.find(best.key) else { continue }
                if policy.onlyVolatile && db.table.expireAt(at: i) == noExpiry { continue }
                return (best.db, i)
            }
        }
    }

    /// evictionPoolPopulate: samples keys of `db` and keeps the best 16 candidates overall.
    private func populatePool(_ engine: Engine, _ db: Database) {
        let n = max(1, samples)
        for _ in 0..<n {
            let pick = policy.onlyVolatile ? db.table.randomVolatileIndex(using: &engine.random)
                                           : db.table.randomIndex(using: &engine.random)
            guard let i = pick else { return }
            let entry = db.table[i]
            let idle: UInt64
            switch policy {
            case .volatileTTL:
                idle = UInt64.max - UInt64(max(0, entry.expireAt))
            case .allkeysLFU, .volatileLFU:
                idle = 255 - UInt64(LFU.counter(clock: entry.accessClock, nowMillis: engine.now, decayMinutes: lfuDecayMinutes))
            default:
                let now = engine.lruClock
                let clock = entry.accessClock & 0xFF_FFFF
                idle = UInt64(now >= clock ? now - clock : now + (0xFF_FFFF - clock))
            }
            // Insert keeping ascending order; when full, a worse candidate than all kept is skipped
            // and otherwise the worst kept one makes room.
            if pool.count >= Self.poolSize, let worst = pool.first, idle <= worst.idle { continue }
            let key = db.table.key(at: i)
            if pool.contains(where: { $0.db == db.id && $0.key == key }) { continue }
            var at = pool.count
            while at > 0 && pool[at - 1].idle > idle { at -= 1 }
            pool.insert((idle, db.id, key), at: at)
            if pool.count > Self.poolSize { pool.removeFirst() }
        }
    }
}

extension Engine {
    /// Whether `client` is a blocked client whose command is being run again to serve it.
    public func isServing(_ client: ClientSession) -> Bool { requeueing === client }
    /// Whether the command running now was queued by MULTI and runs inside EXEC.
    public var isExecutingTransaction: Bool { executingTransaction }
}
