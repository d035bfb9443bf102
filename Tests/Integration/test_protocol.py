"""The wire protocol over raw sockets: inline commands, pipelining, binary safety, malformed input
and the request-size limits, each compared with Redis 7.0 byte for byte."""

import socket
import threading

import pytest

from resp import ConnectionClosed, Error, encode

INLINE_MAX = 64 * 1024  # PROTO_INLINE_MAX_SIZE


def assert_still_serving(server):
    with server.raw() as c:
        assert c.command("PING") == "PONG"
        assert c.command("SET", "alive", "yes") == "OK"
        assert c.command("GET", "alive") == b"yes"


# -- inline commands


def test_inline_commands(server):
    with server.raw() as c:
        assert c.raw(b"PING\r\n") == b"+PONG\r\n"
        assert c.raw(b"SET k hello\r\n") == b"+OK\r\n"
        assert c.raw(b"GET k\n") == b"$5\r\nhello\r\n"  # a bare LF ends an inline line too
        assert c.raw(b"  GET   k  \r\n") == b"$5\r\nhello\r\n"
        assert c.raw(b'SET k "a b\\x41\\n"\r\n') == b"+OK\r\n"
        assert c.command("GET", "k") == b"a bA\n"
        assert c.raw(b"SET k 'single \"quoted\"'\r\n") == b"+OK\r\n"
        assert c.command("GET", "k") == b'single "quoted"'
        # Empty lines are skipped without a reply.
        assert c.raw(b"\r\n\r\n\nPING\r\n") == b"+PONG\r\n"
        assert c.raw(b"ping hi\r\n") == b"$2\r\nhi\r\n"


def test_inline_pipelined_with_multibulk(server):
    with server.raw() as c:
        c.send(b"SET a 1\r\n" + encode("INCR", "a") + b"GET a\r\n")
        assert c.read_reply() == "OK"
        assert c.read_reply() == 2
        assert c.read_reply() == b"2"


def test_inline_unbalanced_quotes(server):
    with server.raw() as c:
        assert c.raw(b'SET k "foo bar\r\n') == b"-ERR Protocol error: unbalanced quotes in request\r\n"
        assert c.is_closed()
    with server.raw() as c:
        assert c.raw(b"GET 'k\r\n") == b"-ERR Protocol error: unbalanced quotes in request\r\n"
        assert c.is_closed()
    assert_still_serving(server)


def test_inline_too_big(server):
    with server.raw() as c:
        c.send(b"a" * (INLINE_MAX + 4096))
        assert c.read_raw_reply() == b"-ERR Protocol error: too big inline request\r\n"
        assert c.is_closed()
    assert_still_serving(server)


def test_inline_just_below_limit(server):
    value = b"v" * (INLINE_MAX - 100)
    with server.raw() as c:
        assert c.raw(b"SET k " + value + b"\r\n") == b"+OK\r\n"
        assert c.command("STRLEN", "k") == len(value)


# -- malformed multibulk requests


@pytest.mark.parametrize("request_bytes,message", [
    (b"*1\r\n$2147483648\r\n", "invalid bulk length"),
    (b"*1\r\n$-1\r\n", "invalid bulk length"),
    (b"*1\r\n$abc\r\n", "invalid bulk length"),
    (b"*abc\r\n", "invalid multibulk length"),
    (b"*3000000000\r\n", "invalid multibulk length"),
    (b"*1\r\nfoo\r\n", "expected '$', got 'f'"),
    (b"*2\r\n$3\r\nGET\r\n:1\r\n", "expected '$', got ':'"),
])
def test_malformed_multibulk(server, request_bytes, message):
    with server.raw() as c:
        assert c.raw(request_bytes) == f"-ERR Protocol error: {message}\r\n".encode()
        assert c.is_closed()
    assert_still_serving(server)


def test_replies_before_a_protocol_error_are_sent(server):
    with server.raw() as c:
        c.send(encode("SET", "k", "v") + encode("GET", "k") + b"*x\r\n" + encode("PING"))
        assert c.read_reply() == "OK"
        assert c.read_reply() == b"v"
        assert c.read_reply() == Error("ERR Protocol error: invalid multibulk length")
        assert c.is_closed()


def test_multibulk_header_too_big(server):
    with server.raw() as c:
        c.send(b"*" + b"1" * (INLINE_MAX + 10))
        assert c.read_raw_reply() == b"-ERR Protocol error: too big mbulk count string\r\n"
        assert c.is_closed()
    with server.raw() as c:
        c.send(b"*1\r\n$" + b"1" * (INLINE_MAX + 10))
        assert c.read_raw_reply() == b"-ERR Protocol error: too big bulk count string\r\n"
        assert c.is_closed()
    assert_still_serving(server)


def test_empty_and_zero_multibulk(server):
    with server.raw() as c:
        # `*0` and `*-1` are empty requests: no reply, and the connection stays usable.
        c.send(b"*0\r\n*-1\r\n")
        assert c.command("PING") == "PONG"


def test_request_split_across_writes(server):
    data = encode("SET", "split", "x" * 1000) + encode("GET", "split")
    with server.raw() as c:
        for i in range(0, len(data), 7):
            c.send(data[i:i + 7])
        assert c.read_reply() == "OK"
        assert c.read_reply() == b"x" * 1000


# -- limits


def test_proto_max_bulk_len_at_limit(server_factory):
    s = server_factory("--proto-max-bulk-len", "1mb")
    limit = 1024 * 1024
    with s.raw(timeout=30) as c:
        assert c.command("CONFIG", "GET", "proto-max-bulk-len") == [b"proto-max-bulk-len", str(limit).encode()]
        assert c.command("SET", "k", b"x" * limit) == "OK"
        assert c.command("STRLEN", "k") == limit
        assert c.command("APPEND", "k", b"y") == \
            Error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        assert c.command("SETRANGE", "k", str(limit - 1), "z") == limit
        assert c.command("SETRANGE", "k", str(limit), "z") == \
            Error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    with s.raw(timeout=30) as c:
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % (limit + 1))
        assert c.read_raw_reply() == b"-ERR Protocol error: invalid bulk length\r\n"
        assert c.is_closed()
    assert_still_serving(s)


def test_large_values_roundtrip(r):
    for size in (0, 1, 1023, 1024 * 64, 1024 * 1024 + 3, 8 * 1024 * 1024):
        value = bytes(i % 251 for i in range(size))
        r.set("big", value)
        assert r.get("big") == value
        assert r.strlen("big") == size


# -- binary safety


BINARY_VALUES = [
    b"\x00", b"a\x00b", b"\r\n", b"line1\r\nline2", b"$5\r\nhello\r\n", b"*1\r\n", b"\xff\xfe\x00\x01",
    bytes(range(256)), b" leading and trailing ", b'"quoted"',
]


@pytest.mark.parametrize("value", BINARY_VALUES, ids=range(len(BINARY_VALUES)))
def test_binary_safe_values_and_keys(r, value):
    assert r.set(value, value) is True
    assert r.get(value) == value
    assert r.exists(value) == 1
    assert r.strlen(value) == len(value)
    assert r.append(value, b"\x00") == len(value) + 1
    assert r.getrange(value, 0, len(value) - 1) == value
    assert value in r.keys("*")
    assert r.delete(value) == 1


def test_binary_keys_in_scan_and_mget(r):
    keys = [b"k\x00" + bytes([i]) for i in range(32)]
    r.mset({k: k + b"\r\n" for k in keys})
    assert set(r.scan_iter(count=10)) == set(keys)
    assert r.mget(keys) == [k + b"\r\n" for k in keys]


def test_binary_reply_bytes_exact(server):
    with server.raw() as c:
        c.command("SET", b"\x00k", b"a\r\nb")
        assert c.raw(encode("GET", b"\x00k")) == b"$4\r\na\r\nb\r\n"


# -- pipelining


def _send_in_background(sock, data):
    t = threading.Thread(target=sock.sendall, args=(data,), daemon=True)
    t.start()
    return t


def test_pipeline_thousands_in_one_write(server):
    n = 20000
    batch = b"".join(encode("SET", f"p:{i}", i) + encode("INCR", f"p:{i}") + encode("GET", f"p:{i}")
                     for i in range(n))
    with server.raw(timeout=60) as c:
        sender = _send_in_background(c.sock, batch)
        for i in range(n):
            assert c.read_reply() == "OK"
            assert c.read_reply() == i + 1
            assert c.read_reply() == str(i + 1).encode()
        sender.join(timeout=60)
        assert c.command("DBSIZE") == n


def test_pipeline_mixed_replies_in_order(server):
    n = 3000
    batch = []
    for i in range(n):
        batch.append(encode("PING"))
        batch.append(encode("GET", "missing"))
        batch.append(encode("ECHO", b"x" * (i % 100)))
        batch.append(encode("NOSUCHCMD"))
    with server.raw(timeout=60) as c:
        sender = _send_in_background(c.sock, b"".join(batch))
        for i in range(n):
            assert c.read_raw_reply() == b"+PONG\r\n"
            assert c.read_raw_reply() == b"$-1\r\n"
            assert c.read_reply() == b"x" * (i % 100)
            assert c.read_reply().startswith("ERR unknown command 'NOSUCHCMD'")
        sender.join(timeout=60)


def test_redis_py_pipeline(r):
    with r.pipeline(transaction=False) as p:
        for i in range(5000):
            p.set(f"k{i}", i)
            p.get(f"k{i}")
        replies = p.execute()
    assert replies[0::2] == [True] * 5000
    assert replies[1::2] == [str(i).encode() for i in range(5000)]


def test_half_closed_client_still_gets_replies(server):
    with server.raw() as c:
        c.send(encode("SET", "k", "v") + encode("GET", "k"))
        c.sock.shutdown(socket.SHUT_WR)
        assert c.read_reply() == "OK"
        assert c.read_reply() == b"v"


def test_client_disconnect_mid_request_is_harmless(server):
    with server.raw() as c:
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\npartial")
    assert_still_serving(server)
    with server.raw() as c:
        assert c.command("EXISTS", "k") == 0


def test_quit(server):
    with server.raw() as c:
        assert c.raw(encode("QUIT")) == b"+OK\r\n"
        assert c.is_closed()
    with server.raw() as c:
        c.send(encode("QUIT") + encode("PING"))
        assert c.read_reply() == "OK"
        with pytest.raises(ConnectionClosed):
            c.read_reply()
