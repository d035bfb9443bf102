import CairnRESP
import CairnStorage

// State of the administrative features (SLOWLOG, LATENCY, MONITOR, maxmemory eviction, DEBUG's
// gate) and the engine hooks that feed them: one filter before each command (MONITOR's keyspace
// refusal, DEBUG's enable-debug-command gate, then the evictor's OOM check) and one observer
// after each (slow log, latency events, monitors, then the evictor's accounting).

final class AdminState {
    var slowLog = SlowLog()
    var latency = LatencyMonitor()
    /// INFO latencystats (LatencyStats.swift); `latency-tracking`.
    var commandLatencies = CommandLatencies()
    var latencyTracking = true
    /// Clients in MONITOR mode, in the order they started.
    var monitors: [ClientSession] = [] {
        didSet {
            if let engine, let monitorStage, monitors.isEmpty != oldValue.isEmpty { engine.admission.arm(monitorStage, !monitors.isEmpty) }
        }
    }
    private unowned(unsafe) var engine: Engine?
    private var monitorStage: HookHandle?
    let evictor: Evictor
    /// Highest heap-in-use reading seen (MEMORY STATS peak.allocated, INFO used_memory_peak).
    var peakMemory = 0
    /// RESET, which ends MONITOR (looked up once: observers run for every command).
    private var resetCommand: RegisteredCommand?

    init() {
        evictor = Evictor(measure: { ProcessMetrics.heapBytesInUse() })
    }

    func apply(_ settings: ServerSettings, engine: Engine) {
        slowLog.slowerThanMicros = settings.slowlogLogSlowerThan
        slowLog.maxLength = settings.slowlogMaxLength
        slowLog.trim()
        latency.thresholdMillis = settings.latencyMonitorThreshold
        evictor.maxmemory = settings.maxmemory
        evictor.policy = MaxmemoryPolicy(rawValue: settings.maxmemoryPolicy) ?? .noeviction
        evictor.samples = settings.maxmemorySamples
        evictor.tenacity = settings.maxmemoryEvictionTenacity
        evictor.lfuLogFactor = settings.lfuLogFactor
        evictor.lfuDecayMinutes = settings.lfuDecayTime
        evictor.replicaIgnoresMaxmemory = settings.parity.replicaIgnoreMaxmemory
        latencyTracking = settings.parity.value("latency-tracking") == "yes"
        // As Redis after CONFIG SET maxmemory: get under a lowered limit now, not at the next command.
        if evictor.maxmemory > 0 { evictor.performEvictions(engine) }
    }

    func resetStats() {
        evictor.resetStats()
        commandLatencies.reset()
    }

    func install(on server: Server) {
        let engine = server.engine
        // Commands compared by identity: a string comparison per command is not free.
        engine.admission.install(.protectedCommand, only: engine.commands.lookup("debug")) { [unowned(unsafe) server] request in
            DebugCommand.allowed(server, request.client) ? nil : DebugCommand.notAllowed
        }
        // Armed while some client monitors.
        monitorStage = engine.admission.install(.replicaKeyspace, armed: false) { [unowned(unsafe) server] request in
            server.admin.monitorRefusal(request.client, request.command)
        }
        self.engine = engine
        evictor.install(on: engine)
        // Continue an eviction run cut short by its time limit once the loop is free, as Redis's
        // eviction time proc does (only on a started server: the loop then owns the engine).
        evictor.onTimeLimit = { [unowned(unsafe) server] in
            guard server.isListening else { return }
            server.loop.execute { server.admin.evictor.performEvictions(server.engine) }
        }
        resetCommand = engine.commands.lookup("reset")
        // Runs for every command: the server is reached through an unretained reference borrowed
        // for the call (an `unowned(unsafe)` capture is retained and released at each use).
        let unretainedServer = Unmanaged.passUnretained(server)
        engine.commandObservers.insert(at: 0) { client, command, args, micros in
            unretainedServer._withUnsafeGuaranteedRef { server in
                server.admin.observe(server, client, command, args, micros)
            }
        }
    }

    /// A MONITOR client may not touch the keyspace (Redis treats it as a replica).
    func monitorRefusal(_ client: ClientSession, _ command: RegisteredCommand) -> String? {
        guard !monitors.isEmpty, monitors.contains(where: { $0 === client }),
              !command.spec.flags.intersection([.write, .readonly, .mayReplicate]).isEmpty else { return nil }
        return MonitorCommand.keyspaceRefusal
    }

    func observe(_ server: Server, _ client: ClientSession, _ command: RegisteredCommand, _ args: Arguments, _ micros: Int64) {
        let engine = server.engine
        let rerun = engine.isServing(client)
        // A command that blocked is logged when it is served (Redis: with CLIENT_BLOCKED set,
        // call() leaves the slow log and latency to the unblocking).
        if client.blocked == nil {
            let now = engine.now / 1000
            slowLog.record(client, command, args, micros: micros, nowSeconds: now)
            if latencyTracking { commandLatencies.record(command, micros: micros) }
            if latency.thresholdMillis > 0 {
                latency.addIfNeeded(command.spec.flags.contains(.fast) ? "fast-command" : "command", millis: micros / 1000, nowSeconds: now)
            }
        }
        if command === resetCommand {
            monitors.removeAll { $0 === client }
        }
        if !monitors.isEmpty && !rerun && command.spec.flags.intersection([.admin, .skipMonitor]).isEmpty {
            let line = MonitorCommand.line(client, command, args, nowMicros: Clock.unixMicros())
            for monitor in monitors {
                monitor.reply.buffer.writeBytes(line)
                if monitor !== client { server.flushLater(monitor.id) }
            }
        }
    }
}

extension Server {
    /// Sends the output waiting in client `id`'s buffer (MONITOR lines produced by another
    /// client's command) once the current read has been processed, as pub/sub output is.
    func flushLater(_ id: Int64) { pendingOutput.insert(id) }

    /// A connection went away: it stops monitoring.
    func adminClientClosed(_ id: Int64) {
        admin.monitors.removeAll { $0.id == id }
    }
}
