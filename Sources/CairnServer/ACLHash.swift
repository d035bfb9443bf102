// SHA-256 for ACL passwords. Redis keeps only the SHA-256 of each password, as 64 lowercase hex
// digits (ACL GETUSER and ACL LIST show those, `#<hash>` sets one), and so does Cairn: a cleartext
// password is hashed the moment a rule or AUTH supplies it and is never stored. The digest is
// swift-crypto's; ACLUserTests checks it against the FIPS 180-4 vectors.

import Crypto

enum ACLHash {
    /// The digest of `password` as 64 lowercase hex digits (Redis's ACLHashPassword).
    static func hex(_ password: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in SHA256.hash(data: password) {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
