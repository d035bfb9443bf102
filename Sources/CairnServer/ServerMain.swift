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
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return 1
        }

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = .trace
            return handler
        }
        var logger = Logger(label: "cairn")
        logger.logLevel = Server.logLevel(settings.loglevel)

        if !FileManager.default.changeCurrentDirectoryPath(settings.dir) {
            logger.critical("Can't chdir to '\(settings.dir)': No such file or directory")
            return 1
        }
        if !settings.pidfile.isEmpty {
            try? Data("\(getpid())\n".utf8).write(to: URL(fileURLWithPath: settings.pidfile))
        }

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

        // SIGTERM and SIGINT shut the node down gracefully on its own loop.
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            let name = sig == SIGTERM ? "SIGTERM" : "SIGINT"
            source.setEventHandler {
                server.loop.execute { server.shutdownOnSignal(name) }
            }
            source.resume()
            sources.append(source)
        }
        server.waitUntilShutdown()
        if !settings.pidfile.isEmpty { try? FileManager.default.removeItem(atPath: settings.pidfile) }
        return 0
    }
}
