import CairnRESP
import CairnStorage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// DEBUG's crashes and restarts (debug.c / server.c in Redis 7.0): ASSERT, PANIC and OOM log
// Redis's bug-report lines and abort() (SIGABRT), SEGFAULT writes to a read-only page (SIGSEGV);
// RESTART and CRASH-AND-RECOVER execute the server's own executable again with its original
// arguments, in the same process (restartServer), after a config rewrite and the shutdown saves
// for RESTART, with nothing saved for CRASH-AND-RECOVER.

extension DebugCommand {
    static func bugReportStart(_ server: Server) {
        server.logger.warning("=== REDIS BUG REPORT START: Cut & paste starting from here ===")
    }

    /// Redis's bugReportEnd without a signal: the report's last line, then abort().
    static func bugReportEndAndAbort(_ server: Server) -> Never {
        server.logger.warning("=== REDIS BUG REPORT END. Make sure to include from START to END. ===")
        abort()
    }

    /// Redis's _serverPanic.
    static func panic(_ server: Server, _ message: String, line: Int = #line) -> Never {
        bugReportStart(server)
        server.logger.warning("------------------------------------------------")
        server.logger.warning("!!! Software Failure. Press left mouse button to continue")
        server.logger.warning("Guru Meditation: \(message) #\(#fileID.split(separator: "/").last ?? ""):\(line)")
        bugReportEndAndAbort(server)
    }

    /// ASSERT: serverAssertWithInfo(c, c->argv[0], 1 == 2): the client, then the failed assertion.
    static func assertFailure(_ server: Server, _ c: CommandContext, line: Int = #line) -> Never {
        bugReportStart(server)
        server.logger.warning("=== ASSERTION FAILED CLIENT CONTEXT ===")
        server.logger.warning("client->conn = fd=?, addr=\(c.client.address)")
        server.logger.warning("client->argc = \(c.args.count)")
        for j in 0..<c.args.count {
            server.logger.warning("client->argv[\(j)] = \"\(String(decoding: ClientBytes.cString(c.args[j]), as: UTF8.self))\"")
        }
        server.logger.warning("=== ASSERTION FAILED ===")
        server.logger.warning("==> \(#fileID.split(separator: "/").last ?? ""):\(line) '1 == 2' is not true")
        bugReportEndAndAbort(server)
    }

    /// OOM: an allocation of SIZE_MAX/2 bytes, which fails; then Redis's out-of-memory handler.
    static func outOfMemory(_ server: Server, _ c: CommandContext) {
        let bytes = Int(bitPattern: UInt.max / 2)  // SIZE_MAX / 2
        if let block = malloc(bytes) {
            free(block)
            return c.reply.ok()
        }
        server.logger.warning("Out Of Memory allocating \(bytes) bytes!")
        panic(server, "Redis aborting for OUT OF MEMORY. Allocating \(bytes) bytes!")
    }

    /// SEGFAULT: a write to a read-only mapping (as Redis, without tripping the compiler).
    static func segfault(_ server: Server) -> Never {
        bugReportStart(server)
        server.logger.warning("Cairn is crashing by signal: \(SIGSEGV) (DEBUG SEGFAULT: a write to a read-only page)")
        guard let page = mmap(nil, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), page != MAP_FAILED else {
            raise(SIGSEGV)
            abort()
        }
        page.storeBytes(of: UInt8(ascii: "x"), as: UInt8.self)
        raise(SIGSEGV)
        abort()
    }

    /// RESTART / CRASH-AND-RECOVER [<milliseconds>].
    static func restart(_ server: Server, _ c: CommandContext, graceful: Bool) {
        var delay: Int64 = 0
        if c.args.count >= 3 {
            guard let d = c.args.int64(2) else { return c.replyNotInteger() }
            delay = max(0, d)
        }
        server.restartServer(graceful: graceful, delayMillis: delay)
        c.reply.error("ERR failed to restart the server. Check server logs.")
    }
}

extension Server {
    /// Redis's restartServer: returns only when the restart could not be done (logged). When
    /// `graceful` (DEBUG RESTART): the config file is rewritten, then the shutdown's persistence
    /// (AOF flushed and fsynced, the RDB saved when save points are set, nodes.conf saved).
    func restartServer(graceful: Bool, delayMillis: Int64) {
        let executable = ProcessMetrics.executablePath()
        guard access(executable, X_OK) == 0 else {
            logger.warning("Can't restart: this process has no permissions to execute \(executable)")
            return
        }
        if graceful, let path = configFile, path != "-" {
            do {
                let users = settings.aclfile.isEmpty ? ACLFile.lines(acl, engine.commands) : []
                try ConfigRewrite.rewrite(path: path, settings: settings, users: users)
            } catch {
                logger.warning("Can't restart: configuration rewrite process failed: \(error)")
                return
            }
        }
        if graceful {
            logger.warning("User requested shutdown...")
            guard persistence.prepareForShutdown() else {
                logger.warning("Can't restart: error preparing for shutdown")
                return
            }
            if clusterBus != nil { _ = saveClusterConfig(fsync: true) }
            persistence.shutdown()
            logger.warning("Redis is now ready to exit, bye bye...")
        }
        // Every descriptor but stdin, stdout and stderr closes in the exec (Redis closes them
        // first; marking them close-on-exec keeps this process's other threads on valid ones
        // until the exec replaces it).
        let limit = min(Int(sysconf(Int32(_SC_OPEN_MAX))), 1 << 20)
        for fd in 3..<max(3, Int32(clamping: limit)) {
            let flags = fcntl(fd, F_GETFD)
            if flags != -1 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
        if delayMillis > 0 { usleep(UInt32(clamping: delayMillis * 1000)) }
        var arguments = CommandLine.arguments
        if arguments.isEmpty { arguments = [executable] }
        arguments[0] = executable
        let argv = arguments.map { strdup($0) } + [nil]
        execve(executable, argv, environ)
        // Nothing can be done after a failed exec, as in Redis.
        _exit(1)
    }
}
