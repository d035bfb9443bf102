import CairnStorage
import FuzzSupport

// Target aof-manifest: the AOF manifest parser (Sources/CairnStorage/AOF/AOFManifest.swift,
// AOFManifest.parse and the sdssplitargs-style word splitter). Checked beyond "no trap": a
// manifest that parses serializes to one that parses back to the same manifest, unless quoting
// made a line longer than the 1024 bytes a manifest line may have (names full of bytes that must
// be escaped as \xHH: Redis's sdscatrepr lengthens them the same way).

FuzzDriver.run { input in
    let manifest = try AOFManifest.parse(Array(input))
    let written = manifest.serialized()
    guard !written.split(separator: 10).contains(where: { $0.count > AOFManifest.lineBytesMax }) else { return }
    let reread: AOFManifest
    do { reread = try AOFManifest.parse(written) } catch {
        FuzzCheck.require(false, "the serialized manifest does not parse (\(error)): \(String(decoding: written, as: UTF8.self))")
        return
    }
    FuzzCheck.require(reread == manifest, "round trip changed the manifest: \(manifest) -> \(reread)")
}
