// Reads a whole RDB stream through CairnStorage's RDBReader — every record decoded, the CRC-64
// checked — and sums up what MANIFEST.json says of it.

import CairnStorage

enum RDBSummaryReader {
    static func read(_ source: ByteSource, path: String) throws -> BackupManifest.RDBSummary {
        let reader: RDBReader
        do { reader = try RDBReader(source: source) } catch { throw BackupError.from(error, member: path) }
        var keys = 0
        var expires = 0
        var perDB: [Int: Int] = [:]
        do {
            while let record = try reader.next() {
                guard case .entry(let e) = record else { continue }
                keys += 1
                if e.expireAt != noExpiry { expires += 1 }
                perDB[e.db, default: 0] += 1
            }
        } catch {
            throw BackupError.from(error, member: path)
        }
        let compression: String
        switch reader.outer {
        case .lz4: compression = "lz4"
        case .zlib: compression = "zlib"
        case .lzf, .none: compression = "none"
        }
        return BackupManifest.RDBSummary(
            path: path, version: reader.version, compression: compression, keys: keys, expires: expires,
            keysPerDb: Dictionary(uniqueKeysWithValues: perDB.map { (String($0.key), $0.value) }))
    }
}
