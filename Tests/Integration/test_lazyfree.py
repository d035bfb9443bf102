"""Lazy freeing (issue 16, point 7): UNLINK, FLUSHALL/FLUSHDB ASYNC and the lazyfree-lazy-*
directives free large values on a background thread, counted by INFO lazyfreed_objects as Redis
7.0 counts them (a value of more than 64 allocations, or every key of a flushed database).
Runs against cairn-server, and against redis-server 7.0 with --both / --against-redis."""
from serverproc import wait_for


def memory_info(conn):
    text = conn.command("INFO", "memory").decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def lazyfreed(conn):
    return int(memory_info(conn)["lazyfreed_objects"])


def wait_lazyfreed(conn, n):
    wait_for(lambda: lazyfreed(conn) == n, f"lazyfreed_objects == {n}")
    assert memory_info(conn)["lazyfree_pending_objects"] == "0"


def big_list(conn, key, elements=200_000):
    """A list of many quicklist nodes (well over 64)."""
    for start in range(0, elements, 10_000):
        conn.command("RPUSH", key, *(["x" * 20] * 10_000))


def big_hash(conn, key, fields=1000):
    conn.command("HSET", key, *[v for i in range(fields) for v in (f"f{i}", "v")])


def test_flush_async_frees_every_key_in_the_background(server_factory):
    s = server_factory()
    with s.raw() as c:
        assert lazyfreed(c) == 0
        c.command("MSET", *[v for i in range(10) for v in (f"k{i}", "v")])
        c.command("SELECT", "1")
        c.command("MSET", "a", "1", "b", "2")
        assert c.command("FLUSHDB", "ASYNC") == "OK"
        assert c.command("DBSIZE") == 0
        wait_lazyfreed(c, 2)
        c.command("SELECT", "0")
        assert c.command("FLUSHALL", "ASYNC") == "OK"
        assert c.command("DBSIZE") == 0
        wait_lazyfreed(c, 12)
        # SYNC, and no flag with lazyfree-lazy-user-flush no (the default): freed here.
        c.command("SET", "k", "v")
        assert c.command("FLUSHALL", "SYNC") == "OK"
        c.command("SET", "k", "v")
        assert c.command("FLUSHALL") == "OK"
        assert lazyfreed(c) == 12
        # lazyfree-lazy-user-flush yes: no flag means ASYNC.
        assert c.command("CONFIG", "SET", "lazyfree-lazy-user-flush", "yes") == "OK"
        c.command("MSET", "a", "1", "b", "2", "c", "3")
        assert c.command("FLUSHALL") == "OK"
        wait_lazyfreed(c, 15)
        assert c.command("CONFIG", "RESETSTAT") == "OK"
        assert lazyfreed(c) == 0


def test_unlink_frees_large_values_in_the_background(server_factory):
    s = server_factory()
    with s.raw() as c:
        big_list(c, "biglist")
        big_hash(c, "bighash")
        c.command("RPUSH", "small", "a", "b")
        assert c.command("UNLINK", "biglist", "bighash", "small", "missing") == 3
        wait_lazyfreed(c, 2)  # the small list is freed at once
        assert c.command("EXISTS", "biglist", "bighash", "small") == 0
        # DEL frees at once, unless lazyfree-lazy-user-del yes.
        big_list(c, "biglist")
        assert c.command("DEL", "biglist") == 1
        assert lazyfreed(c) == 2
        assert c.command("CONFIG", "SET", "lazyfree-lazy-user-del", "yes") == "OK"
        big_list(c, "biglist")
        assert c.command("DEL", "biglist") == 1
        wait_lazyfreed(c, 3)


def test_server_deletes_with_lazyfree_lazy_server_del(server_factory):
    s = server_factory("--lazyfree-lazy-server-del", "yes")
    with s.raw() as c:
        big_hash(c, "h1")
        big_hash(c, "h2")
        # RENAME over an existing key deletes it implicitly: a server delete.
        assert c.command("RENAME", "h1", "h2") == "OK"
        wait_lazyfreed(c, 1)
        # SET over a large collection frees it the same way.
        assert c.command("SET", "h2", "string now") == "OK"
        wait_lazyfreed(c, 2)


def test_expiry_with_lazyfree_lazy_expire(server_factory):
    s = server_factory("--lazyfree-lazy-expire", "yes")
    with s.raw() as c:
        big_hash(c, "h")
        assert c.command("PEXPIRE", "h", "20") == 1
        wait_for(lambda: c.command("EXISTS", "h") == 0, "h expired")
        wait_lazyfreed(c, 1)


def test_replica_lazy_flush_frees_the_old_dataset_in_the_background(server_factory):
    master = server_factory()
    replica = server_factory("--replica-lazy-flush", "yes")
    with master.raw() as m, replica.raw() as r:
        m.command("SET", "from-master", "1")
        r.command("MSET", *[v for i in range(10) for v in (f"old{i}", "v")])
        assert r.command("REPLICAOF", "127.0.0.1", str(master.port)) == "OK"
        wait_for(lambda: r.command("GET", "from-master") == b"1", "replica synced")
        wait_lazyfreed(r, 10)
        assert r.command("EXISTS", "old0") == 0
        r.command("REPLICAOF", "NO", "ONE")
