"""COMMAND DOCS is as complete as Redis 7.0's for the commands Cairn implements (issue 16, point 8):
summary, since, group, complexity, doc_flags, deprecated_since, replaced_by, history, the argument
tree and the subcommands, byte for byte, in RESP2 and RESP3. A real redis-server 7.0 and a
cairn-server run side by side (both started by this file, whatever --both / --against-redis say).

Redis lists a container's subcommands, and the bare `COMMAND DOCS` its commands, by iterating a
dict whose hash function is seeded at random at start-up: that order differs from one Redis
process to the next. Those two maps are therefore compared with their entries sorted by name;
everything else (field order, argument order, history order, flags) must be byte-identical.

Cairn's `subcommands` map lists the subcommands Cairn implements (as its COMMAND INFO and COMMAND
LIST do, and as COMMAND DOCS of a single subcommand does), so a container of which Cairn lacks
some subcommands is compared with Redis's docs without those; and a command Redis 7.0 does not
have (CLIENT SETINFO, from Redis 7.2) shows the summary/since/group of its CommandSpec."""

import pytest

from resp import encode


# -- a raw RESP tree, to compare replies byte for byte up to the order of the hash-ordered maps

class Node:
    """One reply as it was on the wire: its header line and, for aggregates, its elements."""

    def __init__(self, header, children=None, body=b""):
        self.header, self.children, self.body = header, children, body

    def bytes(self):
        if self.children is None:
            return self.header + self.body
        return self.header + b"".join(c.bytes() for c in self.children)

    def text(self):
        """A bulk or simple string's text (map keys, names)."""
        if self.header[:1] == b"$":
            return self.body[:-2]
        return self.header[1:-2]


def parse(data, pos=0):
    """(Node, next position) for the reply at `pos` of `data`."""
    end = data.index(b"\r\n", pos) + 2
    header, kind = data[pos:end], data[pos:pos + 1]
    if kind == b"$":
        n = int(data[pos + 1:end - 2])
        if n < 0:
            return Node(header), end
        return Node(header, body=data[end:end + n + 2]), end + n + 2
    if kind in (b"*", b"~", b"%"):
        n = int(data[pos + 1:end - 2])
        count = 2 * n if kind == b"%" else max(n, 0)
        children = []
        for _ in range(count):
            child, end = parse(data, end)
            children.append(child)
        return Node(header, children), end
    assert kind in (b"+", b":", b"-", b"_"), header
    return Node(header), end


def pairs(node):
    """A map's (key, value) elements: a RESP3 map, or the flat array RESP2 makes of it."""
    c = node.children
    assert c is not None and len(c) % 2 == 0, node.header
    return [(c[i], c[i + 1]) for i in range(0, len(c), 2)]


def canonical_docs(node, drop=()):
    """One command's docs with the `subcommands` map sorted by name (a Redis hash order), and the
    subcommands named in `drop` left out (with the map's header counted again)."""
    out = []
    for k, v in pairs(node):
        if k.text() == b"subcommands":
            v = canonical_map(v, drop)
        out += [k, v]
    return Node(node.header, out)


def canonical_map(node, drop=()):
    """A name -> docs map, sorted by name, without the names in `drop`."""
    entries = [(k, canonical_docs(v, drop)) for k, v in pairs(node) if k.text().decode() not in drop]
    entries.sort(key=lambda kv: kv[0].text())
    kind = node.header[:1]
    header = kind + b"%d\r\n" % (len(entries) if kind == b"%" else 2 * len(entries))
    return Node(header, [x for kv in entries for x in kv])


def docs_reply(server, resp3, *names):
    with server.raw() as conn:
        if resp3:
            assert isinstance(conn.command("HELLO", "3"), dict)
        conn.send(encode("COMMAND", "DOCS", *names))
        return conn.read_raw_reply()


def command_list(server):
    with server.raw() as conn:
        return sorted(n.decode() for n in conn.command("COMMAND", "LIST"))


@pytest.fixture(scope="module")
def names(pair):
    """(Cairn's COMMAND LIST, Redis's, Redis's subcommands Cairn lacks, Cairn's Redis 7.0 lacks)."""
    red, cairn = pair
    cairn_names, redis_names = command_list(cairn), set(command_list(red))
    missing = {n for n in redis_names if "|" in n and n not in cairn_names}
    extra = {n for n in cairn_names if n not in redis_names}
    return cairn_names, redis_names, missing, extra


def cairn_only_docs(cairn, name):
    """What Cairn shows for a command Redis 7.0 does not have: its CommandSpec's basics."""
    with cairn.raw() as conn:
        reply = conn.command("COMMAND", "DOCS", name)
    assert reply[0] == name.encode()
    fields = {reply[1][i]: reply[1][i + 1] for i in range(0, len(reply[1]), 2)}
    assert set(fields) == {b"summary", b"since", b"group"}, name


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_every_implemented_command(pair, names, resp3):
    red, cairn = pair
    cairn_names, redis_names, missing, extra = names
    assert len(cairn_names) > 250
    # CLIENT SETINFO (Redis 7.2) is the only command Cairn has that Redis 7.0 lacks.
    assert extra == {"client|setinfo"}
    compared = 0
    for name in cairn_names:
        if name in extra:
            cairn_only_docs(cairn, name)
            continue
        expected = docs_reply(red, resp3, name)
        actual = docs_reply(cairn, resp3, name)
        if not any(n.startswith(name + "|") for n in redis_names):
            # No subcommands, so nothing in a hash order: the very same bytes. (A command added to
            # Cairn since CommandDocsData.swift was generated fails here: rerun tools/gen-command-docs.)
            assert actual == expected, name
        else:
            e, a = parse(expected)[0], parse(actual)[0]
            assert canonical_map(a, extra).bytes() == canonical_map(e, missing).bytes(), name
        compared += 1
    assert compared == len(cairn_names) - len(extra)


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_fields_beyond_summary(pair, resp3):
    """A few spot checks that the full docs are there (the comparison above is the real test)."""
    red, cairn = pair
    reply = docs_reply(cairn, resp3, "set")
    assert reply == docs_reply(red, resp3, "set")
    for field in (b"complexity", b"history", b"arguments", b"key_spec_index", b"token", b"flags"):
        assert field in reply
    # deprecated commands: doc_flags, deprecated_since and replaced_by.
    for name in ("getset", "rpoplpush", "zrangebyscore", "cluster|slaves"):
        reply = docs_reply(cairn, resp3, name)
        assert reply == docs_reply(red, resp3, name), name
        assert b"deprecated_since" in reply and b"replaced_by" in reply and b"deprecated" in reply
    # MIGRATE's empty token (an empty C string in Redis's table, not a pair of quotes).
    reply = docs_reply(cairn, resp3, "migrate")
    assert reply == docs_reply(red, resp3, "migrate")
    assert b"$5\r\ntoken\r\n$0\r\n\r\n" in reply


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_unknown_names(pair, resp3):
    red, cairn = pair
    for args in (["nosuch"], ["get|x"], ["config|nosuch"], ["config|get|x"], ["config|"], ["latency|doctor"],
                 ["eval"], ["nosuch", "alsonot"]):
        expected = docs_reply(red, resp3, *args)
        if args == ["latency|doctor"] or args == ["eval"]:
            # Implemented by Redis, not by Cairn: Cairn answers as for any unknown name.
            assert expected != (b"%0\r\n" if resp3 else b"*0\r\n")
            expected = b"%0\r\n" if resp3 else b"*0\r\n"
        assert docs_reply(cairn, resp3, *args) == expected, args


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_several_names(pair, resp3):
    red, cairn = pair
    # Requested order, unknown names skipped, repeats repeated, any case, subcommands by full name.
    args = ["GET", "nosuch", "config|get", "Set", "get", "client|kill", "zadd", "xadd"]
    expected = docs_reply(red, resp3, *args)
    # XADD (streams) is not in Cairn: Redis's reply without it.
    e = parse(expected)[0]
    kept = [kv for kv in pairs(e) if kv[0].text() != b"xadd"]
    assert len(kept) == 6
    kind = e.header[:1]
    e = Node(kind + b"%d\r\n" % (len(kept) if kind == b"%" else 2 * len(kept)), [x for kv in kept for x in kv])
    assert docs_reply(cairn, resp3, *args) == e.bytes()
    # With a container among them, compared up to its subcommands' order.
    args = ["ping", "config", "object|freq"]
    assert canonical_map(parse(docs_reply(cairn, resp3, *args))[0]).bytes() == \
        canonical_map(parse(docs_reply(red, resp3, *args))[0]).bytes()


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_all_commands(pair, names, resp3):
    """COMMAND DOCS alone: every command Cairn has, each entry as Redis has it (in a hash order,
    so compared by name)."""
    red, cairn = pair
    cairn_names, redis_names, missing, extra = names
    expected = {k.text().decode(): v for k, v in pairs(canonical_map(parse(docs_reply(red, resp3))[0], missing))}
    actual = {k.text().decode(): v for k, v in pairs(canonical_map(parse(docs_reply(cairn, resp3))[0], extra))}
    assert sorted(actual) == sorted(n for n in cairn_names if "|" not in n)
    assert set(actual) <= set(expected)
    for name, docs in actual.items():
        assert docs.bytes() == expected[name].bytes(), name
