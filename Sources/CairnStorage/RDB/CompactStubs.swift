// TEMPORARY: placeholders for the compact-encoding decoders being written in parallel
// (RedisZiplist/RedisListpack/RedisIntset/RedisZipmap). Deleted when they are merged.
public enum CompactEntry { case bytes(UnsafeRawBufferPointer); case int(Int64) }
public struct CompactEncodingError: Error, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var description: String { "\(message) at blob offset \(offset)" }
}
public enum RedisZiplist { public static func forEach(_ blob: UnsafeRawBufferPointer, _ body: (CompactEntry) throws -> Void) throws { throw CompactEncodingError(message: "ziplist decoding not merged yet", offset: 0) } }
public enum RedisListpack {
    public static func forEach(_ blob: UnsafeRawBufferPointer, _ body: (CompactEntry) throws -> Void) throws { throw CompactEncodingError(message: "listpack decoding not merged yet", offset: 0) }
}
public enum RedisIntset { public static func forEach(_ blob: UnsafeRawBufferPointer, _ body: (Int64) throws -> Void) throws { throw CompactEncodingError(message: "intset decoding not merged yet", offset: 0) } }
public enum RedisZipmap { public static func forEach(_ blob: UnsafeRawBufferPointer, _ body: (_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void) throws { throw CompactEncodingError(message: "zipmap decoding not merged yet", offset: 0) } }
