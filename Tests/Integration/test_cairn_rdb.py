"""cairn-rdb on RDB files written by a real Redis 7.0 (docs/tools-cairn-rdb.md).

Each test makes its own data: a redis-server on a free port fills several types, binary keys,
expiry times and two databases, SAVEs, and is stopped by PID. The binary under test is $CAIRN_RDB,
else `cairn-rdb` next to the cairn-server binary ($CAIRN_SERVER or .build/debug/cairn-server).
These tests do not depend on --against-redis / --both: Redis is always the reference here.
"""

import json
import os
import random
import shutil
import subprocess
import time

import pytest

from resp import RawConnection
from serverproc import ServerKind, ServerProcess

RUN_TIMEOUT_SECONDS = 120
# Far enough ahead that no key expires while a test runs, close enough to be a real expiry.
EXPIRY_AHEAD_MS = 3_600_000


@pytest.fixture(scope="module")
def cairn_rdb():
    path = os.environ.get("CAIRN_RDB")
    if not path:
        path = os.path.join(os.path.dirname(ServerKind.named("cairn").binary), "cairn-rdb")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"cairn-rdb binary not found: {path} (build it with `swift build`, or set CAIRN_RDB)",
                    pytrace=False)
    return path


@pytest.fixture(scope="module")
def redis_kind():
    kind = ServerKind.named("redis")
    if not kind.available():
        pytest.fail(f"redis-server not found: {kind.binary} (apt-get install redis-server)", pytrace=False)
    return kind


@pytest.fixture
def workdir(tmp_path):
    return tmp_path


def run(binary, *args, stdin=None):
    return subprocess.run([binary, *map(str, args)], input=stdin, capture_output=True, timeout=RUN_TIMEOUT_SECONDS)


# -- the data set

def fill(conn, now_ms):
    """Several types and encodings in db 0 and db 3; returns nothing (read back from Redis)."""
    rnd = random.Random(7)
    c = conn.command
    assert c("SELECT", 0) == "OK"
    c("SET", "str", "hello")
    c("SET", "num", "12345")
    c("SET", "neg", "-9223372036854775808")
    c("SET", "empty", "")
    c("SET", b"bin\x00\xff\r\n", b"\x00\x01\xff\n\"\\")
    c("PEXPIREAT", b"bin\x00\xff\r\n", now_ms + EXPIRY_AHEAD_MS)
    c("SET", "compressible", "abc" * 1000)  # LZF-compressed in the file
    c("SET", "bigstr", rnd.randbytes(200_000))  # the biggest key: random bytes do not compress
    c("SET", "bigstr2", rnd.randbytes(50_000))  # the second biggest
    c("RPUSH", "list", "a", "b", "", b"\xff")
    c("RPUSH", "biglist", *[f"element-{i:06d}" for i in range(3000)])
    c("SADD", "ints", 3, 1, 2, -7)
    c("SADD", "set", "x", "y", b"z\x00")
    c("SADD", "bigset", *[f"m{i}" for i in range(700)])
    c("HSET", "hash", "name", "Ann", "age", "7", b"f\x00", b"v\xff")
    c("HSET", "bighash", *[x for i in range(600) for x in (f"field-{i}", f"value-{i}")])
    c("HSET", "longvalues", "f", "v" * 100)  # a value past hash-max-listpack-value: hashtable
    c("ZADD", "zset", "1.5", "a", "-inf", "b", "0.1", "c", "inf", "d", "2", "e")
    c("ZADD", "bigzset", *[x for i in range(300) for x in (str(i * 0.25), f"z{i}")])
    c("PEXPIREAT", "zset", now_ms + EXPIRY_AHEAD_MS + 1)
    assert c("SELECT", 3) == "OK"
    c("SET", "other", "in db 3")
    c("PEXPIREAT", "other", now_ms + EXPIRY_AHEAD_MS + 2)
    c("RPUSH", "otherlist", "1", "2", "3")
    assert c("SELECT", 0) == "OK"


def snapshot(port):
    """Everything a server holds, normalised: {(db, key): (type, value, expire_at_ms)}. Set
    members and hash pairs are sorted (their order is the server's hash table order)."""
    data = {}
    with RawConnection(port, timeout=30.0) as conn:
        c = conn.command
        for db in range(16):
            assert c("SELECT", db) == "OK"
            cursor = b"0"
            keys = []
            while True:
                cursor, batch = c("SCAN", cursor, "COUNT", 1000)
                keys += batch
                if cursor == b"0":
                    break
            for key in keys:
                t = c("TYPE", key)
                if t == "string":
                    value = c("GET", key)
                elif t == "list":
                    value = c("LRANGE", key, 0, -1)
                elif t == "set":
                    value = sorted(c("SMEMBERS", key))
                elif t == "hash":
                    flat = c("HGETALL", key)
                    value = sorted([flat[i], flat[i + 1]] for i in range(0, len(flat), 2))
                elif t == "zset":
                    flat = c("ZRANGE", key, 0, -1, "WITHSCORES")
                    value = [[flat[i], flat[i + 1]] for i in range(0, len(flat), 2)]
                else:
                    raise AssertionError(f"unexpected type {t} for {key!r}")
                data[(db, key)] = (t, value, c("PEXPIRETIME", key))
    return data


def from_dump_json(text):
    """`dump --json` output in snapshot()'s shape; checks every line's exact key set."""
    data = {}
    for line in text.splitlines():
        obj = json.loads(line)
        assert list(obj.keys()) == ["db", "key", "type", "value", "expire_at_ms"], line
        t = obj["type"]
        b = lambda s: s.encode("latin-1")
        v = obj["value"]
        if t == "string":
            value = b(v)
        elif t == "list":
            value = [b(x) for x in v]
        elif t == "set":
            value = sorted(b(x) for x in v)
        elif t == "hash":
            value = sorted([b(f), b(x)] for f, x in v)
        elif t == "zset":
            value = [[b(m), b(s)] for m, s in v]
        else:
            raise AssertionError(f"unexpected type in {line}")
        key = (obj["db"], b(obj["key"]))
        assert key not in data, f"key twice: {key}"
        data[key] = (t, value, obj["expire_at_ms"])
    return data


@pytest.fixture(scope="module")
def redis_rdb(redis_kind, tmp_path_factory):
    """A dump.rdb saved by real Redis 7.0 (plain, LZF strings), and what Redis served from it."""
    root = str(tmp_path_factory.mktemp("redis-source"))
    s = ServerProcess(redis_kind, root, [])
    s.start()
    try:
        with RawConnection(s.port, timeout=30.0) as conn:
            fill(conn, int(time.time() * 1000))
            assert conn.command("SAVE") == "OK"
            version = conn.command("INFO", "server")
        expected = snapshot(s.port)
    finally:
        s.stop()
    path = os.path.join(root, "source.rdb")
    shutil.copy(os.path.join(s.dir, "dump.rdb"), path)
    redis_version = [l.split(":", 1)[1] for l in version.decode().splitlines() if l.startswith("redis_version:")][0]
    return {"path": path, "expected": expected, "redis_version": redis_version}


def load_in_redis(redis_kind, root, rdb_path):
    """What a fresh redis-server serves after loading `rdb_path` at start-up."""
    s = ServerProcess(redis_kind, str(root), ["--dbfilename", "loaded.rdb"])
    shutil.copy(rdb_path, os.path.join(s.dir, "loaded.rdb"))
    s.start()
    try:
        return snapshot(s.port)
    finally:
        s.stop()


# -- tests

def test_info_describes_a_redis_file(cairn_rdb, redis_rdb):
    p = run(cairn_rdb, "info", redis_rdb["path"], "--json")
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    expected = redis_rdb["expected"]
    assert info["version"] == 10
    assert info["compression"] == "plain"
    assert info["checksum"] == "ok"
    assert info["size_bytes"] == os.path.getsize(redis_rdb["path"])
    assert info["aux"]["redis-ver"] == redis_rdb["redis_version"]
    assert info["keys"] == len(expected)
    assert info["expires"] == sum(1 for v in expected.values() if v[2] != -1)
    per_db = {d["db"]: (d["keys"], d["expires"]) for d in info["databases"]}
    assert per_db == {
        db: (sum(1 for k in expected if k[0] == db), sum(1 for k, v in expected.items() if k[0] == db and v[2] != -1))
        for db in {k[0] for k in expected}
    }
    types = {}
    for t, _, _ in expected.values():
        types[t] = types.get(t, 0) + 1
    assert info["types"] == types

    text = run(cairn_rdb, "info", redis_rdb["path"])
    assert text.returncode == 0, text.stderr
    assert b"rdb version: 10" in text.stdout
    assert b"compression: plain" in text.stdout


def test_info_filters(cairn_rdb, redis_rdb):
    p = run(cairn_rdb, "info", redis_rdb["path"], "--json", "--db", 3)
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["keys"] == 2 and [d["db"] for d in info["databases"]] == [3]
    p = run(cairn_rdb, "info", redis_rdb["path"], "--json", "--match", "big*")
    assert json.loads(p.stdout)["keys"] == sum(1 for k in redis_rdb["expected"] if k[1].startswith(b"big"))


def test_verify_redis_file(cairn_rdb, redis_rdb):
    p = run(cairn_rdb, "verify", redis_rdb["path"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(b"OK: %d keys" % len(redis_rdb["expected"])), p.stdout


def test_dump_json_equals_what_redis_serves(cairn_rdb, redis_rdb):
    p = run(cairn_rdb, "dump", redis_rdb["path"], "--json")
    assert p.returncode == 0, p.stderr
    assert from_dump_json(p.stdout.decode("utf-8")) == redis_rdb["expected"]


def test_dump_json_filters(cairn_rdb, redis_rdb):
    expected = redis_rdb["expected"]
    p = run(cairn_rdb, "dump", redis_rdb["path"], "--json", "--db", 3)
    assert p.returncode == 0, p.stderr
    assert from_dump_json(p.stdout.decode()) == {k: v for k, v in expected.items() if k[0] == 3}
    p = run(cairn_rdb, "dump", redis_rdb["path"], "--json", "--db", 0, "--db", 3, "--match", "*list")
    assert from_dump_json(p.stdout.decode()) == {k: v for k, v in expected.items() if k[1].endswith(b"list")}
    p = run(cairn_rdb, "dump", redis_rdb["path"], "--json", "--match", "nothing-matches-this")
    assert p.returncode == 0 and p.stdout == b""


def test_dump_text(cairn_rdb, redis_rdb):
    p = run(cairn_rdb, "dump", redis_rdb["path"], "--match", "str")
    assert p.returncode == 0, p.stderr
    assert p.stdout == b'db=0 key="str" type=string ttl=-1 value="hello"\n'
    p = run(cairn_rdb, "dump", redis_rdb["path"])
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.splitlines()) == len(redis_rdb["expected"])


def test_dump_resp_rebuilds_the_data_through_redis_cli_pipe(cairn_rdb, redis_rdb, redis_kind, workdir, redis_cli):
    p = run(cairn_rdb, "dump", redis_rdb["path"], "--resp")
    assert p.returncode == 0, p.stderr
    s = ServerProcess(redis_kind, str(workdir), [])
    s.start()
    try:
        pipe = subprocess.run([redis_cli, "-h", "127.0.0.1", "-p", str(s.port), "--pipe"], input=p.stdout,
                              capture_output=True, timeout=RUN_TIMEOUT_SECONDS)
        assert pipe.returncode == 0, pipe.stdout + pipe.stderr
        assert b"errors: 0" in pipe.stdout, pipe.stdout
        assert snapshot(s.port) == redis_rdb["expected"]
    finally:
        s.stop()


def test_biggest(cairn_rdb, redis_rdb):
    p = run(cairn_rdb, "biggest", redis_rdb["path"], "--top", 2, "--json")
    assert p.returncode == 0, p.stderr
    top = [json.loads(l) for l in p.stdout.splitlines()]
    assert [(t["rank"], t["key"], t["type"], t["elements"]) for t in top] == [
        (1, "bigstr", "string", 200_000), (2, "bigstr2", "string", 50_000)]
    assert top[0]["bytes"] > top[1]["bytes"] > 50_000

    everything = run(cairn_rdb, "biggest", redis_rdb["path"], "--top", 1000, "--json")
    rows = [json.loads(l) for l in everything.stdout.splitlines()]
    assert len(rows) == len(redis_rdb["expected"])
    assert [r["bytes"] for r in rows] == sorted((r["bytes"] for r in rows), reverse=True)
    counts = {r["key"].encode("latin-1"): r["elements"] for r in rows}
    assert counts[b"biglist"] == 3000 and counts[b"bighash"] == 600 and counts[b"bigzset"] == 300

    text = run(cairn_rdb, "biggest", redis_rdb["path"], "--top", 2)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert len(lines) == 3 and lines[0].split() == [b"rank", b"db", b"bytes", b"type", b"elements", b"key"]
    assert lines[1].endswith(b'"bigstr"')


@pytest.mark.parametrize("mode", ["lz4", "zlib", "lzf", "no"])
def test_convert_keeps_everything(cairn_rdb, redis_rdb, redis_kind, workdir, mode):
    out = str(workdir / f"converted-{mode}.rdb")
    p = run(cairn_rdb, "convert", redis_rdb["path"], out, "--compression", mode)
    assert p.returncode == 0, p.stderr
    assert sorted(os.listdir(workdir)) == [f"converted-{mode}.rdb"], "no temporary file left behind"

    v = run(cairn_rdb, "verify", out)
    assert v.returncode == 0, v.stderr
    info = json.loads(run(cairn_rdb, "info", out, "--json").stdout)
    assert info["compression"] == {"lz4": "lz4", "zlib": "zlib", "lzf": "plain", "no": "plain"}[mode]
    assert info["aux"]["redis-ver"]  # the writer's own
    source_info = json.loads(run(cairn_rdb, "info", redis_rdb["path"], "--json").stdout)
    for field in ("used-mem", "aof-base"):
        assert info["aux"][field] == source_info["aux"][field], field
    dumped = run(cairn_rdb, "dump", out, "--json")
    assert dumped.returncode == 0, dumped.stderr
    assert from_dump_json(dumped.stdout.decode()) == redis_rdb["expected"]

    with open(out, "rb") as f:
        head = f.read(5)
    if mode in ("lz4", "zlib"):
        assert head.startswith({"lz4": b"\x04\x22\x4d\x18", "zlib": b"\x1f\x8b"}[mode])
    else:
        assert head == b"REDIS"
        # Redis 7.0 loads what Cairn writes in its own modes.
        assert load_in_redis(redis_kind, workdir, out) == redis_rdb["expected"]


def test_convert_level_and_no_checksum(cairn_rdb, redis_rdb, workdir):
    out = str(workdir / "z9.rdb")
    p = run(cairn_rdb, "convert", redis_rdb["path"], out, "--compression", "zlib", "--level", 9)
    assert p.returncode == 0, p.stderr
    assert run(cairn_rdb, "verify", out).returncode == 0
    plain = str(workdir / "nochecksum.rdb")
    p = run(cairn_rdb, "convert", redis_rdb["path"], plain, "--compression", "no", "--no-checksum")
    assert p.returncode == 0, p.stderr
    with open(plain, "rb") as f:
        assert f.read()[-8:] == b"\x00" * 8
    info = json.loads(run(cairn_rdb, "info", plain, "--json").stdout)
    assert info["checksum"] == "not stored"


def test_corrupt_file_exits_1_with_offset(cairn_rdb, redis_rdb, workdir):
    with open(redis_rdb["path"], "rb") as f:
        data = bytearray(f.read())
    # A byte inside the random 200 KB string: only the checksum can notice it.
    at = len(data) // 2
    data[at] ^= 0x01
    flipped = workdir / "flipped.rdb"
    flipped.write_bytes(bytes(data))
    p = run(cairn_rdb, "verify", flipped)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert b"offset" in p.stderr, p.stderr

    truncated = workdir / "truncated.rdb"
    with open(redis_rdb["path"], "rb") as f:
        truncated.write_bytes(f.read()[: len(data) // 3])
    for command in (["verify"], ["info"], ["dump", "--json"], ["biggest"]):
        p = run(cairn_rdb, *command, truncated)
        assert p.returncode == 1, (command, p.stderr)
        assert b"offset" in p.stderr, (command, p.stderr)

    # A failed convert leaves nothing behind.
    out = workdir / "out.rdb"
    p = run(cairn_rdb, "convert", truncated, out, "--compression", "lz4")
    assert p.returncode == 1, p.stderr
    assert sorted(os.listdir(workdir)) == ["flipped.rdb", "truncated.rdb"]


def test_unsupported_content_exits_3(cairn_rdb, redis_kind, workdir):
    s = ServerProcess(redis_kind, str(workdir), [])
    s.start()
    try:
        with RawConnection(s.port) as conn:
            conn.command("SET", "plain", "value")
            conn.command("XADD", "events", "*", "field", "value")
            assert conn.command("SAVE") == "OK"
    finally:
        s.stop()
    path = os.path.join(s.dir, "dump.rdb")
    for command in (["verify"], ["dump", "--json"]):
        p = run(cairn_rdb, *command, path)
        assert p.returncode == 3, (command, p.stderr)
        assert b"events" in p.stderr, p.stderr


def test_missing_file_exits_4(cairn_rdb, workdir):
    for command in (["verify"], ["info"], ["dump"], ["biggest"]):
        p = run(cairn_rdb, *command, workdir / "does-not-exist.rdb")
        assert p.returncode == 4, (command, p.stderr)
        assert b"does-not-exist.rdb" in p.stderr
    p = run(cairn_rdb, "convert", workdir / "does-not-exist.rdb", workdir / "out.rdb", "--compression", "lz4")
    assert p.returncode == 4, p.stderr
    assert os.listdir(workdir) == []


def test_unwritable_output_exits_4(cairn_rdb, redis_rdb, workdir):
    p = run(cairn_rdb, "convert", redis_rdb["path"], workdir / "no-such-dir" / "out.rdb", "--compression", "lz4")
    assert p.returncode == 4, p.stderr


@pytest.mark.parametrize("args", [
    [],
    ["nonsense"],
    ["dump"],
    ["dump", "a.rdb", "--json", "--resp"],
    ["info", "a.rdb", "--db", "x"],
    ["info", "a.rdb", "--db", "-1"],
    ["biggest", "a.rdb", "--top", "0"],
    ["convert", "a.rdb", "b.rdb"],
    ["convert", "a.rdb", "b.rdb", "--compression", "bogus"],
    ["convert", "a.rdb", "b.rdb", "--compression", "zlib", "--level", "10"],
    ["convert", "a.rdb", "b.rdb", "--compression", "lzf", "--level", "1"],
    ["verify", "a.rdb", "--unknown-flag"],
], ids=lambda a: " ".join(a) or "no-arguments")
def test_bad_arguments_exit_2(cairn_rdb, workdir, args):
    p = subprocess.run([cairn_rdb, *args], capture_output=True, timeout=RUN_TIMEOUT_SECONDS, cwd=workdir)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stderr, "a usage error says what is wrong"


def test_help_documents_exit_codes(cairn_rdb):
    p = run(cairn_rdb, "--help")
    assert p.returncode == 0
    for line in (b"0  success", b"1  the file is damaged", b"2  usage error", b"3  the file holds data",
                 b"4  I/O error"):
        assert line in p.stdout, p.stdout


def test_no_progress_bar_without_a_terminal(cairn_rdb, redis_rdb):
    p = run(cairn_rdb, "verify", redis_rdb["path"])
    assert p.returncode == 0 and p.stderr == b""


def test_progress_bar_on_a_terminal(cairn_rdb, redis_kind, workdir):
    import pty
    s = ServerProcess(redis_kind, str(workdir), [])
    s.start()
    try:
        rnd = random.Random(11)
        with RawConnection(s.port, timeout=30.0) as conn:
            for i in range(12):  # 12 MiB of random bytes: past the 8 MiB threshold, no compression
                conn.command("SET", f"blob{i}", rnd.randbytes(1 << 20))
            assert conn.command("SAVE") == "OK"
    finally:
        s.stop()
    path = os.path.join(s.dir, "dump.rdb")
    controller, terminal = pty.openpty()
    try:
        p = subprocess.run([cairn_rdb, "verify", path], stdout=subprocess.PIPE, stderr=terminal,
                           timeout=RUN_TIMEOUT_SECONDS)
        os.close(terminal)
        terminal = None
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 1 << 16)
            except OSError:  # EIO once the writer side is closed and drained
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if terminal is not None:
            os.close(terminal)
        os.close(controller)
    assert p.returncode == 0
    assert p.stdout.startswith(b"OK: 12 keys")
    assert b"\r[" in drawn and b"100%" in drawn, drawn[-300:]
    assert drawn.endswith(b"\r\x1b[K"), "the bar is erased at the end"
