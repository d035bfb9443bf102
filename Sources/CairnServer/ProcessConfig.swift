import Foundation
import Logging
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Process-level directives (daemonize, supervised, logfile, syslog-*, shutdown-on-*, pidfile,
// unixsocket, ...) and what they do to the process: detaching, telling a supervisor the node is
// ready, where the log goes. Names, types, defaults and mutability follow Redis 7.0's config.c;
// behaviour follows server.c (daemonize, redisIsSupervised, serverLogRaw, prepareForShutdown).

/// SHUTDOWN flags a signal applies (`shutdown-on-sigterm`, `shutdown-on-sigint`).
public struct ShutdownSignalFlags: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let save = ShutdownSignalFlags(rawValue: 1 << 0)
    public static let nosave = ShutdownSignalFlags(rawValue: 1 << 1)
    public static let now = ShutdownSignalFlags(rawValue: 1 << 2)
    public static let force = ShutdownSignalFlags(rawValue: 1 << 3)

    /// Redis's shutdown_on_sig_enum, in its order.
    static let names: [(String, ShutdownSignalFlags)] = [
        ("default", []), ("save", .save), ("nosave", .nosave), ("now", .now), ("force", .force),
    ]

    /// configEnumGetValue with bit flags, then isValidShutdownOnSigFlags.
    static func parse(_ args: [String]) throws -> ShutdownSignalFlags {
        guard !args.isEmpty else { throw ConfigError("wrong number of arguments") }
        var words = args
        // A single argument holding several words ("nosave now") is split, as for every
        // multi-argument directive.
        if words.count == 1, !words[0].isEmpty {
            words = words[0].split(separator: " ").map(String.init)
            if words.isEmpty { words = [""] }
        }
        var value: ShutdownSignalFlags = []
        for w in words {
            guard let match = names.first(where: { $0.0 == w.lowercased() }) else {
                throw ConfigError("argument(s) must be one of the following: \(names.map { $0.0 }.joined(separator: ", "))")
            }
            value.formUnion(match.1)
        }
        if value.contains(.save) && value.contains(.nosave) {
            throw ConfigError("shutdown options SAVE and NOSAVE can't be used simultaneously")
        }
        return value
    }

    /// configEnumGetName with bit flags.
    var name: String {
        if isEmpty { return "default" }
        return Self.names.filter { !$0.1.isEmpty && contains($0.1) }.map { $0.0 }.joined(separator: " ")
    }
}

public struct ProcessSettings: Sendable {
    public var daemonize = false
    /// upstart, systemd, auto or no.
    public var supervised = "no"
    public var syslogEnabled = false
    public var syslogIdent = "redis"
    /// user, local0 ... local7.
    public var syslogFacility = "local0"
    public var shutdownOnSigterm: ShutdownSignalFlags = []
    public var shutdownOnSigint: ShutdownSignalFlags = []
    public var shutdownTimeoutSeconds = 10
    public var setProcTitle = true
    public var procTitleTemplate = "{title} {listen-addr} {server-mode}"
    public var alwaysShowLogo = false
    public var unixsocket = ""
    public var unixsocketperm = 0
    public var crashLogEnabled = true
    public var crashMemcheckEnabled = true
    /// Not a directive: set by cairn-server's main, where `port 0` means no TCP listener as in
    /// redis-server. An embedded Server given port 0 listens on a free port.
    public var portZeroMeansNoTCP = false
    public init() {}
}

enum ProcessConfig {
    private static func single(_ f: @escaping @Sendable (inout ServerSettings, String) throws -> Void) -> @Sendable (inout ServerSettings, [String]) throws -> Void {
        ConfigTable.single(f)
    }

    static let syslogFacilities: [(String, Int32)] = [
        ("user", LOG_USER), ("local0", LOG_LOCAL0), ("local1", LOG_LOCAL1), ("local2", LOG_LOCAL2),
        ("local3", LOG_LOCAL3), ("local4", LOG_LOCAL4), ("local5", LOG_LOCAL5), ("local6", LOG_LOCAL6),
        ("local7", LOG_LOCAL7),
    ]

    static let directives: [ConfigDirective] = [
        ConfigDirective(name: "daemonize", mutable: false, get: { ConfigValue.yesNo($0.process.daemonize) },
                        set: single { $0.process.daemonize = try ConfigValue.bool($1) }),
        ConfigDirective(name: "supervised", mutable: false, get: { $0.process.supervised },
                        set: single { $0.process.supervised = try ConfigValue.oneOf($1, ["upstart", "systemd", "auto", "no"]) }),
        ConfigDirective(name: "logfile", mutable: false, isString: true, get: { $0.logfile }, set: single { $0.logfile = $1 }),
        ConfigDirective(name: "pidfile", mutable: false, isString: true, get: { $0.pidfile }, set: single { $0.pidfile = $1 }),
        ConfigDirective(name: "syslog-enabled", mutable: false, get: { ConfigValue.yesNo($0.process.syslogEnabled) },
                        set: single { $0.process.syslogEnabled = try ConfigValue.bool($1) }),
        ConfigDirective(name: "syslog-ident", mutable: false, isString: true, get: { $0.process.syslogIdent },
                        set: single { $0.process.syslogIdent = $1 }),
        ConfigDirective(name: "syslog-facility", mutable: false, get: { $0.process.syslogFacility },
                        set: single { $0.process.syslogFacility = try ConfigValue.oneOf($1, syslogFacilities.map { $0.0 }) }),
        ConfigDirective(name: "shutdown-on-sigterm", get: { $0.process.shutdownOnSigterm.name },
                        set: { $0.process.shutdownOnSigterm = try ShutdownSignalFlags.parse($1) }),
        ConfigDirective(name: "shutdown-on-sigint", get: { $0.process.shutdownOnSigint.name },
                        set: { $0.process.shutdownOnSigint = try ShutdownSignalFlags.parse($1) }),
        ConfigDirective(name: "shutdown-timeout", get: { String($0.process.shutdownTimeoutSeconds) },
                        set: single { $0.process.shutdownTimeoutSeconds = try ConfigValue.int($1, 0...Int(Int32.max)) }),
        ConfigDirective(name: "set-proc-title", mutable: false, get: { ConfigValue.yesNo($0.process.setProcTitle) },
                        set: single { $0.process.setProcTitle = try ConfigValue.bool($1) }),
        ConfigDirective(name: "proc-title-template", isString: true, get: { $0.process.procTitleTemplate },
                        set: single { s, v in
                            guard validProcTitleTemplate(v) else {
                                throw ConfigError("template format is invalid or contains unknown variables")
                            }
                            s.process.procTitleTemplate = v
                        }),
        ConfigDirective(name: "always-show-logo", mutable: false, get: { ConfigValue.yesNo($0.process.alwaysShowLogo) },
                        set: single { $0.process.alwaysShowLogo = try ConfigValue.bool($1) }),
        ConfigDirective(name: "unixsocket", mutable: false, isString: true, get: { $0.process.unixsocket },
                        set: single { $0.process.unixsocket = $1 }),
        ConfigDirective(name: "unixsocketperm", mutable: false, get: { String($0.process.unixsocketperm, radix: 8) },
                        set: single { s, v in
                            // OCTAL_CONFIG: strtoll base 8, the whole string, 0...0777.
                            guard !v.isEmpty, let n = Int(v, radix: 8) else {
                                throw ConfigError("argument couldn't be parsed as an octal number")
                            }
                            // Redis prints the bounds in octal too.
                            guard (0...0o777).contains(n) else { throw ConfigError("argument must be between 0 and 777 inclusive") }
                            s.process.unixsocketperm = n
                        }),
        ConfigDirective(name: "crash-log-enabled", get: { ConfigValue.yesNo($0.process.crashLogEnabled) },
                        set: single { $0.process.crashLogEnabled = try ConfigValue.bool($1) }),
        ConfigDirective(name: "crash-memcheck-enabled", get: { ConfigValue.yesNo($0.process.crashMemcheckEnabled) },
                        set: single { $0.process.crashMemcheckEnabled = try ConfigValue.bool($1) }),
    ]

    /// Redis's validateProcTitleTemplate: sdstemplate's syntax (`{name}` a variable, `{{` a
    /// literal brace), known variables only, and a non-empty expansion once trimmed. At
    /// validation the title is empty, and so may be the mode, the config file and the socket.
    static func validProcTitleTemplate(_ t: String) -> Bool {
        let neverEmpty: Set<String> = ["listen-addr", "port", "tls-port"]
        let mayBeEmpty: Set<String> = ["title", "server-mode", "config-file", "unixsocket"]
        var out = ""
        var rest = Substring(t)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let name = rest[rest.index(after: open)...]
            guard let first = name.first else { return false }
            if first == "{" {
                out += "{"
                rest = name.dropFirst()
                continue
            }
            guard let close = name.firstIndex(of: "}") else { return false }
            let variable = String(name[..<close])
            if neverEmpty.contains(variable) {
                out += "x"
            } else if !mayBeEmpty.contains(variable) {
                return false
            }
            rest = name[name.index(after: close)...]
        }
        out += rest
        return !out.trimmingCharacters(in: " ").isEmpty
    }
}

// MARK: - The process: detaching, supervision

public enum ProcessControl {
    /// The supervision in effect ("upstart", "systemd"), set once at startup before any thread.
    nonisolated(unsafe) static var supervisedMode: String? = nil
    /// The server's process (the daemon once detached): log lines from any other are a child's.
    nonisolated(unsafe) static var mainPid: pid_t = getpid()

    /// Redis's shutdown_asap: a shutdown signal is being acted on. A second SIGINT meanwhile
    /// exits at once ("You insist..."); a failed shutdown clears it.
    static let shutdownPending = PendingFlag()
    /// Whether the node replicates from a master (the log's role letter: S, else M).
    static let isReplica = PendingFlag()

    /// A flag shared across threads.
    final class PendingFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        /// Sets the flag; returns whether it was already set.
        func testAndSet() -> Bool { lock.withLock { defer { value = true }; return value } }
        func clear() { lock.withLock { value = false } }
        var isSet: Bool { lock.withLock { value } }
        func set(_ v: Bool) { lock.withLock { value = v } }
    }

    /// sd_notify when supervised by systemd (redisCommunicateSystemd's callers check the mode).
    static func notifyIfSystemd(_ message: String, logger: Logger) {
        if supervisedMode == "systemd" { notifySystemd(message, logger: logger) }
    }

    /// Redis's daemonize(): the parent exits 0, the child starts a new session with its standard
    /// streams on /dev/null. Must run before any thread is started.
    static func daemonize() {
        let pid = fork()
        if pid < 0 {
            FileHandle.standardError.write(Data("Can't fork to daemonize: \(String(cString: strerror(errno)))\n".utf8))
            exit(1)
        }
        if pid != 0 { exit(0) }
        mainPid = getpid()
        setsid()
        let fd = open("/dev/null", O_RDWR, 0)
        if fd != -1 {
            dup2(fd, STDIN_FILENO)
            dup2(fd, STDOUT_FILENO)
            dup2(fd, STDERR_FILENO)
            if fd > STDERR_FILENO { close(fd) }
        }
    }

    /// The supervision mode in effect (redisIsSupervised): "upstart", "systemd", or nil.
    static func supervise(_ mode: String, logger: Logger) -> String? {
        var mode = mode
        if mode == "auto" {
            if getenv("UPSTART_JOB") != nil {
                logger.info("Upstart supervision detected.")
                mode = "upstart"
            } else if getenv("NOTIFY_SOCKET") != nil {
                logger.info("Systemd supervision detected.")
                mode = "systemd"
            }
        }
        switch mode {
        case "upstart":
            guard getenv("UPSTART_JOB") != nil else {
                logger.warning("upstart supervision requested, but UPSTART_JOB not found!")
                return nil
            }
            logger.notice("supervised by upstart, will stop to signal readiness.")
            raise(SIGSTOP)
            unsetenv("UPSTART_JOB")
            return "upstart"
        case "systemd":
            guard notifySystemd("STATUS=Redis is loading...\n", logger: logger) > 0 else { return nil }
            logger.notice("Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit.")
            return "systemd"
        default:
            return nil
        }
    }

    /// sd_notify(0, message): one datagram to the unix socket NOTIFY_SOCKET names (a leading `@`
    /// is the abstract namespace). Returns 1 when sent, 0 without NOTIFY_SOCKET, -errno on error
    /// (and logs as redisCommunicateSystemd does).
    @discardableResult
    static func notifySystemd(_ message: String, logger: Logger) -> Int32 {
        guard let raw = getenv("NOTIFY_SOCKET"), raw.pointee != 0 else {
            logger.warning("systemd supervision error: NOTIFY_SOCKET not found!")
            return 0
        }
        var path = Array(String(cString: raw).utf8)
        guard path[0] == UInt8(ascii: "/") || path[0] == UInt8(ascii: "@") else {
            logger.warning("systemd supervision error: sd_notify: \(-EAFNOSUPPORT)")
            return -EAFNOSUPPORT
        }
        let abstract = path[0] == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard path.count < capacity else {
            logger.warning("systemd supervision error: sd_notify: \(-EINVAL)")
            return -EINVAL
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { buf in
            for (i, b) in path.enumerated() { buf[i] = b }
        }
        #if canImport(Glibc)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else {
            let e = errno
            logger.warning("systemd supervision error: sd_notify: \(-e)")
            return -e
        }
        defer { close(fd) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (abstract ? 0 : 1))
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
        guard sent >= 0 else {
            let e = errno
            logger.warning("systemd supervision error: sd_notify: \(-e)")
            return -e
        }
        return 1
    }

    /// Writes the pidfile (createPidFile); Redis only logs a failure.
    static func createPidFile(_ path: String, logger: Logger) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            logger.warning("Failed to write PID file: \(String(cString: strerror(errno)))")
            return
        }
        let text = Array("\(getpid())\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}

// MARK: - Logging: stdout, a log file reopened for every line, syslog

/// Where log lines go, fixed once the configuration is read (logfile, syslog-*, daemonize are
/// immutable).
struct LogDestination: Sendable {
    var logfile: String
    var syslog: Bool
    /// Daemonized with the log on stdout: Redis logs nothing (stdout is /dev/null).
    var silent: Bool
}

/// Redis's serverLogRaw: `pid:role dd Mon yyyy hh:mm:ss.mmm <level-char> message`, to stdout or
/// to `logfile` opened in append mode for each line (so a file moved away by logrotate is
/// replaced by a new one at the path), and to syslog when enabled.
struct RedisLogHandler: LogHandler {
    let destination: LogDestination
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        let text = event.message.description
        if destination.syslog {
            let priority: Int32
            switch level {
            case .trace, .debug: priority = LOG_DEBUG
            case .info: priority = LOG_INFO
            case .notice: priority = LOG_NOTICE
            default: priority = LOG_WARNING
            }
            text.withCString { cstr in
                withVaList([cstr]) { vsyslog(priority, "%s", $0) }
            }
        }
        if destination.silent { return }
        let mark: String
        switch level {
        case .trace, .debug: mark = "."
        case .info: mark = "-"
        case .notice: mark = "*"
        default: mark = "#"
        }
        // The role: C in a forked child (a background save), S on a replica, else M.
        let pid = getpid()
        let role = pid != ProcessControl.mainPid ? "C" : ProcessControl.isReplica.isSet ? "S" : "M"
        let line = Array("\(pid):\(role) \(Self.timestamp()) \(mark) \(text)\n".utf8)
        if destination.logfile.isEmpty {
            _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        } else {
            let fd = open(destination.logfile, O_APPEND | O_CREAT | O_WRONLY, 0o644)
            guard fd >= 0 else { return }
            _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
    }

    /// `%d %b %Y %H:%M:%S.` plus milliseconds, local time, as Redis prints it.
    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = time_t(tv.tv_sec)
        var tmv = tm()
        localtime_r(&t, &tmv)
        var buf = [CChar](repeating: 0, count: 64)
        let n = strftime(&buf, buf.count, "%d %b %Y %H:%M:%S.", &tmv)
        let ms = Int(tv.tv_usec) / 1000
        let prefix = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return prefix + (ms < 10 ? "00" : ms < 100 ? "0" : "") + String(ms)
    }

    /// Installs this handler for every logger (once, before the first thread starts, and after
    /// daemonizing: the pid is the server's) and opens syslog when enabled.
    static func bootstrap(settings: ServerSettings, daemonized: Bool) {
        let destination = LogDestination(logfile: settings.logfile, syslog: settings.process.syslogEnabled,
                                         silent: daemonized && settings.logfile.isEmpty)
        if destination.syslog {
            let facility = ProcessConfig.syslogFacilities.first { $0.0 == settings.process.syslogFacility }?.1 ?? LOG_LOCAL0
            // openlog keeps the pointer: the ident must live as long as the process.
            let ident = strdup(settings.process.syslogIdent)
            openlog(ident, LOG_PID | LOG_NDELAY | LOG_NOWAIT, facility)
        }
        LoggingSystem.bootstrap { _ in RedisLogHandler(destination: destination) }
    }
}

// MARK: - unixsocket

extension Server {
    /// Listens on `unixsocket` as well (Redis's anetUnixServer): a stale file at the path is
    /// removed first, `unixsocketperm` (when not 0) is applied to the new one.
    func bindUnixSocket(_ bootstrap: ServerBootstrap) throws -> Channel? {
        let path = settings.process.unixsocket
        guard !path.isEmpty else { return nil }
        unlink(path)
        let channel: Channel
        do {
            channel = try bootstrap.bind(unixDomainSocketPath: path).wait()
        } catch {
            throw ConfigError("Failed opening Unix socket: \(error)")
        }
        let perm = settings.process.unixsocketperm
        if perm != 0 { chmod(path, mode_t(perm)) }
        logger.notice("The server is now ready to accept connections at \(path)")
        return channel
    }

    /// The unix socket's file goes with the node (Redis's closeListeningSockets).
    func removeUnixSocket() {
        let path = settings.process.unixsocket
        guard !path.isEmpty else { return }
        logger.notice("Removing the unix socket file.")
        unlink(path)
    }
}

extension ConfigFile {
    /// After the whole configuration is read (Redis's loadServerConfigFromString tail): the log
    /// file must open for appending, or the start fails with the config error header alone.
    static func checkLogfile(_ settings: ServerSettings) throws {
        guard !settings.logfile.isEmpty else { return }
        guard let f = fopen(settings.logfile, "a") else {
            throw ConfigError("""

            *** FATAL CONFIG FILE ERROR (Cairn) ***
            Can't open the log file: \(String(cString: strerror(errno)))
            """)
        }
        fclose(f)
    }
}
