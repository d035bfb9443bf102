// DEBUG DIGEST / DEBUG DIGEST-VALUE: a fingerprint of the dataset, after Redis 7.0's
// computeDatasetDigest and xorObjectDigest (debug.c). Every key contributes a 20-byte digest of
// its name, type, value and whether it has an expiry; those are XORed together, so the result does
// not depend on insertion or hash-table order. Lists feed each element through SHA1 in turn
// ("mix"), so order matters there; set members and hash/zset pairs are XORed ("xor"), so it does
// not. The database number is mixed in before its keys. An empty dataset gives 20 zero bytes.
//
// DIGEST-VALUE of strings and lists gives Redis's own bytes (checked against Redis 7.0.15). The
// whole-dataset DIGEST follows the same construction but does not reproduce Redis's bytes (which
// is not a goal: it is compared between Cairn servers, e.g. a master and its replica).
// Hashes, sets and sorted sets are digested from their elements once those types expose iteration
// (see `elementsDigest`); until then only their type and key take part.

public enum DatasetDigest {
    /// Redis's object type numbers (OBJ_STRING ... OBJ_HASH), mixed into each key's digest.
    static func typeNumber(_ v: Value) -> UInt32 {
        switch v {
        case .int, .string: return 0
        case .list: return 1
        case .set: return 2
        case .zset: return 3
        case .hash: return 4
        }
    }

    /// The digest of every database, as 40 lowercase hex digits.
    public static func dataset(_ engine: Engine) -> String {
        var final = [UInt8](repeating: 0, count: 20)
        for db in engine.databases where db.count > 0 {
            var id = UInt32(truncatingIfNeeded: db.id).bigEndian
            withUnsafeBytes(of: &id) { mix(&final, $0) }
            for i in db.table.indices {
                var digest = [UInt8](repeating: 0, count: 20)
                db.table.key(at: i).withUnsafeBytes { mix(&digest, $0) }
                objectDigest(&digest, db.table[i])
                xor(&final, digest)
            }
        }
        return hex(final)
    }

    /// DEBUG DIGEST-VALUE's digest of one key's value (zeros for a missing key).
    public static func value(_ entry: KeyEntry?) -> String {
        var digest = [UInt8](repeating: 0, count: 20)
        if let entry { objectDigest(&digest, entry) }
        return hex(digest)
    }

    /// Redis's xorObjectDigest: type, value, then the expiry marker.
    static func objectDigest(_ digest: inout [UInt8], _ entry: KeyEntry) {
        var type = typeNumber(entry.value).bigEndian
        withUnsafeBytes(of: &type) { mix(&digest, $0) }
        switch entry.value {
        case .int(let v):
            CairnRESP.Decimal.bytes(v).withUnsafeBytes { mix(&digest, $0) }
        case .string(let s):
            s.bytes.withUnsafeBytes { mix(&digest, $0) }
        case .list(let l):
            guard l.count > 0 else { break }
            l.forEach(from: 0, through: l.count - 1) { element in
                element.withUnsafeBytes { mix(&digest, $0) }
                return true
            }
        case .hash, .set, .zset:
            elementsDigest(&digest, entry.value)
        }
        if entry.expireAt != noExpiry {
            Array("!!expire!!".utf8).withUnsafeBytes { xor(&digest, $0) }
        }
    }

    /// Hashes (field, value pairs mixed then XORed), sets (members XORed) and sorted sets (member
    /// and "%.17g" score mixed, then XORed) as Redis digests them. The collection types do not yet
    /// expose element iteration on this branch, so nothing is added here yet.
    static func elementsDigest(_ digest: inout [UInt8], _ value: Value) {}

    // MARK: Redis's mixDigest / xorDigest

    /// digest ^= SHA1(bytes)
    static func xor(_ digest: inout [UInt8], _ bytes: UnsafeRawBufferPointer) {
        let h = SHA1.hash(bytes)
        for j in 0..<20 { digest[j] ^= h[j] }
    }

    static func xor(_ digest: inout [UInt8], _ other: [UInt8]) {
        for j in 0..<20 { digest[j] ^= other[j] }
    }

    /// digest = SHA1(digest ^ SHA1(bytes))
    static func mix(_ digest: inout [UInt8], _ bytes: UnsafeRawBufferPointer) {
        xor(&digest, bytes)
        digest = digest.withUnsafeBytes { SHA1.hash($0) }
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// SHA-1 (FIPS 180-4). Used only for digests that must match Redis's, never for security.
public enum SHA1 {
    public static func hash(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
        var w = [UInt32](repeating: 0, count: 80)
        let length = message.count
        // Full blocks straight from the input, then the padded tail (one or two blocks).
        var tail = [UInt8](message[(length - length % 64)...])
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        let bits = UInt64(length) &* 8
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }

        func block(_ bytes: UnsafeRawBufferPointer, _ offset: Int) {
            for t in 0..<16 {
                let p = offset + t * 4
                w[t] = UInt32(bytes[p]) << 24 | UInt32(bytes[p + 1]) << 16 | UInt32(bytes[p + 2]) << 8 | UInt32(bytes[p + 3])
            }
            for t in 16..<80 {
                let x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]
                w[t] = x << 1 | x >> 31
            }
            var (a, b, c, d, e) = h
            for t in 0..<80 {
                let f: UInt32
                let k: UInt32
                switch t {
                case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
                case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
                case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
                default: f = b ^ c ^ d; k = 0xCA62_C1D6
                }
                let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[t]
                e = d
                d = c
                c = b << 30 | b >> 2
                b = a
                a = temp
            }
            h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
        }

        var offset = 0
        while offset + 64 <= length {
            block(message, offset)
            offset += 64
        }
        tail.withUnsafeBytes { t in
            var o = 0
            while o < t.count {
                block(t, o)
                o += 64
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(20)
        for word in [h.0, h.1, h.2, h.3, h.4] {
            out.append(contentsOf: [UInt8(word >> 24), UInt8(truncatingIfNeeded: word >> 16),
                                    UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word)])
        }
        return out
    }

    public static func hash(_ bytes: [UInt8]) -> [UInt8] { bytes.withUnsafeBytes { hash($0) } }
}

import CairnRESP
