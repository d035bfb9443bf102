"""Real Redis 7.0 accepts the compact blobs Cairn reads and writes (Fixtures/rdb/compact/).

The listpacks marked "encode" in blobs.json are, byte for byte, what `RedisListpack.encode` writes
for their entries (pinned by CompactEncodingTests.encodeMatchesRedis). Here each blob is wrapped
in a DUMP payload (type byte, RDB value, RDB version, CRC64) and RESTOREd into a redis-server that
runs with `sanitize-dump-payload yes`, so Redis validates every entry before accepting it; the
key must then serve exactly the blob's entries. The ziplist and zipmap blobs (Redis 5/6 layouts)
go through RESTORE too, with an RDB version 9 payload.

Needs only redis-server (no cairn-server); skipped when it is not installed.
"""

import json
import os
import shutil

import pytest

from rdbdump import dump_payload, rdb_length, rdb_string
from serverproc import ServerKind, ServerProcess, repo_root

COMPACT = repo_root() / "Fixtures" / "rdb" / "compact"
TYPE_HASH_ZIPMAP, TYPE_LIST_ZIPLIST, TYPE_SET_INTSET, TYPE_ZSET_ZIPLIST, TYPE_HASH_ZIPLIST = 9, 10, 11, 12, 13
TYPE_HASH_LISTPACK, TYPE_ZSET_LISTPACK, TYPE_LIST_QUICKLIST_2 = 16, 17, 18
QUICKLIST_NODE_PACKED = 2


def records():
    with open(COMPACT / "blobs.json", encoding="utf-8") as f:
        recs = json.load(f)
    for r in recs:
        r["blob"] = (COMPACT / r["file"]).read_bytes()
        r["entries"] = [e.encode("latin-1") for e in r["entries"]]
    return recs


@pytest.fixture(scope="module")
def sanitizing_redis(tmp_path_factory):
    kind = ServerKind.named("redis")
    if not (shutil.which(kind.binary) or os.path.isfile(kind.binary)):
        pytest.skip("redis-server is not installed")
    s = ServerProcess(kind, str(tmp_path_factory.mktemp("compact")), ["--sanitize-dump-payload", "yes"])
    s.start()
    yield s
    s.stop()


@pytest.fixture
def rc(sanitizing_redis):
    c = sanitizing_redis.client(protocol=2)
    c.flushall()
    yield c
    c.close()


def role(r):
    """What a blob's entries are: 'list', 'hash' (field, value pairs), 'zset' (member, score) or 'set'."""
    name = r["file"]
    for prefix, what in (("hash", "hash"), ("zset", "zset"), ("set", "set"), ("list", "list")):
        if name.startswith(prefix):
            return what
    raise AssertionError(f"no role for {name}")


def payload_for(r):
    blob, what, kind = r["blob"], role(r), r["kind"]
    if kind == "listpack":
        if what == "list":
            value = rdb_length(1) + rdb_length(QUICKLIST_NODE_PACKED) + rdb_string(blob)
            return dump_payload(TYPE_LIST_QUICKLIST_2, value)
        return dump_payload(TYPE_HASH_LISTPACK if what == "hash" else TYPE_ZSET_LISTPACK, rdb_string(blob))
    if kind == "intset":
        return dump_payload(TYPE_SET_INTSET, rdb_string(blob))
    code = {("ziplist", "list"): TYPE_LIST_ZIPLIST, ("ziplist", "hash"): TYPE_HASH_ZIPLIST,
            ("ziplist", "zset"): TYPE_ZSET_ZIPLIST, ("zipmap", "hash"): TYPE_HASH_ZIPMAP}[(kind, what)]
    return dump_payload(code, rdb_string(blob), rdb_version=9)


def served(rc, key, what):
    if what == "list":
        return rc.lrange(key, 0, -1)
    if what == "hash":
        return sorted(rc.hgetall(key).items())
    if what == "set":
        return sorted(int(m) for m in rc.smembers(key))
    return rc.zrange(key, 0, -1, withscores=True)


def expected(r):
    e, what = r["entries"], role(r)
    if what == "list":
        return e
    if what == "hash":
        return sorted(zip(e[0::2], e[1::2]))
    if what == "set":
        return sorted(int(m) for m in e)
    return [(m, float(s)) for m, s in zip(e[0::2], e[1::2])]


ALL = records()
# An empty ziplist is a valid quicklist-1 node (Redis skips it) but never a key of its own.
KEYS = [r for r in ALL if r["entries"]]


@pytest.mark.parametrize("rec", KEYS, ids=[r["file"] for r in KEYS])
def test_redis_restores_blob(rc, rec):
    rc.restore("k", 0, payload_for(rec))
    assert served(rc, "k", role(rec)) == expected(rec)


def test_encoded_listpacks_are_covered():
    encoded = {role(r) for r in ALL if r.get("encode")}
    assert encoded == {"list", "hash", "zset"}


def test_sanitizer_refuses_a_damaged_listpack(rc):
    """RESTORE's acceptance means something: the same listpack with one backlen byte wrong is refused."""
    rec = next(r for r in ALL if r.get("encode") and role(r) == "hash")
    blob = bytearray(rec["blob"])
    blob[6 + 1 + len(rec["entries"][0])] ^= 0x01  # the first entry's backlen (a 6-bit string)
    with pytest.raises(Exception, match="Bad data format"):
        rc.restore("k", 0, dump_payload(TYPE_HASH_LISTPACK, rdb_string(bytes(blob))))
