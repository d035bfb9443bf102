"""Copy-on-write of a background save: the forked child must not write to the pages it shares
with the server. Redis's child copies almost nothing while the server is idle (rdb_last_cow_size
about 0.5 MiB for a million keys); a child that touched a reference count per key copied every
page holding a key (123 MiB for DEBUG POPULATE 1000000 before the keyspace held records).

Runs against redis-server too (--against-redis / --both): the bound is what Redis meets. Strings,
small hashes and small sorted sets (packed in their records) and lists (nodes read in place);
Cairn's sets and large hashes and sorted sets are still Swift objects whose storage the child
retains (issue 12's open part) and join when they are read without reference counts."""

import pytest

from resp import encode
from test_persistence import wait_for_bgsave

KEYS = 200_000
# Redis: ~0.5 MiB whatever the size; Cairn with records: ~0.8 MiB. The child's own buffers and
# malloc bookkeeping are private pages, counted too. A child that dirtied one page per 50 keys
# would already pass 15 MiB here.
BOUND = 8 * 1024 * 1024


def fill_small_hashes(c, keys):
    """`keys` hashes of three short fields (listpack encoded: packed in their records)."""
    for start in range(0, keys, 10_000):
        c.send(b"".join(encode("HSET", f"hash:{i}", "name", f"user{i}", "age", str(i % 90), "city", "c")
                        for i in range(start, start + 10_000)))
        for _ in range(start, start + 10_000):
            assert c.read_reply() == 3
    assert c.command("OBJECT", "ENCODING", "hash:7") == b"listpack"


def fill_small_zsets(c, keys):
    """`keys` sorted sets of five members (listpack encoded: packed in their records)."""
    for start in range(0, keys, 10_000):
        c.send(b"".join(encode("ZADD", f"zset:{i}", *[x for m in range(5) for x in (str(m * 1.5), f"m{m}:{i}")])
                        for i in range(start, start + 10_000)))
        for _ in range(start, start + 10_000):
            assert c.read_reply() == 5
    assert c.command("OBJECT", "ENCODING", "zset:7") == b"listpack"


def fill_lists(c, keys):
    """`keys` lists of 2,000 short elements: about 26 KB each, four nodes."""
    elements = [f"element:{j}" for j in range(250)]
    for start in range(0, keys, 100):
        c.send(b"".join(encode("RPUSH", f"list:{i}", *elements) for i in range(start, start + 100) for _ in range(8)))
        for _ in range(start, start + 100):
            for r in range(8):
                assert c.read_reply() == 250 * (r + 1)
    assert c.command("OBJECT", "ENCODING", "list:7") == b"quicklist"


@pytest.mark.parametrize("expiry", [False, True], ids=["plain", "with-ttl"])
@pytest.mark.parametrize("kind", ["strings", "hashes", "zsets", "lists"])
def test_idle_bgsave_copies_almost_nothing(server_factory, expiry, kind):
    s = server_factory("--enable-debug-command", "yes")
    with s.raw() as c:
        keys = KEYS // 100 if kind == "lists" else KEYS
        if kind == "strings":
            assert c.command("DEBUG", "POPULATE", str(KEYS), "key", "24") == "OK"
        elif kind == "hashes":
            fill_small_hashes(c, KEYS)
        elif kind == "lists":
            fill_lists(c, keys)
        else:
            fill_small_zsets(c, KEYS)
        if expiry:
            # Every other key gets a TTL: records with the expiry block, the volatile list.
            prefix = {"strings": "key", "hashes": "hash", "zsets": "zset", "lists": "list"}[kind]
            for start in range(0, keys, 10_000):
                end = min(start + 10_000, keys)
                c.send(b"".join(encode("PEXPIRE", f"{prefix}:{i}", "100000000") for i in range(start, end, 2)))
                for _ in range(start, end, 2):
                    assert c.read_reply() == 1
        assert c.command("DBSIZE") == keys
        assert c.command("BGSAVE") == "Background saving started"
        fields = wait_for_bgsave(c)
        assert fields["rdb_last_bgsave_status"] == "ok"
        cow = int(fields["rdb_last_cow_size"])
        assert cow < BOUND, f"the save child copied {cow} bytes for {keys} idle {kind}"
