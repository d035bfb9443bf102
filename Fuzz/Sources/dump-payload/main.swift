import CairnStorage
import FuzzSupport

// Target dump-payload: RESTORE (Sources/CairnStorage/Commands/DumpRestoreCommands.swift) and the
// payload decoding it uses (RDB/DumpPayload.swift, RDBReader.decodeValue), run as a client runs
// them. The input is a payload's body (type byte and value); the footer (RDB version and CRC-64)
// is appended here, so that mutations are not all refused by the checksum. A restored key is
// then used (FuzzEngine.exercise). The raw input also goes through the footer check alone.

nonisolated(unsafe) let fuzz = FuzzEngine()
let key = Array("k".utf8)

/// `body` with the footer DUMP writes: version 2 bytes little-endian, CRC-64 8 bytes little-endian.
func payload(_ body: [UInt8]) -> [UInt8] {
    var bytes = body
    let version = UInt16(RDBFormat.writtenVersion)
    bytes += [UInt8(version & 0xFF), UInt8(version >> 8)]
    let crc = CRC64.checksum(bytes)
    for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt64(i)))) }
    return bytes
}

FuzzDriver.run { input in
    let body = Array(input)
    _ = DumpPayload.verify(body)
    let restored = fuzz.run([Array("RESTORE".utf8), key, Array("0".utf8), payload(body), Array("REPLACE".utf8)])
    if restored == .simpleString(Array("OK".utf8)) { fuzz.exercise(key) }
    fuzz.run("FLUSHALL")
}
