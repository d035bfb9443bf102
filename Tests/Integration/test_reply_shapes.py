"""Reply bytes client libraries' own test suites rely on, compared with what Redis 7.0.15 sends
(captured from a real redis-server; `--both` checks it too): DEBUG PROTOCOL's sample of every
RESP type in RESP2 and RESP3, DEBUG ERROR, and PUBSUB NUMSUB / SHARDNUMSUB, which stay flat
arrays under HELLO 3."""

import socket
import time

import pytest

# What Redis 7.0.15 answers, per protocol version.
PROTOCOL_SAMPLES = {
    "string": (b"$11\r\nHello World\r\n", b"$11\r\nHello World\r\n"),
    "integer": (b":12345\r\n", b":12345\r\n"),
    "double": (b"$5\r\n3.141\r\n", b",3.141\r\n"),
    "bignum": (b"$37\r\n1234567999999999999999999999999999999\r\n", b"(1234567999999999999999999999999999999\r\n"),
    "null": (b"$-1\r\n", b"_\r\n"),
    "array": (b"*3\r\n:0\r\n:1\r\n:2\r\n", b"*3\r\n:0\r\n:1\r\n:2\r\n"),
    "set": (b"*3\r\n:0\r\n:1\r\n:2\r\n", b"~3\r\n:0\r\n:1\r\n:2\r\n"),
    "map": (b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n", b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"),
    "attrib": (b"$39\r\nSome real reply following the attribute\r\n",
               b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n"),
    "push": (b"-ERR RESP2 is not supported by this command\r\n",
             b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n"),
    "verbatim": (b"$25\r\nThis is a verbatim\nstring\r\n", b"=29\r\ntxt:This is a verbatim\nstring\r\n"),
    "true": (b":1\r\n", b"#t\r\n"),
    "false": (b":0\r\n", b"#f\r\n"),
}


def exchange(port, commands, protocol):
    """Sends each command on one connection (after HELLO `protocol`) and returns each reply's bytes
    (read until the connection has been quiet for a moment after the expected prefix)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        def send(*args):
            s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))

        def read_until(expected):
            data = b""
            deadline = time.monotonic() + 5
            while len(data) < len(expected) and time.monotonic() < deadline:
                data += s.recv(65536)
            return data

        send(b"HELLO", str(protocol).encode())
        hello = b""
        deadline = time.monotonic() + 5
        while b"modules" not in hello and time.monotonic() < deadline:
            hello += s.recv(65536)
        s.settimeout(0.2)
        out = []
        for args, expected in commands:
            send(*args)
            reply = read_until(expected)
            try:
                reply += s.recv(65536)  # anything beyond the expected bytes is a difference
            except socket.timeout:
                pass
            out.append(reply)
        return out
    finally:
        s.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_debug_protocol_samples_and_debug_error(server_factory, protocol):
    s = server_factory("--enable-debug-command", "yes")
    cases = [((b"DEBUG", b"PROTOCOL", name.encode()), want[protocol - 2]) for name, want in PROTOCOL_SAMPLES.items()]
    cases.append(((b"DEBUG", b"PROTOCOL", b"nope"),
                  b"-ERR Wrong protocol type name. Please use one of the following: "
                  b"string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false\r\n"))
    cases.append(((b"DEBUG", b"ERROR", b"MYERR something went\nwrong"), b"-MYERR something went wrong\r\n"))
    replies = exchange(s.port, cases, protocol)
    for (args, want), got in zip(cases, replies):
        assert got == want, (args, got)


@pytest.mark.parametrize("protocol", [2, 3])
def test_pubsub_numsub_is_a_flat_array_in_both_protocols(server_factory, protocol):
    s = server_factory()
    cases = [((b"PUBSUB", b"NUMSUB", b"a", b"b"), b"*4\r\n$1\r\na\r\n:0\r\n$1\r\nb\r\n:0\r\n"),
             ((b"PUBSUB", b"SHARDNUMSUB", b"a"), b"*2\r\n$1\r\na\r\n:0\r\n"),
             ((b"PUBSUB", b"NUMSUB"), b"*0\r\n")]
    for (args, want), got in zip(cases, exchange(s.port, cases, protocol)):
        assert got == want, (args, got)


def test_debug_change_repl_id_and_stringmatch_test(server_factory):
    """DEBUG CHANGE-REPL-ID gives a new replication id and forgets the second one (replication
    tests of client libraries use it); DEBUG STRINGMATCH-TEST fuzzes the glob matcher."""
    s = server_factory("--enable-debug-command", "yes")
    with s.raw() as c:
        def replication():
            text = c.command("INFO", "replication").decode()
            return dict(l.split(":", 1) for l in text.split("\r\n") if ":" in l)
        before = replication()
        assert c.command("DEBUG", "CHANGE-REPL-ID") == "OK"
        after = replication()
        assert after["master_replid"] != before["master_replid"] and len(after["master_replid"]) == 40
        assert after["master_replid2"] == "0" * 40 and after["second_repl_offset"] == "-1"
        assert c.command("DEBUG", "STRINGMATCH-TEST") == "Apparently Redis did not crash: test passed"
        help_lines = [x.decode() if isinstance(x, bytes) else x for x in c.command("DEBUG", "HELP")]
        for name in ("CHANGE-REPL-ID", "STRINGMATCH-TEST", "PROTOCOL <type>", "ERROR <string>"):
            assert name in help_lines
