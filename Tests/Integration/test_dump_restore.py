"""DUMP / RESTORE: payload layout and every option, compared with Redis 7.0 behaviour.

Payloads made by real Redis load in Cairn and the other way round (test_dump_restore_interop)."""
import time

import pytest
import redis as redispy

from resp import Error


def test_round_trip_every_type(r):
    r.set("s", "hello")
    r.set("n", "12345")
    r.set("long", "x" * 500)
    r.rpush("l", "a", "b", "1")
    r.hset("h", mapping={"f": "v", "g": "1"})
    r.sadd("si", 1, 2, 3)
    r.sadd("ss", "a", "b")
    r.zadd("z", {"a": 1.5, "b": -2})
    for key in ["s", "n", "long", "l", "h", "si", "ss", "z"]:
        payload = r.dump(key)
        assert r.restore(key + ":copy", 0, payload)
        assert r.type(key + ":copy") == r.type(key)
        if key != "ss":  # a hashtable set's order may differ after re-insertion (Redis too)
            assert r.dump(key + ":copy") == payload
    assert r.smembers("ss:copy") == r.smembers("ss")
    assert r.dump("missing") is None


def test_restore_errors_and_options(r):
    r.set("k", "v")
    payload = r.dump("k")
    with pytest.raises(redispy.ResponseError, match="^BUSYKEY Target key name already exists.$"):
        r.restore("k", 0, payload)
    with pytest.raises(redispy.ResponseError, match="^Invalid TTL value, must be >= 0$"):
        r.restore("k2", -1, payload)
    with pytest.raises(redispy.ResponseError, match="^value is not an integer or out of range$"):
        r.restore("k2", "abc", payload)
    bad = bytearray(payload)
    bad[1] ^= 0x01
    with pytest.raises(redispy.ResponseError, match="^DUMP payload version or checksum are wrong$"):
        r.restore("k2", 0, bytes(bad))
    with pytest.raises(redispy.ResponseError, match="^DUMP payload version or checksum are wrong$"):
        r.restore("k2", 0, b"short")
    with pytest.raises(redispy.ResponseError, match="^syntax error$"):
        r.execute_command("RESTORE", "k2", 0, payload, "BOGUS")
    with pytest.raises(redispy.ResponseError, match="^Invalid IDLETIME value, must be >= 0$"):
        r.execute_command("RESTORE", "k2", 0, payload, "IDLETIME", -1)
    with pytest.raises(redispy.ResponseError, match="^Invalid FREQ value, must be >= 0 and <= 255$"):
        r.execute_command("RESTORE", "k2", 0, payload, "FREQ", 256)
    with pytest.raises(redispy.ResponseError, match="^syntax error$"):
        r.execute_command("RESTORE", "k2", 0, payload, "IDLETIME", 5, "FREQ", 5)
    # REPLACE, relative and absolute TTLs, IDLETIME.
    r.set("k", "other")
    assert r.execute_command("RESTORE", "k", 0, payload, "REPLACE") == b"OK"
    assert r.get("k") == b"v"
    assert r.restore("t", 100000, payload)
    assert 90000 < r.pttl("t") <= 100000
    at = int(time.time() * 1000) + 200000
    assert r.execute_command("RESTORE", "a", at, payload, "ABSTTL") == b"OK"
    assert abs(r.execute_command("PEXPIRETIME", "a") - at) <= 1
    assert r.execute_command("RESTORE", "i", 0, payload, "IDLETIME", 1000) == b"OK"
    assert r.object("idletime", "i") >= 1000


def test_restore_with_past_ttl_creates_nothing(r):
    r.set("k", "v")
    payload = r.dump("k")
    assert r.execute_command("RESTORE", "gone", 1, payload, "ABSTTL") == b"OK"
    assert r.exists("gone") == 0
    assert r.execute_command("RESTORE", "k", 1, payload, "ABSTTL", "REPLACE") == b"OK"
    assert r.exists("k") == 0


def test_bad_data_format(r):
    # A valid footer around a value that is not an RDB object.
    import struct
    body = b"\x00\xff"  # string type, then a bad length byte
    body += struct.pack("<H", 10)
    crc = crc64(body)
    with pytest.raises(redispy.ResponseError, match="^Bad data format$"):
        r.restore("k", 0, body + struct.pack("<Q", crc))


def crc64(data: bytes) -> int:
    """CRC-64/Jones as Redis uses it (reflected, init 0)."""
    poly = 0x95AC9329AC4BC9B5
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc


def test_crc64_matches_the_check_value():
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def test_payloads_move_between_redis_and_cairn(_tmp_root):
    """DUMP in one server, RESTORE in the other, both directions, every type and encoding."""
    from serverproc import ServerKind, ServerProcess
    redis_server = ServerProcess(ServerKind.named("redis"), _tmp_root, [])
    cairn_server = ServerProcess(ServerKind.named("cairn"), _tmp_root, [])
    redis_server.start()
    cairn_server.start()
    try:
        _move_payloads(redis_server, cairn_server)
    finally:
        redis_server.stop()
        cairn_server.stop()


def _move_payloads(redis_server, cairn_server):
    rr, cc = redis_server.client(), cairn_server.client()
    def fill(c):
        c.set("int", "-123456789")
        c.set("str", "hello world")
        c.set("lzf", "abcdefgh" * 40)
        c.rpush("list", *[f"e{i}" for i in range(300)], "7", "-9")
        c.hset("hsmall", mapping={"a": "1", "b": "two"})
        c.hset("hlarge", mapping={f"f{i}": "v" * 70 for i in range(600)})
        c.sadd("sints", 1, 70000, -5, 1 << 40)
        c.sadd("sstr", *[f"m{i}" for i in range(600)])
        c.zadd("zsmall", {"a": 1, "b": 2.5, "c": float("-inf")})
        c.zadd("zlarge", {f"m{i}": i / 7 for i in range(300)})
    def content(c, key):
        t = c.type(key)
        if t == b"string": return c.get(key)
        if t == b"list": return c.lrange(key, 0, -1)
        if t == b"hash": return sorted(c.hgetall(key).items())
        if t == b"set": return sorted(c.smembers(key))
        return c.zrange(key, 0, -1, withscores=True)
    for source, target in [(rr, cc), (cc, rr)]:
        source.flushall()
        target.flushall()
        fill(source)
        for key in source.keys():
            assert target.restore(key, 0, source.dump(key))
            assert content(target, key) == content(source, key), key
            assert target.object("encoding", key) == source.object("encoding", key), key
