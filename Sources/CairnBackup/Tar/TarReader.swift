// Reads the tar stream cairn-backup writes (docs/format-backup.md, "The tar layer"), member by
// member, from any ByteSource: regular files and directories, ustar names with their prefix
// field, pax `path` and `size` records. Every header checksum is checked; links, devices and
// anything after the end marker but zero padding are damage. One buffer, whatever the sizes.

import CairnStorage

final class TarReader {
    private let source: ByteSource
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0, end = 0
    /// Unread body bytes of the current member, then its padding.
    private var remaining: Int64 = 0
    private var padding = 0
    private var memberPath = ""
    private var ended = false
    /// Position in the tar stream of the next unread byte.
    private(set) var offset: Int64 = 0

    static let bufferBytes = 256 * 1024

    init(source: ByteSource) {
        self.source = source
        buffer = .allocate(byteCount: Self.bufferBytes, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The next member's header, after skipping what is left of the current one; nil at the end
    /// marker (and nothing but zeros may follow it).
    func next() throws -> TarEntry? {
        guard !ended else { return nil }
        try skip(remaining + Int64(padding))
        remaining = 0
        padding = 0
        var pax: [String: [UInt8]] = [:]
        while true {
            let at = offset
            guard let block = try block() else {
                throw BackupError.damaged("truncated tar stream: no end marker (at tar offset \(at))")
            }
            if block.allSatisfy({ $0 == 0 }) {
                guard let second = try self.block(), second.allSatisfy({ $0 == 0 }) else {
                    throw BackupError.damaged("tar end marker is a single zero block (at tar offset \(at))")
                }
                try expectOnlyZerosAfterEnd()
                ended = true
                return nil
            }
            guard let stored = TarFormat.number(block[148..<156]), stored == Int64(TarFormat.checksum(of: block)) else {
                throw BackupError.damaged("tar header checksum mismatch at tar offset \(at)")
            }
            guard block[257..<262].elementsEqual("ustar".utf8) else {
                throw BackupError.damaged("not a ustar header at tar offset \(at)")
            }
            guard let size = TarFormat.number(block[124..<136]), let mode = TarFormat.number(block[100..<108]),
                  let mtime = TarFormat.number(block[136..<148]) else {
                throw BackupError.damaged("bad numeric field in the tar header at tar offset \(at)")
            }
            let type = block[TarFormat.typeflagOffset]
            if type == TarFormat.typePax || type == TarFormat.typeGlobalPax {
                guard size <= Int64(TarFormat.paxBytesMax) else {
                    throw BackupError.damaged("pax header of \(size) bytes at tar offset \(at)")
                }
                let data = try bytes(Int(size))
                try skip(Int64(Self.padding(size)))
                guard let records = TarFormat.paxRecords(data) else {
                    throw BackupError.damaged("malformed pax header at tar offset \(at)")
                }
                // Global records (type g) change nothing cairn-backup reads.
                if type == TarFormat.typePax { pax.merge(records) { _, new in new } }
                continue
            }
            let kind: TarEntry.Kind
            switch type {
            case TarFormat.typeFile, TarFormat.typeFileOld: kind = .file
            case TarFormat.typeDirectory: kind = .directory
            default:
                throw BackupError.damaged("tar member of type '\(Self.typeText(type))' at tar offset \(at): only files and directories belong in a backup")
            }
            var path = Self.cString(block[0..<100])
            let prefix = Self.cString(block[345..<500])
            if !prefix.isEmpty { path = prefix + [0x2F] + path }
            if let p = pax["path"] { path = p }
            var realSize = size
            if let s = pax["size"] {
                guard let v = Int64(String(decoding: s, as: UTF8.self)), v >= 0 else {
                    throw BackupError.damaged("bad pax size at tar offset \(at)")
                }
                realSize = v
            }
            if kind == .directory {
                while path.last == 0x2F { path.removeLast() }
                realSize = 0
            }
            let text = String(decoding: path, as: UTF8.self)
            guard Array(text.utf8) == path else { throw BackupError.damaged("tar member name is not UTF-8 at tar offset \(at)") }
            memberPath = text
            remaining = realSize
            padding = Self.padding(realSize)
            return TarEntry(path: text, kind: kind, size: realSize, mode: UInt32(mode & 0o7777), mtime: mtime)
        }
    }

    /// Reads the current member's data; 0 once all of it was read.
    func readBody(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard remaining > 0, out.count > 0 else { return 0 }
        if start == end {
            try refill()
            if start == end { throw BackupError.damaged("truncated tar stream inside \(memberPath) (\(remaining) bytes missing)") }
        }
        let n = min(out.count, end - start, Int(min(remaining, Int64(Int.max))))
        out.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: n)
        start += n
        offset += Int64(n)
        remaining -= Int64(n)
        return n
    }

    /// The current member's data as a source (ends with the member).
    var body: ByteSource { MemberSource(reader: self) }

    private final class MemberSource: ByteSource {
        let reader: TarReader
        init(reader: TarReader) { self.reader = reader }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try reader.readBody(into: buffer) }
    }

    // MARK: buffer

    private func refill() throws {
        start = 0
        end = try source.read(into: buffer)
    }

    /// The next 512-byte block; nil at a clean end of stream before it began.
    private func block() throws -> [UInt8]? {
        if start == end {
            try refill()
            if end == 0 { return nil }
        }
        return try bytes(TarFormat.blockBytes)
    }

    private func bytes(_ count: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            if start == end {
                try refill()
                if end == 0 { throw BackupError.damaged("truncated tar stream at tar offset \(offset)") }
            }
            let n = min(count - out.count, end - start)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start..<(start + n)]))
            start += n
            offset += Int64(n)
        }
        return out
    }

    private func skip(_ count: Int64) throws {
        var left = count
        while left > 0 {
            if start == end {
                try refill()
                if end == 0 { throw BackupError.damaged("truncated tar stream inside \(memberPath) at tar offset \(offset)") }
            }
            let n = Int(min(left, Int64(end - start)))
            start += n
            offset += Int64(n)
            left -= Int64(n)
        }
    }

    private func expectOnlyZerosAfterEnd() throws {
        while true {
            if start == end {
                try refill()
                if end == 0 { return }
            }
            guard UnsafeRawBufferPointer(rebasing: buffer[start..<end]).allSatisfy({ $0 == 0 }) else {
                throw BackupError.damaged("data after the tar end marker")
            }
            offset += Int64(end - start)
            start = end
        }
    }

    private static func padding(_ size: Int64) -> Int {
        let extra = Int(size % Int64(TarFormat.blockBytes))
        return extra == 0 ? 0 : TarFormat.blockBytes - extra
    }

    private static func cString(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        Array(bytes.prefix { $0 != 0 })
    }

    private static func typeText(_ type: UInt8) -> String {
        type >= 0x20 && type < 0x7F ? String(UnicodeScalar(type)) : "\\x" + String(type, radix: 16)
    }
}
