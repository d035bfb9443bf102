// Archive file names (docs/tools-cairn-backup.md, "Archive names"):
// `cairn-backup-<YYYYMMDDTHHMMSSZ>.tar.<gz|lz4>[.enc]`, the UTC time the snapshot was taken.
// `list` and `prune` only ever look at files named this way.

public enum ArchiveCompression: String, Sendable, CaseIterable, Codable {
    case gzip, lz4

    var fileExtension: String { self == .gzip ? "gz" : "lz4" }
}

public struct ArchiveName: Equatable, Sendable {
    public static let prefix = "cairn-backup-"
    public var time: UTCTime
    public var compression: ArchiveCompression
    public var encrypted: Bool

    public init(time: UTCTime, compression: ArchiveCompression, encrypted: Bool) {
        self.time = time
        self.compression = compression
        self.encrypted = encrypted
    }

    public var fileName: String {
        "\(Self.prefix)\(time.compact).tar.\(compression.fileExtension)\(encrypted ? ".enc" : "")"
    }

    /// The parts of a name written by `fileName`; nil for any other file.
    public static func parse(_ name: String) -> ArchiveName? {
        guard name.hasPrefix(prefix) else { return nil }
        var rest = Substring(name.dropFirst(prefix.count))
        var encrypted = false
        if rest.hasSuffix(".enc") {
            encrypted = true
            rest = rest.dropLast(4)
        }
        let compression: ArchiveCompression
        if rest.hasSuffix(".tar.gz") {
            compression = .gzip
        } else if rest.hasSuffix(".tar.lz4") {
            compression = .lz4
        } else {
            return nil
        }
        rest = rest.dropLast(compression == .gzip ? 7 : 8)
        guard let time = UTCTime.parseCompact(String(rest)) else { return nil }
        return ArchiveName(time: time, compression: compression, encrypted: encrypted)
    }
}
