@testable import CairnBackup
import CairnStorage
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

// `fuzz-seeds FIXTURES OUT`: writes each target's seed corpus into OUT/<target>/ from the
// repository's Fixtures/ (files written by real Redis 7.0 and by cairn-backup), so that nothing is
// committed twice: the RDB files as they are and in an LZ4 frame and a gzip stream, the AOF
// files and manifests, a DUMP payload of every key of every RDB fixture, the backup archives and
// the tar streams inside them, the RESP request and reply transcripts, and a few hand-written
// RESP values of the types the transcripts lack.

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FuzzCheck.printError("usage: fuzz-seeds FIXTURES-DIR OUT-DIR")
    exit(2)
}
let fixtures = arguments[1]
let out = arguments[2]

func files(_ directory: String, where keep: (String) -> Bool) -> [String] {
    guard let dir = opendir(directory) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." && keep(name) { names.append(directory + "/" + name) }
    }
    return names.sorted()
}

func subdirectories(_ directory: String) -> [String] {
    files(directory) { _ in true }.filter { path in
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}

func read(_ path: String) -> [UInt8] {
    guard let f = fopen(path, "rb") else { fatalError("cannot open \(path)") }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n == 0 { return bytes }
        bytes += chunk[0..<n]
    }
}

var written = 0
@MainActor func write(_ target: String, _ name: String, _ bytes: [UInt8]) {
    let directory = out + "/" + target
    var partial = directory.hasPrefix("/") ? "/" : ""
    for part in directory.split(separator: "/") {
        partial += part + "/"
        mkdir(partial, 0o755)
    }
    let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
    guard let f = fopen(directory + "/" + safe, "wb") else { fatalError("cannot write \(directory)/\(safe)") }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
    written += 1
}

func base(_ path: String) -> String { String(path.split(separator: "/").last ?? "") }

// RESP
let respFixtures = files(fixtures + "/resp") { $0.hasSuffix(".bin") }
for path in respFixtures where path.hasSuffix(".requests.bin") { write("resp-request", base(path), read(path)) }
for path in respFixtures where path.hasSuffix(".redis7.bin") { write("resp-value", base(path), read(path)) }
let inlineRequests = ["PING\r\n", "SET k \"a b\\x00\\n\" 'c''d'\n", "\r\n\r\n  GET k\r\n", "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n"]
for (i, r) in inlineRequests.enumerated() { write("resp-request", "inline-\(i)", Array(r.utf8)) }
let resp3Values = ["%2\r\n+a\r\n:1\r\n$1\r\nb\r\n,1.5e3\r\n", "~2\r\n#t\r\n#f\r\n", ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$0\r\n\r\n",
                   "|1\r\n+ttl\r\n:3600\r\n$3\r\nabc\r\n", "=15\r\ntxt:Some string\r\n", "(3492890328409238509324850943850943825024385\r\n",
                   "!21\r\nSYNTAX invalid syntax\r\n", "_\r\n,inf\r\n,-inf\r\n,nan\r\n", "*2\r\n*1\r\n*0\r\n$-1\r\n*-1\r\n-ERR x\r\n"]
for (i, v) in resp3Values.enumerated() { write("resp-value", "resp3-\(i)", Array(v.utf8)) }

// RDB files, as they are and framed.
let aofDirectories = subdirectories(fixtures + "/aof")
let rdbFiles = files(fixtures + "/rdb") { $0.hasSuffix(".rdb") } + aofDirectories.flatMap { files($0) { $0.hasSuffix(".rdb") } }
for path in rdbFiles {
    let bytes = read(path)
    let name = base(path)
    write("rdb-plain", name, bytes)
    if let framed = FrameMutator.compress(bytes[...], .lz4) { write("rdb-lz4", name + ".lz4", framed) }
    if let framed = FrameMutator.compress(bytes[...], .gzip) { write("rdb-gzip", name + ".gz", framed) }
}

// DUMP payloads (without their footer) of every key the RDB fixtures hold, once per content.
let payloadBytesMax = 64 * 1024
var payloads = Set<[UInt8]>()
for path in rdbFiles {
    guard let reader = try? RDBReader(bytes: read(path)) else { continue }
    while let record = try? reader.next() {
        guard case .entry(let entry) = record else { continue }
        for lzf in [false, true] {
            let payload = DumpPayload.encode(entry.value, lzf: lzf).dropLast(10)
            guard payload.count <= payloadBytesMax, payloads.insert(Array(payload)).inserted else { continue }
            write("dump-payload", "\(base(path))-\(String(decoding: entry.key.prefix(40), as: UTF8.self))\(lzf ? "-lzf" : "")", Array(payload))
        }
    }
}

// AOF
for directory in aofDirectories {
    for path in files(directory, where: { $0.hasSuffix(".manifest") }) { write("aof-manifest", base(directory) + "-" + base(path), read(path)) }
    for path in files(directory, where: { $0.hasSuffix(".aof") }) { write("aof-scanner", base(directory) + "-" + base(path), read(path)) }
    // A Redis 5/6 AOF with an RDB preamble: the base RDB, then the commands of an increment.
    if let rdb = files(directory, where: { $0.hasSuffix(".base.rdb") }).first,
       let incr = files(directory, where: { $0.hasSuffix(".incr.aof") }).last {
        write("aof-scanner", base(directory) + "-preamble.aof", read(rdb) + read(incr))
    }
}

// Backups: the archives, and the tar streams of the unencrypted ones.
for path in files(fixtures + "/backup", where: { $0.contains(".tar.") }) {
    let bytes = read(path)
    write("backup-archive", base(path), bytes)
    let compression: ArchiveCompression? = path.hasSuffix(".tar.gz") ? .gzip : path.hasSuffix(".tar.lz4") ? .lz4 : nil
    guard let compression, !base(path).hasPrefix("corrupt") else { continue }
    let stream = Array(bytes.dropLast(ArchiveTrailer.length(compression)))
    if let tar = stream.withUnsafeBytes({ FrameMutator.decompress($0, compression == .lz4 ? .lz4 : .gzip) }) {
        write("backup-tar", base(path) + ".tar", tar)
    }
}

// Replication: what a real Redis 7.0 master sent a replica (handshake replies, FULLRESYNC, the
// $EOF:-framed RDB, the stream).
for path in files(fixtures + "/replication", where: { $0.hasSuffix(".bin") }) {
    write("repl-master-replies", base(path), read(path))
}

// The cluster bus: messages real Redis 7.0 nodes sent each other (tools/capture-cluster-bus).
for path in files(fixtures + "/cluster/bus", where: { $0.hasSuffix(".bin") }) {
    write("cluster-bus", base(path), read(path))
}

// nodes.conf files real Redis 7.0 nodes wrote (tools/capture-nodes-conf).
for path in files(fixtures + "/cluster/nodes-conf", where: { $0.hasSuffix(".conf") }) {
    write("nodes-conf", base(path), read(path))
}

print("fuzz-seeds: \(written) seed files in \(out)")
