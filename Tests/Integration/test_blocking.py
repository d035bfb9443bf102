"""Blocking list commands: BLPOP/BRPOP/BLMOVE/BRPOPLPUSH/BLMPOP, FIFO service, wake-ups by any
write that makes the key ready (pushes, MULTI/EXEC, RENAME), fractional timeouts, CLIENT UNBLOCK,
disconnects. Runs against cairn-server and, with --against-redis, real Redis 7.0. Tests never
assert timing: they wait for a state with a generous cap."""
import time

from resp import Error, encode


def wait_blocked(q, n, cap=10.0):
    """Polls INFO until `n` clients are blocked."""
    deadline = time.time() + cap
    while time.time() < deadline:
        info = q.command("INFO", "clients").decode()
        if f"blocked_clients:{n}\r\n" in info:
            return
        time.sleep(0.02)
    raise AssertionError(f"never saw {n} blocked clients")


def test_blpop_served_immediately_and_after_push(server):
    with server.raw() as a, server.raw() as q:
        q.command("RPUSH", "l", "x")
        assert a.command("BLPOP", "none", "l", "0") == [b"l", b"x"]
        a.send(encode("BLPOP", "l", "l2", "0"))
        wait_blocked(q, 1)
        assert q.command("RPUSH", "l2", "y", "z") == 2
        assert a.read_reply() == [b"l2", b"y"]
        assert q.command("LRANGE", "l2", "0", "-1") == [b"z"]


def test_fifo_among_blocked_clients(server):
    clients = [server.raw() for _ in range(3)]
    try:
        with server.raw() as q:
            for i, c in enumerate(clients):
                c.send(encode("BRPOP", "fifo", "0"))
                wait_blocked(q, i + 1)
            q.command("LPUSH", "fifo", "1", "2", "3")   # list is 3 2 1; BRPOP takes 1 first
            assert [c.read_reply() for c in clients] == [[b"fifo", b"1"], [b"fifo", b"2"], [b"fifo", b"3"]]
            assert q.command("EXISTS", "fifo") == 0
    finally:
        for c in clients:
            c.close()


def test_fractional_timeout_and_errors(server):
    with server.raw() as a:
        start = time.time()
        assert a.command("BLPOP", "nothing", "0.05") is None            # null array
        assert time.time() - start < 5
        assert a.command("BLMOVE", "nothing", "d", "LEFT", "RIGHT", "0.05") is None
        assert a.command("BLPOP", "k", "-1") == Error("ERR timeout is negative")
        assert a.command("BLPOP", "k", "abc") == Error("ERR timeout is not a float or out of range")
        a.command("SET", "s", "v")
        assert a.command("BLPOP", "s", "0") == Error("WRONGTYPE Operation against a key holding the wrong kind of value")


def test_blmove_and_brpoplpush(server):
    with server.raw() as a, server.raw() as q:
        a.send(encode("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"))
        wait_blocked(q, 1)
        q.command("RPUSH", "src", "a", "b")
        assert a.read_reply() == b"b"
        assert q.command("LRANGE", "dst", "0", "-1") == [b"b"]
        assert a.command("BRPOPLPUSH", "src", "dst", "0") == b"a"
        assert q.command("LRANGE", "dst", "0", "-1") == [b"a", b"b"]


def test_blmpop(server):
    with server.raw() as a, server.raw() as q:
        a.send(encode("BLMPOP", "0", "2", "m1", "m2", "LEFT", "COUNT", "2"))
        wait_blocked(q, 1)
        q.command("RPUSH", "m2", "1", "2", "3")
        assert a.read_reply() == [b"m2", [b"1", b"2"]]
        assert a.command("BLMPOP", "0.01", "1", "empty", "RIGHT") is None


def test_inside_multi_blocking_commands_do_not_block(server):
    with server.raw() as a:
        a.command("MULTI")
        a.command("BLPOP", "nothing", "0")
        a.command("BLMOVE", "nothing", "d", "LEFT", "LEFT", "0")
        assert a.command("EXEC") == [None, None]


def test_wakeup_by_exec_and_rename(server):
    with server.raw() as a, server.raw() as q:
        a.send(encode("BLPOP", "t", "0"))
        wait_blocked(q, 1)
        q.command("MULTI")
        q.command("RPUSH", "t", "1")
        q.command("RPUSH", "t", "2")
        assert q.command("EXEC") == [1, 2]
        assert a.read_reply() == [b"t", b"1"]
        a.send(encode("BLPOP", "renamed", "0"))
        wait_blocked(q, 1)
        q.command("RPUSH", "tmp", "v")
        q.command("RENAME", "tmp", "renamed")
        assert a.read_reply() == [b"renamed", b"v"]


def test_client_unblock(server):
    with server.raw() as a, server.raw() as q:
        my_id = a.command("CLIENT", "ID")
        a.send(encode("BLPOP", "never", "0"))
        wait_blocked(q, 1)
        assert q.command("CLIENT", "UNBLOCK", str(my_id)) == 1
        assert a.read_reply() is None
        a.send(encode("BLPOP", "never", "0"))
        wait_blocked(q, 1)
        assert q.command("CLIENT", "UNBLOCK", str(my_id), "ERROR") == 1
        assert a.read_reply() == Error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
        assert q.command("CLIENT", "UNBLOCK", str(my_id)) == 0
        assert q.command("CLIENT", "UNBLOCK", str(my_id), "FOO") == Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")


def test_blocked_client_disconnect_leaves_others_unaffected(server):
    with server.raw() as b, server.raw() as q:
        a = server.raw()
        a.send(encode("BLPOP", "d", "0"))
        wait_blocked(q, 1)
        b.send(encode("BLPOP", "d", "0"))
        wait_blocked(q, 2)
        a.close()
        wait_blocked(q, 1)
        q.command("RPUSH", "d", "only")
        assert b.read_reply() == [b"d", b"only"]


def test_blocked_client_queues_later_requests(server):
    with server.raw() as a, server.raw() as q:
        a.send(encode("BLPOP", "w", "0") + encode("PING") + encode("GET", "k"))
        wait_blocked(q, 1)
        q.command("SET", "k", "v")
        q.command("RPUSH", "w", "x")
        assert a.read_reply() == [b"w", b"x"]
        assert a.read_reply() == "PONG"
        assert a.read_reply() == b"v"


def test_bzpopmin_bzpopmax_bzmpop(server):
    with server.raw() as a, server.raw() as q:
        q.command("ZADD", "z", "1", "one", "2", "two", "3", "three")
        assert a.command("BZPOPMIN", "none", "z", "0") == [b"z", b"one", b"1"]
        assert a.command("BZPOPMAX", "z", "0") == [b"z", b"three", b"3"]
        a.send(encode("BZPOPMIN", "zz", "0"))
        wait_blocked(q, 1)
        q.command("ZADD", "zz", "5.5", "m")
        assert a.read_reply() == [b"zz", b"m", b"5.5"]
        a.send(encode("BZMPOP", "0", "2", "e1", "e2", "MAX", "COUNT", "5"))
        wait_blocked(q, 1)
        q.command("ZADD", "e2", "1", "x", "2", "y")
        assert a.read_reply() == [b"e2", [[b"y", b"2"], [b"x", b"1"]]]
        assert a.command("BZPOPMIN", "nothing", "0.01") is None
        q.command("SET", "str", "v")
        assert a.command("BZPOPMAX", "str", "0") == Error("WRONGTYPE Operation against a key holding the wrong kind of value")


def test_list_waiter_not_served_by_a_zset(server):
    """A client waiting for a list is not woken by a sorted set appearing under its key."""
    with server.raw() as a, server.raw() as q:
        a.send(encode("BLPOP", "k", "0"))
        wait_blocked(q, 1)
        q.command("ZADD", "k", "1", "m")
        time_ok = q.command("PING")
        assert time_ok == "PONG"
        q.command("DEL", "k")
        q.command("RPUSH", "k", "v")
        assert a.read_reply() == [b"k", b"v"]
