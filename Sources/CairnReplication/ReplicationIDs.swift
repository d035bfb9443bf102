// A node's replication history (PSYNC2): the id of the stream it serves now, and the id it served
// before it was promoted, valid up to `secondOffset`, so that replicas that followed its old
// master can continue from it without a full copy (Redis's replid, replid2, second_replid_offset).

public struct ReplicationIDs: Sendable, Equatable {
    public var replid: String
    public var replid2: String
    /// The last offset that `replid2` covers + 1; -1 when there is no second id.
    public var secondOffset: Int64

    public static let none = String(repeating: "0", count: 40)

    public init(replid: String = ReplicationIDs.random(), replid2: String = ReplicationIDs.none, secondOffset: Int64 = -1) {
        self.replid = replid
        self.replid2 = replid2
        self.secondOffset = secondOffset
    }

    /// 40 random hex digits (Redis's getRandomHexChars).
    public static func random() -> String {
        var g = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: (0..<40).map { _ in digits[Int(g.next() % 16)] }, as: UTF8.self)
    }

    /// A new history starts here (Redis's changeReplicationId): the old id is forgotten.
    public mutating func renew() {
        replid = Self.random()
    }

    /// Forgets the second id (clearReplicationId2).
    public mutating func clearSecond() {
        replid2 = Self.none
        secondOffset = -1
    }

    /// Promotion (shiftReplicationId): the current id becomes the second one, valid up to
    /// `offset`, and a new id starts at offset + 1.
    public mutating func shift(at offset: Int64) {
        replid2 = replid
        secondOffset = offset + 1
        renew()
    }
}

/// What a master answers a PSYNC (Redis's masterTryPartialResynchronization).
public enum PSYNCDecision: Sendable, Equatable {
    /// +CONTINUE: the replica's next byte is at `from`, held by the backlog.
    case partial(from: Int64)
    /// +FULLRESYNC, with the reason the log gives.
    case full(reason: String)

    /// `requestedID` and `requestedOffset` are PSYNC's arguments (the replica's master id and the
    /// offset of the first byte it lacks; `?` and -1 ask for a full copy).
    public static func decide(requestedID: String, requestedOffset: Int64?, ids: ReplicationIDs,
                              backlog: ReplicationBacklog?) -> PSYNCDecision {
        guard let offset = requestedOffset else { return .full(reason: "Invalid offset") }
        if requestedID.lowercased() != ids.replid.lowercased() {
            let second = requestedID.lowercased() == ids.replid2.lowercased() && ids.replid2 != ReplicationIDs.none
            if !second || offset > ids.secondOffset {
                if requestedID == "?" { return .full(reason: "Full resync requested by replica") }
                if second {
                    return .full(reason: "Requested offset for second ID was \(offset), but I can reply up to \(ids.secondOffset)")
                }
                return .full(reason: "Replication ID mismatch (Replica asked for '\(requestedID)', my replication IDs are '\(ids.replid)' and '\(ids.replid2)')")
            }
        }
        guard let backlog, backlog.canServe(from: offset) else {
            return .full(reason: "Unable to partial resync with replica: lack of backlog (Replica request was: \(offset)).")
        }
        return .partial(from: offset)
    }
}
