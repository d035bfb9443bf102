"""RDB files move between Cairn and real Redis 7.0 with identical content.

A cairn-server is filled with every type (small and large encodings, expiries, databases 0/1/9,
binary keys, an empty string, a 1 MiB value) and SAVEs in each `rdbcompression` mode. Redis 7.0
loads the plain files (lzf, no) directly and the lz4/zlib files after `lz4 -d` / `gzip -dc`, and
serves exactly what Cairn served (rdbdump.snapshot: every value, PEXPIRETIME). The other way, each
file in Fixtures/rdb/ loads in a cairn-server that then serves the fixture's .expected.json.

These tests always run cairn-server and redis-server together, whatever --against-redis/--both
select."""

import os
import random
import shutil
import subprocess

import pytest

import rdbdump
from serverproc import ServerKind, ServerProcess, free_port, require, repo_root

FIXTURES = repo_root() / "Fixtures" / "rdb"
# Expiries in 2100 and later: far in the future for both servers.
EXPIRE_BASE_MS = 4102444800000
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
# Fixtures Cairn refuses (valid Redis data of a kind it does not load), and what the log names.
UNSUPPORTED = {"stream.redis7.rdb": "stream", "function.redis7.rdb": "function"}



def require_tool(name):
    path = shutil.which(name)
    if not path:
        pytest.skip(f"`{name}` not installed (apt-get install {name})")
    return path


@pytest.fixture
def servers(_tmp_root):
    """start(kind_name, *args, files={name: source path}) -> a started server, stopped after the
    test. `files` are copied into the server's --dir before it starts."""
    started = []

    def start(kind_name, *args, files=None):
        s = ServerProcess(require(kind_name), _tmp_root, list(args))
        for name, source in (files or {}).items():
            shutil.copyfile(source, os.path.join(s.dir, name))
        started.append(s)
        s.start()
        return s

    yield start
    for s in started:
        s.stop()


def printable(rng, n):
    alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-_"
    return bytes(rng.choice(alphabet) for _ in range(n))


def fill(server):
    """Every type in its small and large encodings, in databases 0, 1 and 9."""
    rng = random.Random(7010)
    for db in (0, 1, 9):
        c = server.client(db=db)
        p = c.pipeline(transaction=False)
        pre = b"db%d:" % db
        # Strings: integer encodings and their edges, near-integers kept as text, LZF territory.
        for i, v in enumerate([0, -1, 127, -128, 255, 32767, -32768, 65535, 2**31 - 1, -(2**31), 2**31,
                               2**32, INT64_MAX, INT64_MIN]):
            p.set(pre + b"int:%02d" % i, str(v).encode())
        for i, v in enumerate([b"007", b"+5", b"-0", b" 1", b"1.5", b"9223372036854775808", b"1e3"]):
            p.set(pre + b"numeric-text:%d" % i, v)
        p.set(pre + b"empty", b"")
        p.set(pre + b"lzf:21", b"x" * 21)
        p.set(pre + b"lzf:text", b"".join(b"line %05d of a repetitive text\n" % (i % 50) for i in range(400)))
        p.set(pre + b"random:100", rng.randbytes(100))
        p.set(pre + b"random:5000", rng.randbytes(5000))
        p.set(pre + b"bin:\x00\xff\r\n", bytes(range(256)))
        p.set(b"\x00\xfe" + pre, b"\x00")
        # Lists: small, several nodes, long elements, integers.
        p.rpush(pre + b"list:small", b"a", b"", b"12", b"-5", b"\x00\xff", str(INT64_MIN).encode())
        p.rpush(pre + b"list:nodes", *[printable(rng, 20 + i % 90) for i in range(1500)])
        p.rpush(pre + b"list:long-elements", b"head", b"L" * 10000, rng.randbytes(9000), b"tail")
        # Hashes: listpack, hashtable by count, hashtable by value length.
        p.hset(pre + b"hash:small", mapping={b"f": b"v", b"": b"", b"int": b"12345", b"neg": b"-7",
                                             b"\x00bin\xff": b"\xff\x00"})
        p.hset(pre + b"hash:600", mapping={b"field:%04d" % i: b"value:%d" % (i * 7) for i in range(600)})
        p.hset(pre + b"hash:long-value", mapping={b"a": b"1", b"b": printable(rng, 100)})
        # Sets: intsets of each width, an intset past set-max-intset-entries, strings.
        p.sadd(pre + b"set:int16", *[i * 101 - 3000 for i in range(40)])
        p.sadd(pre + b"set:int32", 1, -1, 70000, -(2**31), 2**31 - 1)
        p.sadd(pre + b"set:int64", 0, INT64_MIN, INT64_MAX, 2**40)
        p.sadd(pre + b"set:600-ints", *range(0, 6000, 10))
        p.sadd(pre + b"set:strings", b"", b"a", b"\x00\xff", b"12", b"longer member text")
        # Sorted sets: listpack, skiplist by count, skiplist by member length; special scores.
        p.zadd(pre + b"zset:small", {b"-inf": float("-inf"), b"+inf": float("inf"), b"zero": 0.0, b"tenth": 0.1,
                                     b"neg": -2.5, b"huge": 1e300, b"tiny": -1e-300, b"": 42, b"\x00\xff": 7})
        p.zadd(pre + b"zset:300", {b"member:%04d" % i: round(rng.uniform(-1e6, 1e6), 3) for i in range(300)})
        p.zadd(pre + b"zset:long-member", {printable(rng, 100): 1, b"short": 2})
        p.execute()
        # Expiries on a key of each type (PEXPIREAT: the same absolute time in both servers).
        expiring = [pre + k for k in (b"int:00", b"lzf:text", b"empty", b"list:small", b"list:nodes", b"hash:small",
                                      b"hash:600", b"set:int16", b"set:strings", b"zset:small", b"zset:300")]
        for i, key in enumerate(expiring):
            p.pexpireat(key, EXPIRE_BASE_MS + db * 100000 + i * 1000 + 123)
        p.execute()
        c.close()
    c0 = server.client()
    c0.set(b"big:1mb", (printable(rng, 1000) * 1049)[: 1 << 20])
    c0.set(b"big:random", rng.randbytes(300 * 1024))
    c0.close()


def saved_by_cairn(servers, compression):
    """A cairn-server filled by `fill` SAVEs with `rdbcompression <compression>`: (path of a copy
    of the file, the content Cairn served)."""
    cairn = servers("cairn", "--save", "", "--rdbcompression", compression, "--dbfilename", "cairn.rdb")
    fill(cairn)
    c = cairn.client()
    assert c.config_get("rdbcompression")["rdbcompression"] == compression
    before = rdbdump.snapshot(c)
    assert c.save()
    c.close()
    cairn.stop()
    path = os.path.join(cairn.dir, "cairn.rdb")
    assert os.path.getsize(path) > 0
    copy = os.path.join(cairn.dir, f"saved-{compression}.rdb")
    shutil.copyfile(path, copy)
    return copy, before


def redis_serves(servers, path, expected):
    """Real Redis 7.0 loads the RDB at `path` and serves exactly `expected`."""
    redis = servers("redis", "--dbfilename", "in.rdb", files={"in.rdb": path})
    assert "DB loaded from disk" in redis.log(), redis.log()[-2000:]
    c = redis.client()
    actual = rdbdump.snapshot(c)
    c.close()
    differences = rdbdump.diff(expected, actual)
    assert not differences, "\n".join(differences)
    # The dataset really is there (an empty file on both sides would also compare equal).
    assert sorted(actual["dbs"]) == ["0", "1", "9"]
    assert {db: len(keys) for db, keys in actual["dbs"].items()} == {"0": 44, "1": 42, "9": 42}
    assert len(actual["dbs"]["0"]["big:1mb"]["value"]) == 1 << 20
    assert len(actual["dbs"]["9"]["db9:list:nodes"]["value"]) == 1500
    assert actual["dbs"]["1"]["db1:zset:small"]["expire_ms"] > EXPIRE_BASE_MS


def magic(path, n):
    with open(path, "rb") as f:
        return f.read(n)


@pytest.mark.parametrize("compression", ["lzf", "no"])
def test_plain_cairn_rdb_loads_in_redis(servers, compression):
    path, served = saved_by_cairn(servers, compression)
    assert magic(path, 9) == b"REDIS0010"
    check = subprocess.run([require_tool("redis-check-rdb"), path], capture_output=True, timeout=120)
    assert check.returncode == 0, check.stdout.decode(errors="replace")[-2000:]
    redis_serves(servers, path, served)


def test_lzf_strings_are_compressed_and_plain_mode_is_not(servers):
    lzf, _ = saved_by_cairn(servers, "lzf")
    plain, _ = saved_by_cairn(servers, "no")
    # The 1 MiB value repeats a 1000-byte block: LZF shrinks it, `no` keeps it whole.
    assert os.path.getsize(lzf) < os.path.getsize(plain) - (1 << 19)


@pytest.mark.parametrize("compression,tool,magic_bytes", [("lz4", "lz4", b"\x04\x22\x4d\x18"),
                                                          ("zlib", "gzip", b"\x1f\x8b")])
def test_compressed_cairn_rdb_unpacks_with_standard_tools_for_redis(servers, compression, tool, magic_bytes):
    path, served = saved_by_cairn(servers, compression)
    assert magic(path, len(magic_bytes)) == magic_bytes
    unpacked = path + ".unpacked"
    if tool == "lz4":
        subprocess.run([require_tool("lz4"), "-d", "-q", path, unpacked], check=True, timeout=120)
    else:
        with open(unpacked, "wb") as out:
            subprocess.run([require_tool("gzip"), "-dc", path], stdout=out, check=True, timeout=120)
    assert magic(unpacked, 9) == b"REDIS0010"
    redis_serves(servers, unpacked, served)


def test_redis_rdb_of_the_same_data_loads_back_in_cairn(servers):
    """The other direction for the same dataset: Redis SAVEs it, Cairn loads it."""
    redis = servers("redis", "--rdbcompression", "yes", "--dbfilename", "redis.rdb")
    fill(redis)
    c = redis.client()
    served = rdbdump.snapshot(c)
    assert c.save()
    c.close()
    cairn = servers("cairn", "--save", "", "--dbfilename", "in.rdb", files={"in.rdb": os.path.join(redis.dir, "redis.rdb")})
    c = cairn.client()
    differences = rdbdump.diff(served, rdbdump.snapshot(c))
    c.close()
    assert not differences, "\n".join(differences)


def fixture_names():
    return sorted(p.name for p in FIXTURES.glob("*.rdb"))


# A ziplist score stored as the text "-0" (Redis 5 wrote that; Redis 7.0 stores ZADD's -0 as 0)
# is served by Redis 7.0 as "-0", by Cairn as "0": Cairn's listpack sorted sets normalise -0 on
# insert. test_fixture_loads_in_cairn tolerates exactly this; the xfail test below tracks it.
NEGATIVE_ZERO = ("encodings.legacy-v9.rdb", "0", "zset:ziplist", "neg0")


def without_negative_zero(name, snap):
    fixture, db, key, member = NEGATIVE_ZERO
    entry = snap["dbs"].get(db, {}).get(key) if name == fixture else None
    if entry:
        entry["value"] = [[m, "0" if m == member and s == "-0" else s] for m, s in entry["value"]]
    return snap


def serve_fixture(servers, name):
    source = FIXTURES / name
    cairn = servers("cairn", "--save", "", "--dbfilename", name, files={name: source})
    assert "DB loaded from disk" in cairn.log(), cairn.log()[-2000:]
    c = cairn.client()
    actual = rdbdump.snapshot(c)
    c.close()
    return actual, rdbdump.load(str(source).replace(".rdb", ".expected.json"))


@pytest.mark.xfail(strict=True, reason="Cairn's listpack sorted sets store -0 as 0 (Redis 7.0 keeps a loaded '-0' text)")
def test_legacy_negative_zero_score_is_served_as_redis_does(servers):
    actual, expected = serve_fixture(servers, NEGATIVE_ZERO[0])
    _, db, key, _ = NEGATIVE_ZERO
    assert actual["dbs"][db][key] == expected["dbs"][db][key]


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_loads_in_cairn(servers, name, _tmp_root):
    source = FIXTURES / name
    if name in UNSUPPORTED:
        s = ServerProcess(require("cairn"), _tmp_root, ["--save", "", "--dbfilename", name])
        shutil.copyfile(source, os.path.join(s.dir, name))
        s.port = free_port()
        code = s.run_to_exit()
        assert code not in (None, 0), "cairn-server started on a file it cannot load"
        assert UNSUPPORTED[name] in s.log(), s.log()[-2000:]
        return
    actual, expected = serve_fixture(servers, name)
    expected = without_negative_zero(name, expected)
    differences = rdbdump.diff(expected, actual)
    assert not differences, "\n".join(differences)
    assert actual == expected
