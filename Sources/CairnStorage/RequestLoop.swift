import CairnRESP
import NIOCore

// The request loop shared by the network connection and tests: parse every complete request in a
// client's input buffer in place and execute it, stopping when a request is incomplete, the
// client must be closed, or the protocol is broken.

extension Engine {
    /// Executes every complete request at the front of `input` and consumes it. Returns the
    /// protocol error if the client broke the protocol.
    public func executeRequests(in input: inout ByteBuffer, parser: inout CommandParser, client: ClientSession) -> ProtocolError? {
        var protocolError: ProtocolError? = nil
        let consumed = input.withUnsafeReadableBytes { raw -> Int in
            var offset = 0
            while !client.closeAfterReply && client.blocked == nil && !client.postponed {
                let region = UnsafeRawBufferPointer(rebasing: raw[offset...])
                switch parser.parse(region, authenticated: client.authenticated) {
                case .multibulk(let length):
                    parser.arguments.withUnsafeBufferPointer { ranges in
                        execute(client, Arguments(base: region.baseAddress, ranges: ranges,
                                                  request: UnsafeRawBufferPointer(rebasing: region[0..<length])))
                    }
                    parser.reset()
                    if client.postponed { return offset }  // parsed again when the pause ends
                    offset += length
                case .inline(let length):
                    parser.inlineStorage.withUnsafeBytes { storage in
                        parser.arguments.withUnsafeBufferPointer { ranges in
                            execute(client, Arguments(base: storage.baseAddress, ranges: ranges))
                        }
                    }
                    parser.reset()
                    if client.postponed { return offset }
                    offset += length
                case .empty(let length):
                    offset += length
                case .needMoreBytes:
                    return offset
                case .protocolError(let message):
                    protocolError = message
                    return offset
                }
            }
            return offset
        }
        input.moveReaderIndex(forwardBy: consumed)
        return protocolError
    }
}
