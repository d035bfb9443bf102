import CairnRESP
import CairnStorage

// A command's key specs as COMMAND INFO shows them (element 9 of an entry). The specs themselves
// are part of the command's CommandSpec (CairnStorage/Commands/KeySpec.swift).

extension KeySpec {
    /// One key spec as a map (Redis's addReplyCommandKeySpecs).
    func write(_ reply: inout ReplyWriter) {
        reply.mapHeader(notes == nil ? 3 : 4)
        if let notes {
            reply.bulk("notes")
            reply.bulk(notes)
        }
        reply.bulk("flags")
        flags.write(&reply)
        reply.bulk("begin_search")
        reply.mapHeader(2)
        reply.bulk("type")
        switch begin {
        case .index(let position):
            reply.bulk("index")
            reply.bulk("spec")
            reply.mapHeader(1)
            reply.bulk("index"); reply.integer(position)
        case .keyword(let keyword, let startFrom):
            reply.bulk("keyword")
            reply.bulk("spec")
            reply.mapHeader(2)
            reply.bulk("keyword"); reply.bulk(keyword)
            reply.bulk("startfrom"); reply.integer(startFrom)
        case .unknown:
            reply.bulk("unknown")
            reply.bulk("spec")
            reply.mapHeader(0)
        }
        reply.bulk("find_keys")
        reply.mapHeader(2)
        reply.bulk("type")
        switch find {
        case .range(let lastKey, let step, let limit):
            reply.bulk("range")
            reply.bulk("spec")
            reply.mapHeader(3)
            reply.bulk("lastkey"); reply.integer(lastKey)
            reply.bulk("keystep"); reply.integer(step)
            reply.bulk("limit"); reply.integer(limit)
        case .keyNumber(let index, let firstKey, let step):
            reply.bulk("keynum")
            reply.bulk("spec")
            reply.mapHeader(3)
            reply.bulk("keynumidx"); reply.integer(index)
            reply.bulk("firstkey"); reply.integer(firstKey)
            reply.bulk("keystep"); reply.integer(step)
        case .unknown:
            reply.bulk("unknown")
            reply.bulk("spec")
            reply.mapHeader(0)
        }
    }
}

extension KeySpecFlags {
    /// The flags as a set of simple strings, in Redis's order (addReplyFlagsForKeyArgs).
    func write(_ reply: inout ReplyWriter) {
        let names = self.names
        reply.setHeader(names.count)
        for f in names { reply.simpleString(f) }
    }
}
