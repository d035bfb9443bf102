"""The content of a server as its clients see it, for comparing RDB fixtures (Fixtures/rdb/).

`snapshot(client)` reads every non-empty database of a running server (Redis or Cairn) through
ordinary commands and returns a JSON-ready dict:

    {"dbs": {"<db>": {"<key>": {"type": ..., "value": ..., "expire_ms": <PEXPIRETIME or -1>}}}}

Values per type: string -> the bytes; list -> LRANGE 0 -1; hash -> [[field, value], ...] sorted by
field; set -> SMEMBERS sorted; zset -> [[member, score], ...] in ZRANGE 0 -1 WITHSCORES order with
the score as the RESP2 string; other types -> null. Bytes are written as Latin-1 strings (byte b is
U+00bb), so `s.encode("latin-1")` gives them back and JSON stays exact for binary data.

Also: `crc64` (the RDB/DUMP checksum) and `dump_payload` (a DUMP/RESTORE payload around an
RDB-encoded value), for tests that hand-build RDB data.
"""

import json

import redis


def _b2s(b):
    return b.decode("latin-1")


def _db_client(client, db):
    """A RESP2, bytes-returning client on database `db` of the server `client` talks to."""
    given = client.connection_pool.connection_kwargs
    kwargs = {k: given[k] for k in ("host", "port", "path", "username", "password", "socket_timeout") if k in given}
    if "path" in kwargs:
        kwargs["unix_socket_path"] = kwargs.pop("path")
    return redis.Redis(db=db, protocol=2, decode_responses=False, **kwargs)


def raw_command(c, *args):
    """A command's reply exactly as the server sent it (no redis-py response callback)."""
    try:
        conn = c.connection_pool.get_connection()
    except TypeError:  # redis-py < 5.3 wants a command name
        conn = c.connection_pool.get_connection(args[0])
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        c.connection_pool.release(conn)


def _keys(c):
    keys, cursor = set(), 0
    while True:
        cursor, batch = c.scan(cursor=cursor, count=1000)
        keys.update(batch)
        if int(cursor) == 0:
            return sorted(keys)


def _value(c, key, kind):
    if kind == "string":
        return _b2s(c.get(key))
    if kind == "list":
        return [_b2s(v) for v in c.lrange(key, 0, -1)]
    if kind == "hash":
        return [[_b2s(f), _b2s(v)] for f, v in sorted(c.hgetall(key).items())]
    if kind == "set":
        return sorted(_b2s(m) for m in c.smembers(key))
    if kind == "zset":
        flat = raw_command(c, "ZRANGE", key, 0, -1, "WITHSCORES")
        return [[_b2s(flat[i]), _b2s(flat[i + 1])] for i in range(0, len(flat), 2)]
    return None


def snapshot(client):
    c0 = _db_client(client, 0)
    try:
        reply = raw_command(c0, "CONFIG", "GET", "databases")
    finally:
        c0.close()
    databases = int(dict(zip(reply[::2], reply[1::2]))[b"databases"])
    dbs = {}
    for db in range(databases):
        c = _db_client(client, db)
        try:
            if c.dbsize() == 0:
                continue
            entries = {}
            for key in _keys(c):
                kind = _b2s(c.type(key))
                entries[_b2s(key)] = {
                    "type": kind,
                    "value": _value(c, key, kind),
                    "expire_ms": int(raw_command(c, "PEXPIRETIME", key)),
                }
            dbs[str(db)] = entries
        finally:
            c.close()
    return {"dbs": dbs}


def dumps(snap):
    """Stable JSON text: sorted, one key per line (diffs stay readable), UTF-8 rather than \\u escapes."""
    def one(v):
        return json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    lines = ['{"dbs": {']
    dbs = sorted(snap["dbs"].items(), key=lambda kv: int(kv[0]))
    for i, (db, entries) in enumerate(dbs):
        lines.append(f" {one(db)}: {{")
        keys = sorted(entries)
        for j, key in enumerate(keys):
            lines.append(f"  {one(key)}: {one(entries[key])}" + ("," if j < len(keys) - 1 else ""))
        lines.append(" }" + ("," if i < len(dbs) - 1 else ""))
    lines.append("}}")
    return "\n".join(lines) + "\n"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def diff(expected, actual, limit=20):
    """Human-readable differences between two snapshots (empty when equal)."""
    out = []
    for db in sorted(set(expected["dbs"]) | set(actual["dbs"])):
        e, a = expected["dbs"].get(db, {}), actual["dbs"].get(db, {})
        for key in sorted(set(e) | set(a)):
            if e.get(key) != a.get(key):
                def short(v):
                    t = repr(v)
                    return t if len(t) < 200 else t[:200] + "..."
                out.append(f"db {db} key {key[:60]!r}: expected {short(e.get(key))}, got {short(a.get(key))}")
                if len(out) >= limit:
                    return out
    return out


# CRC-64/Jones as Redis uses it: reflected, polynomial 0xad93d23594c935a9, init 0, no final xor.
_CRC64_POLY_REFLECTED = 0x95AC9329AC4BC9B5
_CRC64_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _CRC64_POLY_REFLECTED if _c & 1 else _c >> 1
    _CRC64_TABLE.append(_c)


def crc64(data, crc=0):
    table = _CRC64_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def rdb_length(n):
    """RDB length encoding: 6, 14, 32 or 64 bits."""
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return bytes([0x40 | n >> 8, n & 0xFF])
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def rdb_string(b):
    """A plain (uncompressed, not integer-encoded) RDB string."""
    return rdb_length(len(b)) + bytes(b)


def dump_payload(type_code, value, rdb_version=10):
    """DUMP/RESTORE payload: type byte, RDB-encoded value, 2-byte LE RDB version, 8-byte LE CRC64."""
    body = bytes([type_code]) + bytes(value) + rdb_version.to_bytes(2, "little")
    return body + crc64(body).to_bytes(8, "little")
