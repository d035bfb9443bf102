// Streams a tar archive into a ByteSink (docs/format-backup.md, "The tar layer"): a ustar header
// per member, a pax header before it when the name is longer than 100 bytes, not ASCII, or the
// size does not fit the octal field; data padded to 512 bytes; two zero blocks at the end.

import CairnStorage

final class TarWriter {
    private let sink: ByteSink
    /// Bytes of the current member still expected, nil between members.
    private var remaining: Int64?
    private var currentSize: Int64 = 0
    private var currentPath = ""

    init(sink: ByteSink) { self.sink = sink }

    /// Writes the header of `entry`; a file's `entry.size` bytes must follow through `write`.
    func begin(_ entry: TarEntry) throws {
        guard remaining == nil else { throw BackupError(.io, "\(currentPath): the next member began before it ended") }
        var name = Array(entry.path.utf8)
        if entry.kind == .directory && name.last != 0x2F { name.append(0x2F) }
        var pax: [UInt8] = []
        let ascii = name.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        if name.count > TarFormat.nameBytesMax || !ascii { pax += TarFormat.paxRecord("path", name) }
        if entry.size > TarFormat.octalSizeMax { pax += TarFormat.paxRecord("size", Array(String(entry.size).utf8)) }
        if !pax.isEmpty {
            // GNU tar and bsdtar name pax headers this way; extractors ignore the name.
            let base = name.split(separator: 0x2F).last.map(Array.init) ?? []
            let paxName = Array("PaxHeaders/".utf8) + base.filter { $0 >= 0x20 && $0 < 0x7F }
            try emit(TarFormat.header(name: paxName, typeflag: TarFormat.typePax, size: Int64(pax.count),
                                      mode: 0o644, mtime: entry.mtime))
            try emit(pax)
            try pad(Int64(pax.count))
        }
        let size = entry.kind == .directory ? 0 : entry.size
        try emit(TarFormat.header(name: name, typeflag: entry.kind == .directory ? TarFormat.typeDirectory : TarFormat.typeFile,
                                  size: size, mode: entry.mode, mtime: entry.mtime))
        currentPath = entry.path
        currentSize = size
        remaining = size
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let left = remaining, Int64(bytes.count) <= left else {
            throw BackupError(.io, "\(currentPath): more bytes than its size in the archive")
        }
        try sink.consume(bytes)
        remaining = left - Int64(bytes.count)
    }

    /// Ends the current member: every byte of its size must have been written.
    func end() throws {
        guard let left = remaining else { return }
        guard left == 0 else { throw BackupError(.io, "\(currentPath): \(left) bytes short of its size") }
        remaining = nil
        try pad(currentSize)
    }

    /// The end-of-archive marker; then the sink is finished (compression trailers).
    func finish() throws {
        try emit([UInt8](repeating: 0, count: 2 * TarFormat.blockBytes))
        try sink.finish()
    }

    private func emit(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try sink.consume($0) } }

    private func pad(_ size: Int64) throws {
        let extra = Int(size % Int64(TarFormat.blockBytes))
        if extra > 0 { try emit([UInt8](repeating: 0, count: TarFormat.blockBytes - extra)) }
    }
}
