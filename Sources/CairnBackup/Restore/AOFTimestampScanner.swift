// Walks an AOF file's RESP stream (docs/format-backup.md, "Point-in-time restore") to find the
// `#TS:<unix seconds>` annotations Redis 7 and Cairn write when aof-timestamp-enabled is on:
// where the first one later than a given time starts, never inside a MULTI ... EXEC block. One
// bounded buffer; bulk payloads are skipped, not held. A torn last command ends the scan.

import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct AOFTimestampScan {
    /// Offset where the file must be cut so that nothing after `after` remains; nil when nothing is later.
    var cutOffset: Int64?
    /// The annotation found there.
    var cutTimestamp: Int64?
    var firstTimestamp: Int64?
    var lastTimestamp: Int64?
    /// Where the last complete command or annotation ends.
    var completeBytes: Int64 = 0
}

final class AOFTimestampScanner {
    static let lineBytesMax = 1024
    static let bulkBytesMax: Int64 = 1 << 40
    static let argumentsMax = 1 << 24
    private let fd: Int32
    private let name: String
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    private var start = 0, end = 0
    private var base: Int64 = 0
    private var eof = false

    init(fd: Int32, name: String) {
        self.fd = fd
        self.name = name
    }

    deinit { buffer.deallocate() }

    private var offset: Int64 { base + Int64(start) }

    /// Scans the whole file for the first annotation later than `after`.
    func scan(after: Int64) throws -> AOFTimestampScan {
        var result = AOFTimestampScan()
        var multiStart: Int64? = nil
        while true {
            let at = offset
            guard let first = try peekByte() else { break }
            if first == UInt8(ascii: "#") {
                guard let line = try readLine() else { break }
                if line.starts(with: Array("#TS:".utf8)) {
                    guard let ts = Int64(String(decoding: line.dropFirst(4), as: UTF8.self)) else {
                        throw damaged("bad #TS annotation", at)
                    }
                    if result.firstTimestamp == nil { result.firstTimestamp = ts }
                    result.lastTimestamp = ts
                    if ts > after && result.cutOffset == nil {
                        result.cutOffset = multiStart ?? at
                        result.cutTimestamp = ts
                    }
                }
                result.completeBytes = offset
                continue
            }
            guard first == UInt8(ascii: "*") else { throw damaged("expected a command ('*'), found byte \(first)", at) }
            guard let header = try readLine(), let count = Int(String(decoding: header.dropFirst(), as: UTF8.self)),
                  count >= 1, count <= Self.argumentsMax else {
                if eof { break }
                throw damaged("bad command header", at)
            }
            var command: [UInt8] = []
            var complete = true
            for i in 0..<count {
                guard let lenLine = try readLine() else { complete = false; break }
                guard lenLine.first == UInt8(ascii: "$"), let length = Int64(String(decoding: lenLine.dropFirst(), as: UTF8.self)),
                      length >= 0, length <= Self.bulkBytesMax else {
                    throw damaged("bad bulk length", at)
                }
                if i == 0 {
                    guard length <= 16, let name = try read(Int(length)) else { if eof { complete = false; break }; throw damaged("bad command name", at) }
                    command = name.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
                } else if !(try skip(length)) {
                    complete = false
                    break
                }
                guard let crlf = try read(2) else { complete = false; break }
                guard crlf == [0x0D, 0x0A] else { throw damaged("bulk string without CRLF", at) }
            }
            guard complete else { break }
            if command == Array("MULTI".utf8) {
                multiStart = at
            } else if command == Array("EXEC".utf8) || command == Array("DISCARD".utf8) {
                multiStart = nil
            }
            result.completeBytes = offset
        }
        return result
    }

    private func damaged(_ what: String, _ at: Int64) -> BackupError {
        BackupError.damaged("\(name): \(what) at offset \(at)")
    }

    // MARK: buffered reading; nil means the file ended first

    private func fill(_ n: Int) throws -> Bool {
        if end - start >= n { return true }
        if start > 0 {
            let live = end - start
            if live > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: live) }
            base += Int64(start)
            start = 0
            end = live
        }
        while end - start < n {
            let got = Glibc.read(fd, buffer.baseAddress! + end, buffer.count - end)
            if got < 0 {
                if errno == EINTR { continue }
                throw BackupError.io("cannot read \(name)", errno: errno)
            }
            if got == 0 {
                eof = true
                return false
            }
            end += got
        }
        return true
    }

    private func peekByte() throws -> UInt8? {
        guard try fill(1) else { return nil }
        return buffer[start]
    }

    /// A line without its CRLF.
    private func readLine() throws -> [UInt8]? {
        var scanned = start
        while true {
            while scanned + 1 < end {
                if buffer[scanned] == 0x0D && buffer[scanned + 1] == 0x0A {
                    let line = Array(UnsafeRawBufferPointer(rebasing: buffer[start..<scanned]))
                    start = scanned + 2
                    return line
                }
                scanned += 1
            }
            guard end - start < Self.lineBytesMax else { throw damaged("line longer than \(Self.lineBytesMax) bytes", offset) }
            let before = start
            guard try fill(end - start + 1) else { return nil }
            scanned -= before - start
        }
    }

    private func read(_ n: Int) throws -> [UInt8]? {
        guard try fill(n) else { return nil }
        let out = Array(UnsafeRawBufferPointer(rebasing: buffer[start..<(start + n)]))
        start += n
        return out
    }

    private func skip(_ n: Int64) throws -> Bool {
        var left = n
        while left > 0 {
            if start == end { guard try fill(1) else { return false } }
            let step = Int(min(left, Int64(end - start)))
            start += step
            left -= Int64(step)
        }
        return true
    }
}
