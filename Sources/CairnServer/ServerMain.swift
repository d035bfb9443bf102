import CairnStorage
import Dispatch
import Foundation
import Logging

// Process entry point for cairn-server: read configuration, start the node, run until SHUTDOWN
// or SIGTERM/SIGINT.

public enum ServerMain {
    /// `arguments`: an optional config file path (or `-` for stdin) followed by `--directive value`
    /// overrides, as redis-server takes them. Returns the process exit code.
    public static func run(arguments: [String]) -> Int32 {
        var settings = ServerSettings()
        var args = arguments
        var configFile: String? = nil
        if let first = args.first, !first.hasPrefix("--") {
            // Absolute now: the process changes into `dir` before CONFIG REWRITE needs the path.
            configFile = first == "-" || first.hasPrefix("/") ? first
                : FileManager.default.currentDirectoryPath + "/" + first
            args.removeFirst()
        }
        do {
            if let path = configFile {
                let text: String
                if path == "-" {
                    text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                } else {
                    guard let data = FileManager.default.contents(atPath: path) else {
                        FileHandle.standardError.write(Data("Fatal error, can't open config file '\(path)': No such file or directory\n".utf8))
                        return 1
                    }
                    text = String(decoding: data, as: UTF8.self)
                }
                try ConfigFile.apply(text, to: &settings)
            }
            try ConfigFile.apply(ConfigFile.text(fromOverrides: args), to: &settings)
            try ConfigFile.checkLogfile(settings)
            settings.process.portZeroMeansNoTCP = true
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return 1
        }

        // Redis's order: log set up from the configuration, supervision detected, then the
        // fork to the background (before any thread exists: SwiftNIO's start later).
        let process = settings.process
        ProcessControl.mainPid = getpid()
        RedisLogHandler.bootstrap(settings: settings, daemonized: process.daemonize)
        var logger = Logger(label: "cairn")
        logger.logLevel = Server.logLevel(settings.loglevel)
        ProcessControl.supervisedMode = ProcessControl.supervise(process.supervised, logger: logger)
        let background = process.daemonize && ProcessControl.supervisedMode == nil
        if background { ProcessControl.daemonize() }

        if !FileManager.default.changeCurrentDirectoryPath(settings.dir) {
            logger.critical("Can't chdir to '\(settings.dir)': No such file or directory")
            return 1
        }
        // createPidFile: daemonized without a pidfile, Redis's default path.
        var pidfile = settings.pidfile
        if background && pidfile.isEmpty { pidfile = "/var/run/redis.pid" }
        if !pidfile.isEmpty { ProcessControl.createPidFile(pidfile, logger: logger) }

        let server = Server(settings: settings, logger: logger, configFile: configFile)
        do {
            try server.loadDataFromDisk()
        } catch let error as AOFError {
            logger.critical("Fatal error loading the AOF: \(error). Make a backup of \(settings.dir)/\(settings.persistence.appenddirname), then inspect it with cairn-aof check (docs/tools-cairn-aof.md). Exiting.")
            server.discard()
            return 1
        } catch {
            let source = settings.persistence.appendonly ? "\(settings.persistence.appenddirname)" : "\(settings.persistence.dbfilename)"
            logger.critical("Fatal error loading the DB from \(settings.dir)/\(source): \(error). Exiting.")
            server.discard()
            return 1
        }
        do {
            try server.start()
        } catch {
            logger.critical("\(error)")
            return 1
        }
        logger.notice("Server initialized, pid=\(getpid()), port=\(settings.port)")
        ProcessControl.notifyIfSystemd("STATUS=Ready to accept connections\n", logger: logger)
        ProcessControl.notifyIfSystemd("READY=1\n", logger: logger)

        // SIGTERM and SIGINT shut the node down gracefully on its own loop.
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            let name = sig == SIGTERM ? "SIGTERM" : "SIGINT"
            source.setEventHandler {
                // Redis's sigShutdownHandler: a second SIGINT while the first is being acted on
                // (a final save under way) means exit now, unclean.
                if ProcessControl.shutdownPending.testAndSet() && sig == SIGINT {
                    logger.warning("You insist... exiting now.")
                    exit(1)
                }
                logger.warning("Received \(name) scheduling shutdown...")
                server.loop.execute { server.shutdownOnSignal(name) }
            }
            source.resume()
            sources.append(source)
        }
        server.waitUntilShutdown()
        if !pidfile.isEmpty {
            logger.notice("Removing the pid file.")
            unlink(pidfile)
        }
        return 0
    }
}
