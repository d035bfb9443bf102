// The encrypted layer: round trips, wrong and missing keys, truncation at and inside chunks,
// every flipped byte, reordered chunks; key files.

@testable import CairnBackup
import CairnStorage
import CairnTools
import Foundation
import Testing

@Suite struct EncryptionTests {
    static let chunk = 4096

    func encrypt(_ data: [UInt8], key: BackupKey) throws -> [UInt8] {
        let sink = MemorySink()
        let enc = EncryptingSink(next: sink, key: key, chunkBytes: Self.chunk)
        // In uneven pieces, as the compressor hands them over.
        var i = 0
        var step = 1
        while i < data.count {
            let n = min(step, data.count - i)
            try data[i..<(i + n)].withUnsafeBytes { try enc.consume($0) }
            i += n
            step = step * 3 + 1
        }
        try enc.finish()
        return sink.bytes
    }

    func decrypt(_ bytes: [UInt8], key: BackupKey?) throws -> [UInt8] {
        let src = try DecryptingSource(next: MemorySource(bytes), key: key)
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1000)
        while true {
            let n = try buf.withUnsafeMutableBytes { try src.read(into: $0) }
            if n == 0 { return out }
            out += buf[0..<n]
        }
    }

    @Test(arguments: [0, 1, 4095, 4096, 4097, 3 * 4096 + 17])
    func roundTrip(size: Int) throws {
        let key = try testKey()
        let data = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let sealed = try encrypt(data, key: key)
        let chunks = size / Self.chunk + 1
        #expect(sealed.count == EncryptionFormat.headerBytes + size + chunks * (4 + EncryptionFormat.tagBytes))
        #expect(try decrypt(sealed, key: key) == data)
    }

    @Test func eachArchiveHasItsOwnSaltAndCiphertext() throws {
        let key = try testKey()
        let data = [UInt8](repeating: 1, count: 100)
        let a = try encrypt(data, key: key), z = try encrypt(data, key: key)
        #expect(a[24..<40] != z[24..<40])
        #expect(a[40...] != z[40...])
    }

    @Test func wrongOrMissingKeyIsAKeyError() throws {
        let sealed = try encrypt(b("secret"), key: try testKey(1))
        #expect(exitOf { _ = try decrypt(sealed, key: try testKey(2)) } == .key)
        #expect(exitOf { _ = try decrypt(sealed, key: nil) } == .key)
        do {
            _ = try decrypt(sealed, key: try testKey(2))
        } catch let e as BackupError {
            #expect(e.message.contains("wrong key"))
        }
    }

    @Test func truncationAnywhereIsDamage() throws {
        let key = try testKey()
        let sealed = try encrypt((0..<(2 * Self.chunk + 100)).map { UInt8(truncatingIfNeeded: $0) }, key: key)
        let perChunk = 4 + Self.chunk + EncryptionFormat.tagBytes
        // At a chunk boundary (the final chunk dropped), inside chunks, inside the header.
        let cuts = [EncryptionFormat.headerBytes + 2 * perChunk, EncryptionFormat.headerBytes + perChunk,
                    EncryptionFormat.headerBytes, sealed.count - 1, sealed.count - 17, 100, 10]
        for cut in cuts {
            #expect(exitOf { _ = try decrypt(Array(sealed.prefix(cut)), key: key) } == .damaged, "cut at \(cut)")
        }
        #expect(exitOf { _ = try decrypt(sealed + [0], key: key) } == .damaged)
    }

    @Test func everyFlippedByteIsDetected() throws {
        let key = try testKey()
        let sealed = try encrypt((0..<(Self.chunk + 50)).map { UInt8(truncatingIfNeeded: $0) }, key: key)
        for i in 0..<sealed.count {
            var bad = sealed
            bad[i] ^= 0x10
            #expect(exitOf { _ = try decrypt(bad, key: key) } != .ok, "byte \(i)")
        }
    }

    @Test func reorderedChunksAreDetected() throws {
        let key = try testKey()
        let sealed = try encrypt([UInt8](repeating: 5, count: 3 * Self.chunk), key: key)
        let h = EncryptionFormat.headerBytes, per = 4 + Self.chunk + EncryptionFormat.tagBytes
        var swapped = Array(sealed[0..<h])
        swapped += sealed[(h + per)..<(h + 2 * per)]
        swapped += sealed[h..<(h + per)]
        swapped += sealed[(h + 2 * per)...]
        #expect(exitOf { _ = try decrypt(swapped, key: key) } == .damaged)
    }

    @Test func keyFiles() throws {
        let scratch = try Scratch()
        let raw = (0..<32).map { UInt8($0) }
        try writeFile(scratch.file("raw"), raw)
        try writeFile(scratch.file("hex"), b(raw.hexString + "\n"))
        try writeFile(scratch.file("HEX"), b(raw.hexString.uppercased()))
        #expect(try BackupKey.load(path: scratch.file("raw")).id == BackupKey(bytes: raw).id)
        #expect(try BackupKey.load(path: scratch.file("hex")).id == BackupKey(bytes: raw).id)
        #expect(try BackupKey.load(path: scratch.file("HEX")).id == BackupKey(bytes: raw).id)
        try writeFile(scratch.file("short"), b("abcd\n"))
        try writeFile(scratch.file("nothex"), b(String(repeating: "zz", count: 32)))
        for bad in ["short", "nothex", "missing"] {
            #expect(exitOf { _ = try BackupKey.load(path: scratch.file(bad)) } == .key, "\(bad)")
        }
        // The error names the file, never the key's bytes.
        do {
            _ = try BackupKey.load(path: scratch.file("nothex"))
        } catch let e as BackupError {
            #expect(!e.message.contains("zz"))
        }
    }

    @Test func keygenWritesAPrivateLoadableKey() throws {
        let scratch = try Scratch()
        let path = scratch.file("k")
        try KeygenCommand.run(path: path, output: ByteOutput())
        #expect(try BackupKey.load(path: path).id.count == 8)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(exitOf { try KeygenCommand.run(path: path, output: ByteOutput()) } == .io)
    }
}
