import CairnRESP
import CairnStorage

// client-output-buffer-limit (Redis 7.0 config.c and networking.c): per client class, a hard limit
// in bytes, and a soft limit that closes the client once its output stays at or over it for more
// than `softSeconds`. 0 disables a limit. A client over its limit is disconnected at once, its
// pending output dropped, with Redis's log line.
//
// What counts as a client's pending output: bytes it has not taken off the socket yet (queued in
// the channel plus replies not yet flushed), less the first 16 KiB, which stand for Redis's static
// per-client reply buffer (Redis counts only the reply list beyond it, `reply_bytes`).

struct OutputBufferLimit: Sendable, Equatable {
    var hard: Int
    var soft: Int
    var softSeconds: Int

    var isActive: Bool { hard > 0 || soft > 0 }
}

enum ClientClass: Sendable {
    case normal, replica, pubsub
}

struct OutputBufferLimits: Sendable, Equatable {
    var normal = OutputBufferLimit(hard: 0, soft: 0, softSeconds: 0)
    var replica = OutputBufferLimit(hard: 256 * 1024 * 1024, soft: 64 * 1024 * 1024, softSeconds: 60)
    var pubsub = OutputBufferLimit(hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, softSeconds: 60)

    /// Redis's static reply buffer size (PROTO_REPLY_CHUNK_BYTES), not counted against limits.
    static let uncountedBytes = 16 * 1024

    /// The part of a client's pending output that counts against limits (and CLIENT LIST's
    /// `omem`): what lies beyond the static buffer Redis would have filled first.
    static func countedBytes(pending: Int) -> Int { max(0, pending - uncountedBytes) }

    /// [security] A client that has not authenticated (while a password is required) is closed
    /// once more than 1 KiB of replies waits beyond the uncounted buffer, whatever its class:
    /// otherwise anyone who can connect could make the server hold unbounded output by sending
    /// requests and reading nothing (Redis 7.0.15 with the CVE-2025-21605 fix,
    /// checkClientOutputBufferLimits).
    static let unauthenticatedBytesMax = 1024
    static let unauthenticated = OutputBufferLimit(hard: unauthenticatedBytesMax + 1, soft: 0, softSeconds: 0)

    subscript(_ kind: ClientClass) -> OutputBufferLimit {
        get {
            switch kind {
            case .normal: return normal
            case .replica: return replica
            case .pubsub: return pubsub
            }
        }
        set {
            switch kind {
            case .normal: normal = newValue
            case .replica: replica = newValue
            case .pubsub: pubsub = newValue
            }
        }
    }

    /// As CONFIG GET prints it.
    var description: String {
        [("normal", normal), ("slave", replica), ("pubsub", pubsub)]
            .map { "\($0.0) \($0.1.hard) \($0.1.soft) \($0.1.softSeconds)" }
            .joined(separator: " ")
    }

    /// `<class> <hard> <soft> <soft_seconds>` groups (config file words or one CONFIG SET string):
    /// all are checked before any is applied.
    mutating func apply(_ args: [String]) throws {
        let words = args.flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) }
        guard words.count % 4 == 0 else { throw ConfigError("Wrong number of arguments in buffer limit configuration.") }
        var parsed: [(ClientClass, OutputBufferLimit)] = []
        for j in stride(from: 0, to: words.count, by: 4) {
            let kind: ClientClass
            switch words[j].lowercased() {
            case "normal": kind = .normal
            case "slave", "replica": kind = .replica
            case "pubsub": kind = .pubsub
            default: throw ConfigError("Invalid client class specified in buffer limit configuration.")
            }
            guard let hard = try? ConfigValue.memory(words[j + 1]), let soft = try? ConfigValue.memory(words[j + 2]),
                  let seconds = Decimal.parseInt64(Array(words[j + 3].utf8)), seconds >= 0 else {
                throw ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
            }
            parsed.append((kind, OutputBufferLimit(hard: hard, soft: soft, softSeconds: Int(seconds))))
        }
        for (kind, limit) in parsed { self[kind] = limit }
    }

    /// The class whose limits apply to `session`: subscribed clients are pubsub clients, as in
    /// Redis (replica clients come with replication).
    static func clientClass(of session: ClientSession) -> ClientClass {
        if session.isReplicaLink { return .replica }
        return session.subscriptions.isEmpty ? .normal : .pubsub
    }

    /// Redis's checkClientOutputBufferLimits: whether `used` bytes break `limit` at `nowSeconds`.
    /// `softReachedAt` (0: not reached) is the client's own record of when it went over the
    /// soft limit; the soft limit is broken once it has stayed over for more than softSeconds.
    static func exceeded(_ limit: OutputBufferLimit, used: Int, nowSeconds: Int64, softReachedAt: inout Int64) -> Bool {
        let hard = limit.hard > 0 && used >= limit.hard
        var soft = limit.soft > 0 && used >= limit.soft
        if soft {
            if softReachedAt == 0 {
                softReachedAt = nowSeconds
                soft = false
            } else if nowSeconds - softReachedAt <= Int64(limit.softSeconds) {
                soft = false
            }
        } else {
            softReachedAt = 0
        }
        return soft || hard
    }
}
