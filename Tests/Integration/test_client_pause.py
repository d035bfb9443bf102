"""CLIENT PAUSE / UNPAUSE, run against cairn-server and a real redis-server 7.0 side by side
(whatever --against-redis/--both select): the same sequence must give the same replies.

A paused command is not answered until the pause ends; the tests see it parked through the
server's own state (`b` in CLIENT LIST, INFO blocked_clients), never through elapsed time, and
every wait polls a condition with a deadline."""


import pytest

from resp import RawConnection, encode
from serverproc import ServerKind, ServerProcess, require, wait_for




@pytest.fixture(params=["cairn", "redis"])
def paused_server(request, _tmp_root):
    s = ServerProcess(require(request.param), _tmp_root, [])
    s.start()
    yield s
    s.stop()



def blocked_clients(raw):
    text = raw.command("INFO", "clients").decode()
    return int(dict(l.split(":", 1) for l in text.splitlines() if ":" in l)["blocked_clients"])


def parked(raw, name):
    """Whether the client named `name` is parked (flag b in CLIENT LIST)."""
    for line in raw.command("CLIENT", "LIST").decode().splitlines():
        fields = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
        if fields.get("name") == name:
            return "b" in fields["flags"]
    return False


def named(port, name):
    c = RawConnection(port)
    assert c.command("CLIENT", "SETNAME", name) == "OK"
    return c


def test_pause_write_postpones_writes_and_serves_reads(paused_server):
    port = paused_server.port
    with RawConnection(port) as admin, named(port, "writer") as writer, named(port, "pub") as pub:
        assert admin.command("SET", "k", "before") == "OK"
        assert admin.command("CLIENT", "PAUSE", 100000, "WRITE") == "OK"
        assert writer.command("GET", "k") == b"before"  # reads run
        writer.send(encode("SET", "k", "during") + encode("GET", "k"))
        pub.send(encode("PUBLISH", "ch", "m"))  # may replicate: paused too
        wait_for(lambda: parked(admin, "writer") and parked(admin, "pub"), "the writes parked")
        assert blocked_clients(admin) == 2
        assert admin.command("GET", "k") == b"before"  # nothing ran meanwhile
        assert admin.command("CLIENT", "UNPAUSE") == "OK"
        assert writer.read_reply() == "OK"
        assert writer.read_reply() == b"during"  # the pipelined read after it, in order
        assert pub.read_reply() == 0
        wait_for(lambda: blocked_clients(admin) == 0, "nobody parked")


def test_pause_write_in_a_transaction_and_expired_keys_stay(paused_server):
    port = paused_server.port
    with RawConnection(port) as admin, named(port, "tx") as tx:
        assert admin.command("SET", "short", "v", "PX", 1) == "OK"
        assert admin.command("SET", "long", "v") == "OK"
        assert tx.command("MULTI") == "OK"
        assert admin.command("CLIENT", "PAUSE", 100000, "WRITE") == "OK"
        tx.send(encode("SET", "long", "w"))  # queuing a write waits as well (Redis's order)
        wait_for(lambda: parked(admin, "tx"), "the queued write parked")
        # The key whose time ran out reads as gone but is not deleted while paused.
        wait_for(lambda: admin.command("GET", "short") is None, "the short key to read as expired")
        assert admin.command("DBSIZE") == 2
        assert admin.command("CLIENT", "UNPAUSE") == "OK"
        assert tx.read_reply() == "QUEUED"
        assert tx.command("EXEC") == ["OK"]
        assert admin.command("GET", "long") == b"w"
        assert admin.command("GET", "short") is None
        assert admin.command("DBSIZE") == 1  # deleted on access once unpaused


def test_pause_all_holds_every_command_until_it_ends(paused_server):
    port = paused_server.port
    with RawConnection(port) as admin, RawConnection(port) as other:
        assert admin.command("SET", "k", "v") == "OK"
        assert admin.command("CLIENT", "PAUSE", 300, "ALL") == "OK"
        # Even UNPAUSE waits (Redis 7.0 exempts no command from an ALL pause): each reply comes
        # once the 300 ms are over, in order.
        other.send(encode("GET", "k"))
        admin.send(encode("CLIENT", "UNPAUSE"))
        assert other.read_reply() == b"v"
        assert admin.read_reply() == "OK"
        assert admin.command("CLIENT", "PAUSE", 0) == "OK"  # an end already past: no pause
        assert admin.command("PING") == "PONG"


def test_pause_errors(paused_server):
    with RawConnection(paused_server.port) as c:
        assert str(c.command("CLIENT", "PAUSE", "abc")) == "ERR timeout is not an integer or out of range"
        assert str(c.command("CLIENT", "PAUSE", -1)) == "ERR timeout is negative"
        assert str(c.command("CLIENT", "PAUSE", 10, "foo")) == "ERR CLIENT PAUSE mode must be WRITE or ALL"
        assert str(c.command("CLIENT", "PAUSE", 10, "write", "x")) == \
            "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP."
        assert str(c.command("CLIENT", "PAUSE")) == "ERR wrong number of arguments for 'client|pause' command"
        assert c.command("CLIENT", "UNPAUSE") == "OK"  # no pause: still OK
