// Client-side caching (Redis 7.0's tracking.c): filled in by CLIENT TRACKING.

public struct TrackingTable {
    /// Some client has tracking on.
    public internal(set) var isActive = false
}

extension Engine {
    /// Sends an invalidation for `key` to the clients that track it.
    func invalidateTrackedKey(_ key: [UInt8]) {}
}
