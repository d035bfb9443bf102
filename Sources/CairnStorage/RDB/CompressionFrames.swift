// Public doors to the outer compression frames of ByteSink.swift and ByteSource.swift, for other
// formats that wrap a whole stream the same way (docs/format-backup.md: backup archives are one
// gzip stream or one LZ4 frame).

public enum CompressionFrames {
    /// One LZ4 frame with content checksum (`lz4 -d` reads it); level 0...12.
    public static func lz4Sink(over sink: ByteSink, level: Int = 1) throws -> ByteSink {
        try LZ4FrameSink(next: sink, level: level)
    }

    /// One gzip stream (`gzip -d` reads it); level 1...9. `headerCRC` adds the optional header
    /// CRC-16 (FHCRC), which zlib checks on reading.
    public static func gzipSink(over sink: ByteSink, level: Int = 6, headerCRC: Bool = false) throws -> ByteSink {
        try GzipSink(next: sink, level: level, headerCRC: headerCRC)
    }

    /// Decodes exactly one LZ4 frame: damage, truncation or trailing bytes throw `RDBError(.corrupt)`.
    public static func lz4Source(over source: ByteSource) throws -> ByteSource {
        try LZ4FrameSource(next: source)
    }

    /// Decodes exactly one gzip stream: damage, truncation or trailing bytes throw `RDBError(.corrupt)`.
    public static func gzipSource(over source: ByteSource) throws -> ByteSource {
        try GzipSource(next: source)
    }

    public static let lz4Magic: [UInt8] = OuterFormat.lz4Magic
    public static let gzipMagic: [UInt8] = OuterFormat.gzipMagic
}
