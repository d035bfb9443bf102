import CairnCluster
import FuzzSupport

// Target nodes-conf: a node's cluster configuration file as start-up reads it
// (Sources/CairnCluster/NodesConf.swift, docs/format-nodes-conf.md). The input is the whole file.
// Checked beyond "no trap": a refusal names a line of the file (or the file, for a missing
// myself); a file that loads writes back to one that loads, writing that again gives the same
// bytes, and (without handshake nodes, which nodes.conf leaves out) it loads as the same state.
// CLUSTER NODES and the redirection check run over the loaded state too.

FuzzDriver.run { input in
    let bytes = Array(input)
    let loaded: NodesConf.Loaded?
    do throws(NodesConfError) {
        loaded = try NodesConf.parse(bytes)
    } catch {
        let lines = bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) } + 1
        FuzzCheck.require(error.line >= 0 && error.line <= lines, "error on line \(error.line) of \(lines): \(error)")
        FuzzCheck.require(error.line > 0 || error.code == .missingMyself, "whole-file error: \(error)")
        return
    }
    guard let state = loaded?.state else {
        FuzzCheck.require(bytes.isEmpty, "no configuration from a non-empty file")
        return
    }
    FuzzCheck.require(state[state.myself]?.flags.contains(.myself) == true, "myself lacks the myself flag")
    var served = 0
    for node in state.nodes.values {
        for slot in node.slots.slots {
            FuzzCheck.require(state.owner(of: slot) == node.name, "slot \(slot) of \(node.name) has another owner")
            served += 1
        }
    }
    FuzzCheck.require(served == state.slotOwners.count { $0 != nil }, "owner table and node slots disagree")

    let written = NodesConf.render(state)
    let reloaded: ClusterState
    do {
        guard let again = try NodesConf.parse(written) else {
            FuzzCheck.require(false, "the written file is empty")
            return
        }
        reloaded = again.state
    } catch {
        FuzzCheck.require(false, "the written file is refused: \(error)")
        return
    }
    if !state.nodes.values.contains(where: { $0.flags.contains(.handshake) }) {
        FuzzCheck.require(reloaded == state, "written and read back, the state differs")
        FuzzCheck.require(NodesConf.render(reloaded) == written, "written twice, the bytes differ")
    }

    _ = NodesConf.clusterNodes(state)
    var probe = state
    probe.status = .ok
    let keys = bytes.split(separator: UInt8(ascii: " "), maxSplits: 3).prefix(3).map { Array($0) }
    _ = probe.route(keys: keys, command: RoutedCommand(asking: bytes.count % 2 == 0), settings: RedirectionSettings()) { $0.count % 3 != 0 }
}
