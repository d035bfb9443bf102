// DUMP / RESTORE payloads (docs/format-rdb.md, "DUMP payload"): the RDB type byte and value,
// then the RDB version as 2 bytes little-endian and a CRC-64 of everything before it as 8 bytes
// little-endian. Same layout as Redis, so payloads move between Cairn and Redis.

public enum DumpPayload {
    static let footerBytes = 10

    /// The payload of `value`; strings LZF-compressed when `lzf` (Redis follows rdbcompression).
    public static func encode(_ value: Value, lzf: Bool) -> [UInt8] {
        let sink = MemorySink()
        let out = RDBOutput(sink: sink, checksum: false, lzf: lzf)
        // A MemorySink never fails, so neither do these writes.
        do {
            try out.byte(RDBWriter.typeCode(of: value))
            try RDBWriter.writeValue(value, to: out)
            try out.flush()
        } catch {
            return []
        }
        var bytes = sink.bytes
        let version = UInt16(RDBFormat.writtenVersion)
        bytes.append(UInt8(version & 0xFF))
        bytes.append(UInt8(version >> 8))
        var crc = CRC64.checksum(bytes).littleEndian
        withUnsafeBytes(of: &crc) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE payloads and loaded RDB files are accepted
    /// whatever their CRC-64 (Redis's server.skip_checksum_validation). Process-wide.
    nonisolated(unsafe) public static var skipChecksumValidation = false

    /// Whether the footer is acceptable: a version this build reads and a matching checksum
    /// (Redis's verifyDumpPayload).
    public static func verify(_ payload: [UInt8]) -> Bool {
        guard payload.count >= footerBytes else { return false }
        let n = payload.count
        let version = Int(payload[n - 10]) | Int(payload[n - 9]) << 8
        guard version <= RDBFormat.readableVersions.upperBound else { return false }
        if skipChecksumValidation { return true }
        var stored: UInt64 = 0
        for i in 0..<8 { stored |= UInt64(payload[n - 8 + i]) << (8 * UInt64(i)) }
        let computed = payload.withUnsafeBytes { CRC64.update(0, UnsafeRawBufferPointer(rebasing: $0[0..<(n - 8)])) }
        return stored == computed
    }

    /// The value in a verified payload; throws for damage or unsupported types.
    public static func decode(_ payload: [UInt8], settings: EngineSettings) throws -> Value {
        guard payload.count > footerBytes else { throw RDBError(.corrupt, "payload too short") }
        return try RDBReader.decodeValue(payload[0..<(payload.count - footerBytes)], settings: settings)
    }
}
