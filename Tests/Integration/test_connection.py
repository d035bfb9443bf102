"""Connection and database commands: PING, ECHO, TIME, SELECT, SWAPDB, FLUSHDB, FLUSHALL, HELLO
(RESP2/RESP3), AUTH with requirepass, RESET."""

import time

from resp import Error, encode

OUT_OF_RANGE = Error("ERR DB index is out of range")


def test_ping_echo(raw):
    assert raw.raw(encode("PING")) == b"+PONG\r\n"
    assert raw.raw(encode("PING", "hello")) == b"$5\r\nhello\r\n"
    assert raw.command("PING", "a", "b") == Error("ERR wrong number of arguments for 'ping' command")
    assert raw.command("ECHO", b"\x00\r\n") == b"\x00\r\n"
    assert raw.command("ECHO") == Error("ERR wrong number of arguments for 'echo' command")


def test_time(raw):
    secs, micros = raw.command("TIME")
    assert abs(int(secs) - time.time()) < 60
    assert 0 <= int(micros) < 1_000_000


def test_select(raw):
    raw.command("SET", "k", "db0")
    assert raw.command("SELECT", "1") == "OK"
    assert raw.command("GET", "k") is None
    raw.command("SET", "k", "db1")
    assert raw.command("SELECT", "15") == "OK"
    assert raw.command("DBSIZE") == 0
    assert raw.command("SELECT", "0") == "OK"
    assert raw.command("GET", "k") == b"db0"
    assert raw.command("SELECT", "16") == OUT_OF_RANGE
    assert raw.command("SELECT", "-1") == OUT_OF_RANGE
    assert raw.command("SELECT", "abc") == Error("ERR value is not an integer or out of range")
    assert raw.command("SELECT", "99999999999") == \
        Error("ERR value is out of range, value must between -2147483648 and 2147483647")


def test_databases_directive(server_factory):
    s = server_factory("--databases", "4")
    with s.raw() as c:
        assert c.command("SELECT", "3") == "OK"
        assert c.command("SELECT", "4") == OUT_OF_RANGE


def test_swapdb(raw, server):
    raw.command("SET", "k", "db0")
    raw.command("SELECT", "1")
    raw.command("SET", "k", "db1")
    raw.command("SET", "only1", "x", "EX", "100")
    # Another client sitting on db 0 sees the swapped data at once.
    with server.raw() as other:
        assert other.command("SWAPDB", "0", "1") == "OK"
        assert other.command("GET", "k") == b"db1"
        assert 0 < other.command("TTL", "only1") <= 100
    assert raw.command("GET", "k") == b"db0"
    assert raw.command("SWAPDB", "0", "0") == "OK"
    assert raw.command("SWAPDB", "0", "16") == OUT_OF_RANGE
    assert raw.command("SWAPDB", "a", "1") == Error("ERR invalid first DB index")
    assert raw.command("SWAPDB", "0", "b") == Error("ERR invalid second DB index")
    assert raw.command("SWAPDB", "0") == Error("ERR wrong number of arguments for 'swapdb' command")


def test_flushdb_flushall(raw):
    raw.command("SET", "a", "1")
    raw.command("SELECT", "2")
    raw.command("SET", "b", "2")
    assert raw.command("FLUSHDB") == "OK"
    assert raw.command("DBSIZE") == 0
    raw.command("SET", "b", "2")
    raw.command("SELECT", "0")
    assert raw.command("DBSIZE") == 1
    assert raw.command("FLUSHALL") == "OK"
    assert raw.command("DBSIZE") == 0
    raw.command("SELECT", "2")
    assert raw.command("DBSIZE") == 0
    assert raw.command("FLUSHALL", "ASYNC") == "OK"
    assert raw.command("FLUSHALL", "SYNC") == "OK"
    assert raw.command("FLUSHDB", "ASYNC") == "OK"
    assert raw.command("FLUSHALL", "FOO") == Error("ERR syntax error")
    assert raw.command("FLUSHDB", "SYNC", "ASYNC") == Error("ERR syntax error")


# -- HELLO and RESP3


def test_hello_2(raw):
    reply = raw.command("HELLO", "2")
    assert isinstance(reply, list)
    fields = dict(zip(reply[0::2], reply[1::2]))
    assert fields[b"server"] == b"redis"
    assert fields[b"proto"] == 2
    assert fields[b"mode"] == b"standalone"
    assert fields[b"role"] == b"master"
    assert isinstance(fields[b"id"], int)
    assert fields[b"version"].count(b".") == 2
    assert fields[b"modules"] == []
    assert list(reply[0::2]) == [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]


def test_hello_3_reply_types(raw):
    hello_bytes = raw.raw(encode("HELLO", "3"))
    assert hello_bytes.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n")
    assert b"$5\r\nproto\r\n:3\r\n" in hello_bytes
    assert hello_bytes.endswith(b"$7\r\nmodules\r\n*0\r\n")
    # RESP3 null, and a map for CONFIG GET
    assert raw.raw(encode("GET", "missing")) == b"_\r\n"
    assert raw.raw(encode("CONFIG", "GET", "maxclients")) == b"%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    assert raw.raw(encode("MGET", "missing")) == b"*1\r\n_\r\n"
    assert raw.raw(encode("SET", "k", "v")) == b"+OK\r\n"
    assert raw.raw(encode("EXISTS", "k")) == b":1\r\n"
    # Back to RESP2: null bulk again.
    assert isinstance(raw.command("HELLO", "2"), list)
    assert raw.raw(encode("GET", "missing")) == b"$-1\r\n"


def test_hello_errors(raw):
    assert raw.command("HELLO", "4") == Error("NOPROTO unsupported protocol version")
    assert raw.command("HELLO", "1") == Error("NOPROTO unsupported protocol version")
    assert raw.command("HELLO", "x") == Error("ERR Protocol version is not an integer or out of range")
    assert raw.command("HELLO", "3", "FOO") == Error("ERR Syntax error in HELLO option 'FOO'")
    # Without arguments HELLO reports the current protocol, 2 here.
    reply = raw.command("HELLO")
    assert dict(zip(reply[0::2], reply[1::2]))[b"proto"] == 2


def test_hello_setname(raw):
    raw.command("HELLO", "2", "SETNAME", "myname")
    assert raw.command("CLIENT", "GETNAME") == b"myname"


def test_redis_py_resp3(r3):
    assert r3.connection_pool.connection_kwargs["protocol"] == 3
    assert r3.set("k", "v") is True
    assert r3.get("k") == b"v"
    assert r3.get("missing") is None
    hello = r3.execute_command("HELLO", 3)
    assert isinstance(hello, dict) and hello[b"proto"] == 3
    # redis-py decodes CONFIG GET's RESP3 map itself; normalise to text either way.
    config = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
              for k, v in r3.config_get("maxclients").items()}
    assert config == {"maxclients": "10000"}
    assert r3.mget("k", "missing") == [b"v", None]
    assert r3.incrbyfloat("f", 1.5) == 1.5
    assert r3.ttl("k") == -1


# -- AUTH / requirepass / RESET


def test_auth_without_password_configured(raw):
    assert raw.command("AUTH", "x") == Error(
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?")
    # The default user has `nopass`: any password is accepted for it by name.
    assert raw.command("AUTH", "default", "x") == "OK"
    assert raw.command("AUTH", "nobody", "x") == \
        Error("WRONGPASS invalid username-password pair or user is disabled.")


def test_requirepass(server_factory):
    s = server_factory("--requirepass", "s3cret")
    with s.raw() as c:
        assert c.command("GET", "k") == Error("NOAUTH Authentication required.")
        assert c.command("PING") == Error("NOAUTH Authentication required.")
        assert c.command("AUTH", "wrong") == \
            Error("WRONGPASS invalid username-password pair or user is disabled.")
        assert c.command("AUTH", "s3cret") == "OK"
        assert c.command("SET", "k", "v") == "OK"
    with s.raw() as c:
        assert c.command("AUTH", "default", "s3cret") == "OK"
        assert c.command("GET", "k") == b"v"
    with s.raw() as c:
        hello = c.command("HELLO", "3", "AUTH", "default", "s3cret")
        assert hello[b"proto"] == 3
        assert c.command("GET", "k") == b"v"
    with s.raw() as c:
        assert c.command("HELLO", "3", "AUTH", "default", "bad") == \
            Error("WRONGPASS invalid username-password pair or user is disabled.")
        assert c.command("HELLO", "3") == \
            Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                  "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
                  "select the RESP protocol version at the same time")
    r = s.client(password="s3cret")
    assert r.get("k") == b"v"
    r.close()


def test_unauthenticated_request_limits(server_factory):
    s = server_factory("--requirepass", "s3cret")
    with s.raw() as c:
        c.send(encode(*(["MGET"] + ["k"] * 10)))
        assert c.read_raw_reply() == b"-ERR Protocol error: unauthenticated multibulk length\r\n"
        assert c.is_closed()
    with s.raw() as c:
        c.send(b"*2\r\n$4\r\nAUTH\r\n$16385\r\n")
        assert c.read_raw_reply() == b"-ERR Protocol error: unauthenticated bulk length\r\n"
        assert c.is_closed()
    with s.raw() as c:
        # Just below both limits: 10 elements, 16 KiB bulk -- refused only for the password.
        assert c.command(*(["MGET"] + ["k"] * 9)) == Error("NOAUTH Authentication required.")
        assert c.command("AUTH", "x" * 16384) == \
            Error("WRONGPASS invalid username-password pair or user is disabled.")
        assert c.command("AUTH", "s3cret") == "OK"
        assert c.command("MSET", *(["k", "v"] * 20)) == "OK"


def test_reset(server):
    with server.raw() as c:
        c.command("SELECT", "3")
        c.command("CLIENT", "SETNAME", "before")
        c.command("HELLO", "3")
        assert c.raw(encode("RESET")) == b"+RESET\r\n"
        assert c.command("CLIENT", "GETNAME") is None
        assert c.raw(encode("GET", "missing")) == b"$-1\r\n"  # back to RESP2
        c.command("SET", "where", "x")
    with server.raw() as c:
        assert c.command("GET", "where") == b"x"  # RESET selected db 0


def test_reset_deauthenticates(server_factory):
    s = server_factory("--requirepass", "pw")
    with s.raw() as c:
        assert c.command("AUTH", "pw") == "OK"
        assert c.command("RESET") == "RESET"
        assert c.command("GET", "k") == Error("NOAUTH Authentication required.")
