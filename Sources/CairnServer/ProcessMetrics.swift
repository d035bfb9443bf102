#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// What the process can measure about itself for INFO: heap in use, resident set, CPU time, host.
// Each number says what it is; nothing here is an estimate dressed up as a measurement.

enum ProcessMetrics {
    /// Bytes handed out by malloc and not yet freed (glibc's view: arena bytes obtained from the
    /// system minus free chunks, plus mmap'ed chunks), read with malloc_info(3). Nil where that is
    /// unavailable. Cost grows with the number of free chunks, so it is read on demand (INFO), not
    /// from the cron.
    static func heapBytesInUse() -> Int? {
        #if canImport(Glibc)
        guard let xml = mallocInfoXML() else { return nil }
        return MallocInfo.parseInUseBytes(xml)
        #else
        return nil
        #endif
    }

    /// Bytes malloc holds from the system (its arenas and mmapped chunks): INFO allocator_active.
    static func heapBytesHeld() -> Int? {
        #if canImport(Glibc)
        guard let xml = mallocInfoXML() else { return nil }
        return MallocInfo.parseHeldBytes(xml)
        #else
        return nil
        #endif
    }

    #if canImport(Glibc)
    private typealias MallocInfoFunction = @convention(c) (Int32, UnsafeMutablePointer<FILE>?) -> Int32

    /// malloc_info is declared in <malloc.h>, which Swift's Glibc module does not import, so it is
    /// looked up at run time.
    private static let mallocInfo: MallocInfoFunction? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_info") else { return nil }
        return unsafeBitCast(symbol, to: MallocInfoFunction.self)
    }()

    private static func mallocInfoXML() -> String? {
        guard let mallocInfo else { return nil }
        var buffer: UnsafeMutablePointer<CChar>? = nil
        var size = 0
        guard let stream = open_memstream(&buffer, &size) else { return nil }
        let rc = mallocInfo(0, stream)
        fclose(stream)
        defer { free(buffer) }
        guard rc == 0, let buffer else { return nil }
        return String(cString: buffer)
    }
    #endif

    /// Resident set size in bytes (/proc/self/statm), or nil where there is no /proc.
    static func residentBytes() -> Int? {
        guard let text = readSmallFile("/proc/self/statm") else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * pageSize
    }

    static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }

    static func totalSystemMemory() -> Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        return pages > 0 ? Int(pages) * pageSize : 0
    }

    struct CPUTimes {
        var systemMicros: Int64
        var userMicros: Int64
    }

    enum CPUScope { case process, children, callingThread }

    static func cpuTimes(_ scope: CPUScope) -> CPUTimes {
        var usage = rusage()
        #if canImport(Glibc)
        // RUSAGE_THREAD (1) is Linux-specific and not exported by the Glibc module.
        let who: Int32
        switch scope {
        case .process: who = RUSAGE_SELF.rawValue
        case .children: who = RUSAGE_CHILDREN.rawValue
        case .callingThread: who = 1
        }
        #else
        let who: Int32 = scope == .children ? RUSAGE_CHILDREN : RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return CPUTimes(systemMicros: 0, userMicros: 0) }
        return CPUTimes(
            systemMicros: Int64(usage.ru_stime.tv_sec) * 1_000_000 + Int64(usage.ru_stime.tv_usec),
            userMicros: Int64(usage.ru_utime.tv_sec) * 1_000_000 + Int64(usage.ru_utime.tv_usec)
        )
    }

    /// `Linux 6.1.0 x86_64`, as Redis's `os:` field (uname sysname, release, machine).
    static func operatingSystem() -> String {
        var u = utsname()
        guard uname(&u) == 0 else { return "unknown" }
        func field<T>(_ value: inout T) -> String {
            withUnsafeBytes(of: &value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return "\(field(&u.sysname)) \(field(&u.release)) \(field(&u.machine))"
    }

    /// Absolute path of the running executable.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments.first ?? "" }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// $PWD: the directory the shell started us in (not reliable: a launcher may change directory
    /// without updating it), or nil.
    static func startDirectory() -> String? {
        guard let pwd = getenv("PWD"), pwd.pointee == CChar(UInt8(ascii: "/")) else { return nil }
        return String(cString: pwd)
    }

    /// The whole file as UTF-8 text, or nil if it cannot be opened.
    static func readFile(_ path: String) -> String? {
        readBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The whole file, or nil with `errno` telling why it could not be opened or read.
    static func readBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// The text before the first NUL of a C string buffer.
    static func string(fromCString buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &bytes, bytes.count)
        guard n > 0 else { return nil }
        return String(decoding: bytes[0..<n], as: UTF8.self)
    }
}

/// Reads the process-wide totals at the end of malloc_info(3)'s XML (the lines after the last
/// `</heap>`), e.g. `<total type="rest" count="1" size="50288"/>`.
enum MallocInfo {
    /// In-use bytes: `system current` minus free chunks (`total fast` + `total rest`) plus
    /// `total mmap`.
    static func parseInUseBytes(_ xml: String) -> Int? {
        let totals = parseTotals(xml)
        guard let system = totals["system.current"], let fast = totals["total.fast"],
              let rest = totals["total.rest"] else { return nil }
        return max(0, system - fast - rest) + (totals["total.mmap"] ?? 0)
    }

    /// Held bytes: `system current` plus `total mmap`.
    static func parseHeldBytes(_ xml: String) -> Int? {
        let totals = parseTotals(xml)
        guard let system = totals["system.current"] else { return nil }
        return system + (totals["total.mmap"] ?? 0)
    }

    /// The `<total>` and `<system>` lines of the whole-process part (after the last `</heap>`).
    private static func parseTotals(_ xml: String) -> [String: Int] {
        var totals: [String: Int] = [:]
        for line in xml.split(separator: "\n").reversed() {
            if line.hasPrefix("</heap>") { break }
            guard line.hasPrefix("<total ") || line.hasPrefix("<system "),
                  let type = attribute(line, "type"), let size = attribute(line, "size").flatMap({ Int($0) })
            else { continue }
            totals[(line.hasPrefix("<total ") ? "total." : "system.") + type] = size
        }
        return totals
    }

    /// The value of ` name="value"` in one XML tag line.
    static func attribute(_ line: Substring, _ name: String) -> Substring? {
        let key = Array(" \(name)=\"".utf8)
        let bytes = Array(line.utf8)
        guard bytes.count >= key.count else { return nil }
        for start in 0...(bytes.count - key.count) where bytes[start..<start + key.count].elementsEqual(key) {
            let valueStart = start + key.count
            let valueEnd = bytes[valueStart...].firstIndex(of: UInt8(ascii: "\"")) ?? bytes.count
            return Substring(String(decoding: bytes[valueStart..<valueEnd], as: UTF8.self))
        }
        return nil
    }
}

/// Redis's instantaneous metric: the rate between consecutive samples taken at least 100 ms apart,
/// averaged over the last 16 samples.
struct OpsSampler {
    static let samplesMax = 16
    static let periodMillis: Int64 = 100
    private var samples = [Int64](repeating: 0, count: samplesMax)
    private var index = 0
    private var lastMillis: Int64 = 0
    private var lastCount: Int64 = 0

    mutating func sample(commands: Int64, nowMillis: Int64) {
        guard nowMillis - lastMillis >= Self.periodMillis else { return }
        if lastMillis > 0 {
            let elapsed = nowMillis - lastMillis
            samples[index] = max(0, commands - lastCount) * 1000 / elapsed
            index = (index + 1) % Self.samplesMax
        }
        lastMillis = nowMillis
        lastCount = commands
    }

    var perSecond: Int64 { samples.reduce(0, +) / Int64(Self.samplesMax) }
}
