"""Keyspace commands (Redis 7.0 db.c / object.c): DEL, UNLINK, EXISTS, TYPE, RENAME[NX], COPY,
MOVE, KEYS, SCAN, RANDOMKEY, TOUCH, OBJECT, DBSIZE."""

import pytest

from resp import Error

SAME_OBJECT = Error("ERR source and destination objects are the same")
OUT_OF_RANGE = Error("ERR DB index is out of range")


def test_del_unlink_exists(raw):
    raw.command("MSET", "a", "1", "b", "2", "c", "3")
    assert raw.command("EXISTS", "a", "a", "b", "missing") == 3
    assert raw.command("DEL", "a", "missing", "a") == 1
    assert raw.command("UNLINK", "b", "c", "missing") == 2
    assert raw.command("EXISTS", "a", "b", "c") == 0
    assert raw.command("DEL", "a") == 0
    assert raw.command("DEL") == Error("ERR wrong number of arguments for 'del' command")
    assert raw.command("EXISTS") == Error("ERR wrong number of arguments for 'exists' command")


def test_type(raw):
    raw.command("SET", "s", "v")
    raw.command("SET", "n", "1")
    assert raw.command("TYPE", "s") == "string"
    assert raw.command("TYPE", "n") == "string"
    assert raw.command("TYPE", "missing") == "none"


def test_rename(raw):
    raw.command("SET", "a", "1")
    raw.command("SET", "b", "2")
    assert raw.command("RENAME", "a", "c") == "OK"
    assert raw.command("GET", "c") == b"1"
    assert raw.command("EXISTS", "a") == 0
    # Overwrites the destination.
    assert raw.command("RENAME", "c", "b") == "OK"
    assert raw.command("GET", "b") == b"1"
    assert raw.command("RENAME", "missing", "x") == Error("ERR no such key")
    # Renaming a key onto itself succeeds when it exists.
    assert raw.command("RENAME", "b", "b") == "OK"
    assert raw.command("GET", "b") == b"1"


def test_rename_moves_ttl(raw):
    raw.command("SET", "a", "1", "EX", "100")
    raw.command("SET", "b", "2", "EX", "1000")
    assert raw.command("RENAME", "a", "b") == "OK"
    assert 0 < raw.command("TTL", "b") <= 100
    raw.command("SET", "p", "1")
    raw.command("SET", "q", "2", "EX", "100")
    assert raw.command("RENAME", "p", "q") == "OK"
    assert raw.command("TTL", "q") == -1


def test_renamenx(raw):
    raw.command("MSET", "a", "1", "b", "2")
    assert raw.command("RENAMENX", "a", "b") == 0
    assert raw.command("GET", "a") == b"1"
    assert raw.command("RENAMENX", "a", "c") == 1
    assert raw.command("GET", "c") == b"1"
    assert raw.command("RENAMENX", "missing", "d") == Error("ERR no such key")
    assert raw.command("RENAMENX", "c", "c") == 0


def test_copy(raw):
    raw.command("SET", "a", "1", "EX", "100")
    assert raw.command("COPY", "a", "b") == 1
    assert raw.command("GET", "b") == b"1"
    assert 0 < raw.command("TTL", "b") <= 100
    raw.command("SET", "a", "2")
    assert raw.command("GET", "b") == b"1"  # a real copy, not a shared value
    assert raw.command("COPY", "a", "b") == 0
    assert raw.command("COPY", "a", "b", "REPLACE") == 1
    assert raw.command("GET", "b") == b"2"
    assert raw.command("TTL", "b") == -1
    assert raw.command("COPY", "missing", "b") == 0
    assert raw.command("COPY", "a", "a") == SAME_OBJECT
    assert raw.command("COPY", "a", "b", "FOO") == Error("ERR syntax error")


def test_copy_to_db(raw):
    raw.command("SET", "a", "1")
    assert raw.command("COPY", "a", "a", "DB", "1") == 1
    assert raw.command("COPY", "a", "a", "DB", "0") == SAME_OBJECT
    assert raw.command("COPY", "a", "x", "DB", "99") == OUT_OF_RANGE
    assert raw.command("COPY", "a", "x", "DB", "abc") == Error("ERR value is not an integer or out of range")
    assert raw.command("SELECT", "1") == "OK"
    assert raw.command("GET", "a") == b"1"


def test_move(raw):
    raw.command("SET", "a", "1", "EX", "100")
    assert raw.command("MOVE", "a", "1") == 1
    assert raw.command("EXISTS", "a") == 0
    assert raw.command("MOVE", "a", "1") == 0
    raw.command("SET", "a", "local")
    assert raw.command("MOVE", "a", "1") == 0  # exists in the target: nothing moves
    assert raw.command("GET", "a") == b"local"
    assert raw.command("MOVE", "a", "0") == SAME_OBJECT
    assert raw.command("MOVE", "a", "16") == OUT_OF_RANGE
    assert raw.command("MOVE", "a", "x") == Error("ERR value is not an integer or out of range")
    raw.command("SELECT", "1")
    assert raw.command("GET", "a") == b"1"
    assert 0 < raw.command("TTL", "a") <= 100


def test_keys_glob(raw):
    names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h[e]llo", "h*llo", "foo", "a?b"]
    for n in names:
        raw.command("SET", n, "1")

    def keys(p):
        return sorted(k.decode() for k in raw.command("KEYS", p))

    assert keys("*") == sorted(names)
    assert keys("h?llo") == ["h*llo", "hallo", "hello", "hxllo"]
    assert keys("h*llo") == sorted(["hello", "hallo", "hxllo", "hllo", "heeeello", "h[e]llo", "h*llo"])
    assert keys("h[ae]llo") == ["hallo", "hello"]
    assert keys("h[^e]llo") == ["h*llo", "hallo", "hxllo"]
    assert keys("h[a-b]llo") == ["hallo"]
    assert keys("h\\[e\\]llo") == ["h[e]llo"]
    assert keys("h\\*llo") == ["h*llo"]
    assert keys("a\\?b") == ["a?b"]
    assert keys("nomatch*") == []
    assert keys("foo") == ["foo"]


def test_dbsize(raw):
    assert raw.command("DBSIZE") == 0
    raw.command("MSET", "a", "1", "b", "2")
    assert raw.command("DBSIZE") == 2


def test_scan_full_iteration(r):
    n = 1000
    with r.pipeline(transaction=False) as p:
        for i in range(n):
            p.set(f"key:{i}", i)
        p.execute()
    seen = set()
    cursor = 0
    rounds = 0
    while True:
        cursor, keys = r.scan(cursor=cursor, count=37)
        seen.update(keys)
        rounds += 1
        assert rounds < 10 * n, "SCAN does not terminate"
        if cursor == 0:
            break
    assert seen == {f"key:{i}".encode() for i in range(n)}
    assert set(r.scan_iter(count=1000)) == seen


def test_scan_match_and_type(r):
    for i in range(200):
        r.set(f"user:{i}", i)
        r.set(f"item:{i}", i)
    users = set(r.scan_iter(match="user:*", count=50))
    assert users == {f"user:{i}".encode() for i in range(200)}
    assert set(r.scan_iter(match="user:1?", count=10)) == {f"user:1{i}".encode() for i in range(10)}
    assert len(set(r.scan_iter(_type="string", count=100))) == 400
    assert set(r.scan_iter(_type="list", count=100)) == set()


def test_scan_errors(raw):
    assert raw.command("SCAN", "abc") == Error("ERR invalid cursor")
    assert raw.command("SCAN", "1x") == Error("ERR invalid cursor")
    assert raw.command("SCAN", "0", "COUNT", "0") == Error("ERR syntax error")
    assert raw.command("SCAN", "0", "COUNT", "x") == Error("ERR value is not an integer or out of range")
    assert raw.command("SCAN", "0", "FOO", "1") == Error("ERR syntax error")
    assert raw.command("SCAN", "0", "MATCH") == Error("ERR syntax error")
    assert raw.command("SCAN", "0") == [b"0", []]


def test_scan_cursor_is_bulk_string(raw):
    raw.command("SET", "a", "1")
    reply = raw.raw(b"*2\r\n$4\r\nSCAN\r\n$1\r\n0\r\n")
    assert reply == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"


def test_randomkey(raw):
    assert raw.command("RANDOMKEY") is None
    raw.command("MSET", "a", "1", "b", "2", "c", "3")
    seen = {raw.command("RANDOMKEY") for _ in range(200)}
    assert seen <= {b"a", b"b", b"c"}
    assert len(seen) >= 2


def test_touch(raw):
    raw.command("MSET", "a", "1", "b", "2")
    assert raw.command("TOUCH", "a", "b", "missing", "a") == 3
    assert raw.command("TOUCH", "missing") == 0


def test_object_subcommands(raw):
    raw.command("SET", "k", "hello")
    refcount = raw.command("OBJECT", "REFCOUNT", "k")
    assert isinstance(refcount, int) and refcount >= 1
    idle = raw.command("OBJECT", "IDLETIME", "k")
    assert isinstance(idle, int) and 0 <= idle <= 5
    assert raw.command("OBJECT", "ENCODING", "missing") is None
    assert raw.command("OBJECT", "REFCOUNT", "missing") is None
    assert raw.command("OBJECT", "IDLETIME", "missing") is None
    freq = raw.command("OBJECT", "FREQ", "k")
    assert freq == Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
                         "Please note that when switching between policies at runtime LRU and LFU data "
                         "will take some time to adjust.")
    assert raw.command("OBJECT", "FOO", "k") == \
        Error("ERR unknown subcommand 'FOO'. Try OBJECT HELP.")
    assert raw.command("OBJECT", "ENCODING") == \
        Error("ERR wrong number of arguments for 'object|encoding' command")
    help_lines = raw.command("OBJECT", "HELP")
    assert isinstance(help_lines, list) and any("ENCODING" in line for line in help_lines)


@pytest.mark.parametrize("cmd", ["GET", "SET", "EXISTS", "TTL", "MGET", "TYPE"])
def test_commands_are_case_insensitive(raw, cmd):
    raw.command("SET", "k", "v")
    lower = raw.command(cmd.lower(), "k", *(["v"] if cmd == "SET" else []))
    mixed = raw.command(cmd.capitalize(), "k", *(["v"] if cmd == "SET" else []))
    assert lower == mixed
