"""redis-cli as a client (arguments, stdin, --pipe, --scan, RESP3), and the process lifecycle:
start-up log, SHUTDOWN and SIGTERM end the process with exit status 0."""

import signal

import pytest

from resp import ConnectionClosed, Error, encode
from serverproc import ServerProcess


# -- redis-cli


def test_cli_arguments(server):
    assert server.cli("SET", "k", "hello world").stdout == b"OK\n"
    assert server.cli("GET", "k").stdout == b"hello world\n"
    assert server.cli("--no-raw", "GET", "missing").stdout == b"(nil)\n"
    assert server.cli("INCR", "n").stdout == b"1\n"
    assert server.cli("--no-raw", "INCR", "n").stdout == b"(integer) 2\n"
    assert server.cli("MGET", "k", "missing", "n").stdout == b"hello world\n\n2\n"
    assert server.cli("foo", "a").stdout == b"ERR unknown command 'foo', with args beginning with: 'a' \n\n"
    assert server.cli("-n", "2", "SET", "indb2", "x").stdout == b"OK\n"
    assert server.cli("-n", "2", "DBSIZE").stdout == b"1\n"


def test_cli_commands_from_stdin(server):
    out = server.cli(input=b"SET a 1\nINCR a\nGET a\nAPPEND a \"x y\"\nGET a\n").stdout
    assert out == b"OK\n2\n2\n4\n2x y\n"


def test_cli_resp3(server):
    out = server.cli("-3", "HELLO", "3").stdout.decode().splitlines()
    assert out[0] == "server redis"
    assert "proto 3" in out
    assert server.cli("-3", "--no-raw", "GET", "missing").stdout == b"(nil)\n"
    assert server.cli("-3", "CONFIG", "GET", "maxclients").stdout == b"maxclients 10000\n"


def test_cli_pipe_mode(server):
    n = 10000
    payload = b"".join(encode("SET", f"pipe:{i}", f"value-{i}") for i in range(n))
    payload += b"".join(encode("INCR", "counter") for _ in range(n))
    p = server.cli("--pipe", input=payload, timeout=120)
    text = p.stdout.decode() + p.stderr.decode()
    assert f"errors: 0, replies: {2 * n}" in text, text
    assert server.cli("DBSIZE").stdout == f"{n + 1}\n".encode()
    assert server.cli("GET", "counter").stdout == f"{n}\n".encode()
    assert server.cli("GET", "pipe:1234").stdout == b"value-1234\n"


def test_cli_pipe_mode_counts_errors(server):
    payload = encode("SET", "k", "v") + encode("INCR", "k") + encode("NOSUCH") + encode("GET", "k")
    p = server.cli("--pipe", input=payload, timeout=60, check=False)
    assert "errors: 2, replies: 4" in p.stdout.decode() + p.stderr.decode()


def test_cli_scan(server):
    r = server.client()
    r.mset({f"user:{i}": i for i in range(300)})
    r.mset({f"other:{i}": i for i in range(50)})
    out = server.cli("--scan", "--pattern", "user:*").stdout.decode().split()
    assert sorted(out) == sorted(f"user:{i}" for i in range(300))
    r.close()


def test_cli_info_and_ping(server):
    assert server.cli("PING").stdout == b"PONG\n"
    out = server.cli("INFO", "server").stdout.decode()
    assert f"tcp_port:{server.port}" in out


# -- lifecycle


def test_startup_log(server_factory):
    s = server_factory()
    assert "Ready to accept connections" in s.log()


def test_shutdown_command_exits_zero(server_factory):
    s = server_factory()
    with s.raw() as c:
        c.command("SET", "k", "v")
        c.send(encode("SHUTDOWN"))
        with pytest.raises(ConnectionClosed):
            c.read_reply()  # no reply: the connection just closes
    assert s.wait_exit(timeout=30) == 0


def test_shutdown_nosave_exits_zero(server_factory):
    s = server_factory()
    with s.raw() as c:
        c.send(encode("SHUTDOWN", "NOSAVE"))
        assert c.is_closed()
    assert s.wait_exit(timeout=30) == 0


def test_shutdown_errors(raw):
    assert raw.command("SHUTDOWN", "ABORT") == Error("ERR No shutdown in progress.")
    assert raw.command("SHUTDOWN", "BOGUS") == Error("ERR syntax error")
    assert raw.command("PING") == "PONG"


def test_sigterm_exits_zero(server_factory):
    s = server_factory()
    clients = [s.raw() for _ in range(5)]
    for c in clients:
        assert c.command("PING") == "PONG"
    s.signal(signal.SIGTERM)
    assert s.wait_exit(timeout=30) == 0
    for c in clients:
        assert c.is_closed(timeout=10)
        c.close()
    assert "Ready to accept connections" in s.log()


def test_sigint_exits_zero(server_factory):
    s = server_factory()
    s.signal(signal.SIGINT)
    assert s.wait_exit(timeout=30) == 0


def test_port_in_use_fails(server, _tmp_root):
    # The shared server's port is taken: binding must fail and the process exit with status 1.
    p = ServerProcess(server.kind, _tmp_root, [])
    p.port = server.port
    assert p.run_to_exit(timeout=30) == 1
    with server.raw() as c:
        assert c.command("PING") == "PONG"
