"""Security: ACL users and permissions, AUTH/HELLO through users, the ACL LOG, `user` lines in the
config file, client-output-buffer-limit with a slow consumer, maxclients at the limit, and the
unauthenticated request limits. Every expectation holds on real Redis 7.0 (`--against-redis`)."""

import socket
import time

import pytest

from resp import ConnectionClosed, Error, encode

WRONGPASS = Error("WRONGPASS invalid username-password pair or user is disabled.")
NOPERM_KEY = Error("NOPERM this user has no permissions to access one of the keys used as arguments")


def noperm_cmd(name):
    return Error(f"NOPERM this user has no permissions to run the '{name}' command")


@pytest.fixture
def acl(raw):
    """The raw connection, with every user but `default` removed afterwards (the server is shared)."""
    yield raw
    with_users = raw.command("ACL", "USERS")
    others = [u for u in with_users if u != b"default"]
    if others:
        raw.command("ACL", "DELUSER", *others)
    raw.command("ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "&*", "+@all")
    raw.command("ACL", "LOG", "RESET")


def log_entries(conn, *count):
    """ACL LOG as dicts, without the fields that depend on timing and the connection."""
    out = []
    for e in conn.command("ACL", "LOG", *count):
        d = dict(zip(e[::2], e[1::2]))
        assert float(d.pop(b"age-seconds")) >= 0
        info = d.pop(b"client-info").decode()
        assert info.startswith("id=") and " user=" in info
        out.append({k.decode(): (v.decode() if isinstance(v, bytes) else v) for k, v in d.items()})
    return out


# -- users and rules


def test_default_user_and_fresh_user(acl):
    assert acl.command("ACL", "LIST") == [b"user default on nopass ~* &* +@all"]
    assert acl.command("ACL", "WHOAMI") == b"default"
    assert acl.command("ACL", "SETUSER", "alice") == "OK"
    assert acl.command("ACL", "LIST") == [b"user alice off resetchannels -@all",
                                          b"user default on nopass ~* &* +@all"]
    assert acl.command("ACL", "USERS") == [b"alice", b"default"]
    assert acl.command("ACL", "GETUSER", "alice") == [
        b"flags", [b"off"], b"passwords", [], b"commands", b"-@all", b"keys", b"",
        b"channels", b"", b"selectors", []]
    assert acl.command("ACL", "GETUSER", "nosuch") is None


def test_setuser_rules_and_description(acl):
    assert acl.command("ACL", "SETUSER", "bob", "on", ">pw", "~k*", "%R~r*", "%W~w*", "+@read", "-get",
                       "&ch*") == "OK"
    assert acl.command("ACL", "GETUSER", "bob") == [
        b"flags", [b"on"],
        b"passwords", [b"30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"],
        b"commands", b"-@all +@read -get", b"keys", b"~k* %R~r* %W~w*", b"channels", b"&ch*",
        b"selectors", []]
    acl.command("ACL", "SETUSER", "p3", "+@all", "-@dangerous")
    acl.command("ACL", "SETUSER", "p4", "-@all", "+@read", "+@write")
    acl.command("ACL", "SETUSER", "p6", "+@all", "-@string", "+set")
    acl.command("ACL", "SETUSER", "p7", "nocommands", "+config", "-config|set")
    acl.command("ACL", "SETUSER", "p8", "+select|0", "+select|1", "+select")
    acl.command("ACL", "SETUSER", "y", "on", ">a", "nopass", "resetpass", ">b", ">c", "<b", "skip-sanitize-payload")
    listing = acl.command("ACL", "LIST")
    assert b"user p3 off resetchannels +@all -@dangerous" in listing
    assert b"user p4 off resetchannels -@all +@write +@read" in listing
    assert b"user p6 off resetchannels +@all -@string +set" in listing
    assert b"user p7 off resetchannels -@all +config -config|set" in listing
    assert b"user p8 off resetchannels -@all +select" in listing
    assert (b"user y on skip-sanitize-payload "
            b"#2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6 resetchannels -@all") in listing
    acl.command("ACL", "SETUSER", "y", "reset")
    assert acl.command("ACL", "GETUSER", "y")[1] == [b"off", b"sanitize-payload"]


def test_setuser_errors(acl):
    def err(rule, why):
        return Error(f"ERR Error in ACL SETUSER modifier '{rule}': {why}")
    unknown = "Unknown command or category name in ACL"
    cases = [
        ("foo", "Syntax error"), ("+nosuch", unknown), ("+@nosuch", unknown), ("-select|0", unknown),
        ("+config|nosuch", unknown), ("+get|x|y", unknown), ("%X~a", "Syntax error"), ("%~a", "Syntax error"),
        ("+config|get|z", "Allowing first-arg of a subcommand is not supported"),
        ("<nopw", "The password you are trying to remove from the user does not exist"),
        ("#abc", "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"),
    ]
    for rule, why in cases:
        assert acl.command("ACL", "SETUSER", "x", rule) == err(rule, why)
    assert acl.command("ACL", "SETUSER", "x", "allkeys", "~a") == err(
        "~a", "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any "
              "effect. Try 'resetkeys' to start with an empty list of patterns")
    assert acl.command("ACL", "SETUSER", "x", "allchannels", "&a") == err(
        "&a", "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any "
              "effect. Try 'resetchannels' to start with an empty list of channels")
    # Nothing of a failed SETUSER applies, not even the creation of the user.
    assert acl.command("ACL", "GETUSER", "x") is None
    assert acl.command("ACL", "SETUSER", "a b") == Error("ERR Usernames can't contain spaces or null characters")
    assert acl.command("ACL", "SETUSER", "z", "(+get", "~a") == \
        Error("ERR Unmatched parenthesis in acl selector starting at '(+get'.")
    assert acl.command("ACL", "DELUSER", "default") == Error("ERR The 'default' user cannot be removed")
    assert acl.command("ACL", "CAT", "nosuch") == Error("ERR Unknown category 'nosuch'")
    assert acl.command("ACL", "LOG", "x") == Error("ERR value is not an integer or out of range")
    assert acl.command("ACL", "LOG", "1", "2") == \
        Error("ERR unknown subcommand or wrong number of arguments for 'LOG'. Try ACL HELP.")
    assert acl.command("ACL", "GENPASS", "0") == Error(
        "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
    assert acl.command("ACL", "nosuch") == Error("ERR unknown subcommand 'nosuch'. Try ACL HELP.")
    assert acl.command("ACL", "SAVE").startswith("ERR This Redis instance is not configured to use an ACL file.")


def test_deluser_refuses_default_before_deleting_any(acl):
    acl.command("ACL", "SETUSER", "alice")
    assert acl.command("ACL", "DELUSER", "alice", "default") == Error("ERR The 'default' user cannot be removed")
    assert acl.command("ACL", "DELUSER", "alice", "nosuch") == 1


def test_cat_and_genpass(acl):
    cats = acl.command("ACL", "CAT")
    assert cats[:3] == [b"keyspace", b"read", b"write"] and len(cats) == 21
    reads = acl.command("ACL", "CAT", "read")
    assert b"get" in reads and b"set" not in reads
    assert b"config|get" in acl.command("ACL", "CAT", "admin")
    assert len(acl.command("ACL", "GENPASS")) == 64
    assert len(acl.command("ACL", "GENPASS", "5")) == 2


# -- enforcement


def test_auth_and_permissions(acl, server):
    acl.command("ACL", "SETUSER", "u1", "on", ">p1", "~k*", "+@read", "+@connection", "-ping", "+set")
    with server.raw() as c:
        assert c.command("AUTH", "u1", "wrong") == WRONGPASS
        assert c.command("AUTH", "nosuch", "x") == WRONGPASS
        assert c.command("AUTH", "u1", "p1") == "OK"
        assert c.command("GET", "k1") is None
        assert c.command("SET", "k1", "v") == "OK"
        assert c.command("GET", "other") == NOPERM_KEY
        assert c.command("MGET", "k1", "k2", "other") == NOPERM_KEY
        assert c.command("PING") == noperm_cmd("ping")
        assert c.command("ACL", "WHOAMI") == noperm_cmd("acl|whoami")
        assert c.command("DEL", "k1") == noperm_cmd("del")
        # A disabled user cannot log in.
        acl.command("ACL", "SETUSER", "u1", "off")
        assert c.command("AUTH", "u1", "p1") == WRONGPASS
        # The default user is nopass: any password will do.
        assert c.command("AUTH", "default", "anything") == "OK"
        assert c.command("PING") == "PONG"


def test_read_write_key_patterns(acl):
    acl.command("ACL", "SETUSER", "p1", "on", "+@all", "~r*", "%W~w*", "%R~q*")
    assert acl.command("ACL", "DRYRUN", "p1", "get", "r1") == "OK"
    assert acl.command("ACL", "DRYRUN", "p1", "get", "w1") == b"This user has no permissions to access the 'w1' key"
    assert acl.command("ACL", "DRYRUN", "p1", "set", "w1", "v") == "OK"
    assert acl.command("ACL", "DRYRUN", "p1", "set", "w1", "v", "GET") == \
        b"This user has no permissions to access the 'w1' key"
    assert acl.command("ACL", "DRYRUN", "p1", "getset", "q1", "v") == \
        b"This user has no permissions to access the 'q1' key"
    assert acl.command("ACL", "DRYRUN", "p1", "get", "q1") == "OK"
    assert acl.command("ACL", "DRYRUN", "p1", "exists", "w1") == "OK"
    assert acl.command("ACL", "DRYRUN", "nosuch", "get", "a") == Error("ERR User 'nosuch' not found")
    assert acl.command("ACL", "DRYRUN", "p1", "nosuchcmd") == Error("ERR Command 'nosuchcmd' not found")
    assert acl.command("ACL", "DRYRUN", "p1", "get") == Error("ERR wrong number of arguments for 'get' command")


def test_subcommand_and_first_arg_rules(acl, server):
    acl.command("ACL", "SETUSER", "ops", "on", ">pw", "allkeys", "+config|get", "+select|0", "+auth")
    with server.raw() as c:
        assert c.command("AUTH", "ops", "pw") == "OK"
        assert c.command("CONFIG", "GET", "maxclients")[0] == b"maxclients"
        assert c.command("CONFIG", "SET", "maxclients", "10") == noperm_cmd("config|set")
        assert c.command("SELECT", "0") == "OK"
        assert c.command("SELECT", "1") == noperm_cmd("select")


def test_selectors(acl):
    acl.command("ACL", "SETUSER", "p2", "on", "+@all", "~a*", "(~b* +get)", "(", "~c*", "+set", ")")
    assert acl.command("ACL", "GETUSER", "p2")[-1] == [
        [b"commands", b"-@all +get", b"keys", b"~b*", b"channels", b""],
        [b"commands", b"-@all +set", b"keys", b"~c*", b"channels", b""]]
    assert acl.command("ACL", "DRYRUN", "p2", "get", "b1") == "OK"
    assert acl.command("ACL", "DRYRUN", "p2", "set", "c1", "v") == "OK"
    assert acl.command("ACL", "DRYRUN", "p2", "get", "c1") == b"This user has no permissions to access the 'c1' key"
    assert acl.command("ACL", "DRYRUN", "p2", "mget", "b1", "c1") == \
        b"This user has no permissions to access the 'b1' key"
    acl.command("ACL", "SETUSER", "p2", "clearselectors")
    assert acl.command("ACL", "GETUSER", "p2")[-1] == []


def test_transactions_and_acl(acl, server):
    acl.command("ACL", "SETUSER", "u1", "on", ">p1", "~k*", "+@read", "+set")
    acl.command("ACL", "SETUSER", "u2", "on", "nopass", "allkeys", "+@all")
    with server.raw() as c:
        c.command("AUTH", "u1", "p1")
        assert c.command("MULTI") == noperm_cmd("multi")
        assert c.command("EXEC") == Error(
            "EXECABORT Transaction discarded because of: NOPERM this user has no permissions to run the 'exec' command")
    with server.raw() as c:
        c.command("AUTH", "u2", "x")
        assert c.command("MULTI") == "OK"
        assert c.command("GET", "a") == "QUEUED"
        assert c.command("SET", "a", "1") == "QUEUED"
        acl.command("ACL", "SETUSER", "u2", "-get", "resetkeys", "~s*")
        changed = ("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC "
                   "call. This command is no longer allowed for the following reason: ")
        assert c.command("EXEC") == [Error(changed + "no permission to execute the command or subcommand"),
                                     Error(changed + "no permission to touch the specified keys")]
        assert c.command("SET", "s1", "v") == "OK"
    entries = log_entries(acl)
    assert entries[0] == {"count": 1, "reason": "key", "context": "multi", "object": "a", "username": "u2"}
    assert entries[1] == {"count": 1, "reason": "command", "context": "multi", "object": "get", "username": "u2"}


def test_acl_log(acl, server):
    acl.command("ACL", "SETUSER", "lg", "on", ">pw", "~k*", "+@read")
    with server.raw() as c:
        c.command("AUTH", "lg", "pw")
        c.command("GET", "x")
        c.command("GET", "x")
        c.command("SET", "k", "v")
        c.command("MGET", "k1", "zz", "yy")
        c.command("AUTH", "lg", "bad")
        c.command("hello", "3", "AUTH", "nobody", "bad")
    assert log_entries(acl) == [
        {"count": 1, "reason": "auth", "context": "toplevel", "object": "hello", "username": "nobody"},
        {"count": 1, "reason": "auth", "context": "toplevel", "object": "AUTH", "username": "lg"},
        {"count": 1, "reason": "key", "context": "toplevel", "object": "zz", "username": "lg"},
        {"count": 1, "reason": "command", "context": "toplevel", "object": "set", "username": "lg"},
        {"count": 2, "reason": "key", "context": "toplevel", "object": "x", "username": "lg"},
    ]
    assert len(log_entries(acl, "2")) == 2
    assert log_entries(acl, "-1") == []
    # Passwords never reach the log.
    assert b"bad" not in b"".join(e[-1] for e in acl.command("ACL", "LOG"))
    acl.command("CONFIG", "SET", "acllog-max-len", "1")
    try:
        with server.raw() as c:
            c.command("AUTH", "lg", "pw")
            c.command("GET", "y")
        assert len(log_entries(acl)) == 1
    finally:
        acl.command("CONFIG", "SET", "acllog-max-len", "128")
    assert acl.command("ACL", "LOG", "RESET") == "OK"
    assert acl.command("ACL", "LOG") == []


def test_deleting_a_user_disconnects_its_clients(acl, server):
    acl.command("ACL", "SETUSER", "gone", "on", "nopass", "+@all", "allkeys")
    with server.raw() as c:
        assert c.command("AUTH", "gone", "x") == "OK"
        assert c.command("ACL", "WHOAMI") == b"gone"
        assert acl.command("ACL", "DELUSER", "gone") == 1
        assert c.is_closed()


def test_client_list_shows_user(acl, server):
    acl.command("ACL", "SETUSER", "viewer", "on", ">pw", "+client|info")
    with server.raw() as c:
        c.command("AUTH", "viewer", "pw")
        info = c.command("CLIENT", "INFO").decode()
        assert " user=viewer " in info
        assert "pw" not in info.replace("user=viewer", "")


# -- requirepass and config-file users


def test_requirepass_sets_default_password(server_factory):
    s = server_factory("--requirepass", "secret")
    with s.raw() as c:
        assert c.command("GET", "k") == Error("NOAUTH Authentication required.")
        assert c.command("AUTH", "wrong") == WRONGPASS
        assert c.command("AUTH", "secret") == "OK"
        assert c.command("ACL", "GETUSER", "default")[3] == [
            b"2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"]
        # ACL SETUSER default survives unrelated CONFIG SETs.
        assert c.command("ACL", "SETUSER", "default", ">other") == "OK"
        assert c.command("CONFIG", "SET", "maxclients", "100") == "OK"
        assert len(c.command("ACL", "GETUSER", "default")[3]) == 2
        assert c.command("AUTH", "other") == "OK"


def test_user_lines_in_config_file(server_factory, server_kind, _tmp_root):
    conf = "user alice on >pw ~k* +@read\nuser default on nopass ~* &* +@all\n"
    from serverproc import ServerProcess
    s = ServerProcess(server_kind, _tmp_root, [], config_text=conf)
    s.start()
    try:
        with s.raw() as c:
            assert c.command("ACL", "LIST") == [
                b"user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~k* "
                b"resetchannels -@all +@read",
                b"user default on nopass sanitize-payload ~* &* +@all"]
            assert c.command("AUTH", "alice", "pw") == "OK"
            assert c.command("GET", "nok") == NOPERM_KEY
            assert c.command("AUTH", "default", "x") == "OK"
            assert c.command("CONFIG", "GET", "user") == []
    finally:
        s.stop()


@pytest.mark.parametrize("conf,reason", [
    ("user bob on foo", "Error in user declaration 'bob': Syntax error"),
    ("user alice on\nuser alice off", "Error in user declaration 'alice': Duplicate user found. "
                                      "A user can only be defined once in config files"),
    ("user eve on #abc", "Error in user declaration 'eve': The password hash must be exactly 64 characters "
                         "and contain only lowercase hexadecimal characters"),
])
def test_bad_user_lines_are_fatal(server_kind, _tmp_root, conf, reason):
    from serverproc import ServerProcess
    s = ServerProcess(server_kind, _tmp_root, [], config_text=conf + "\n")
    from serverproc import free_port
    s.port = free_port()
    assert s.run_to_exit() == 1
    assert reason in s.log()


def test_unknown_command_in_user_line_stops_the_server(server_kind, _tmp_root):
    from serverproc import ServerProcess
    s = ServerProcess(server_kind, _tmp_root, [], config_text="user carol +nosuch\n")
    from serverproc import free_port
    s.port = free_port()
    assert s.run_to_exit() == 1
    assert "Error loading ACL rule '+nosuch' for the user named 'carol': Unknown command or category name in ACL" \
        in s.log()


# -- client-output-buffer-limit


def slow_consumer(port):
    """A connection that reads nothing and keeps its receive window small."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def drain(sock, timeout=10.0):
    """Reads until the server closes the connection or `timeout` passes; returns (bytes, closed)."""
    total = 0
    deadline = time.monotonic() + timeout
    sock.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return total, True
        if not chunk:
            return total, True
        total += len(chunk)
    return total, False


def test_output_buffer_config(raw):
    default = b"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    assert raw.command("CONFIG", "GET", "client-output-buffer-limit") == [b"client-output-buffer-limit", default]
    try:
        assert raw.command("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 2k 10") == "OK"
        assert raw.command("CONFIG", "GET", "client-output-buffer-limit")[1] == \
            b"normal 1048576 2000 10 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        fail = "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - "
        assert raw.command("CONFIG", "SET", "client-output-buffer-limit", "nosuch 1 2 3") == \
            Error(fail + "Invalid client class specified in buffer limit configuration.")
        assert raw.command("CONFIG", "SET", "client-output-buffer-limit", "normal 1 2") == \
            Error(fail + "Wrong number of arguments in buffer limit configuration.")
        for bad in ("normal x 2 3", "normal 1 2 x", "normal 1 2 -1", "normal -1 2 1"):
            assert raw.command("CONFIG", "SET", "client-output-buffer-limit", bad) == \
                Error(fail + "Error in hard, soft or soft_seconds setting in buffer limit configuration.")
    finally:
        raw.command("CONFIG", "SET", "client-output-buffer-limit", default.decode())


def test_hard_limit_closes_a_slow_consumer(server_factory):
    s = server_factory("--client-output-buffer-limit", "normal 1mb 0 0")
    value = b"x" * (512 * 1024)
    with s.raw() as c:
        assert c.command("SET", "big", value) == "OK"
    consumer = slow_consumer(s.port)
    try:
        consumer.sendall(encode("GET", "big") * 40)
        time.sleep(1.0)  # replies pile up while nothing is read
        received, closed = drain(consumer)
    finally:
        consumer.close()
    assert closed
    assert received < 40 * len(value)
    assert "for overcoming of output buffer limits" in s.log()
    with s.raw() as c:  # everyone else is fine
        assert c.command("PING") == "PONG"


def test_soft_limit_needs_time_over_the_limit(server_factory):
    s = server_factory("--client-output-buffer-limit", "normal 0 1mb 1")
    value = b"y" * (256 * 1024)
    with s.raw() as c:
        assert c.command("SET", "big", value) == "OK"
    consumer = slow_consumer(s.port)
    closed = False
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                consumer.sendall(encode("GET", "big") * 8)
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.3)
        if not closed:
            closed = drain(consumer, timeout=2)[1]
    finally:
        consumer.close()
    assert closed
    assert "for overcoming of output buffer limits" in s.log()


def test_no_limit_by_default(server):
    value = b"z" * (256 * 1024)
    with server.raw() as c:
        c.command("SET", "big", value)
    consumer = slow_consumer(server.port)
    try:
        consumer.sendall(encode("GET", "big") * 24)
        time.sleep(0.5)
        expected = 24 * (len(value) + len(b"$262144\r\n\r\n"))
        total = 0
        consumer.settimeout(10)
        while total < expected:
            chunk = consumer.recv(1 << 20)
            assert chunk, "closed by the server"
            total += len(chunk)
    finally:
        consumer.close()
    assert total == expected


# -- connection limits


def test_maxclients_at_the_limit(server_factory):
    s = server_factory("--maxclients", "2")
    a, b = s.raw(), s.raw()
    try:
        assert a.command("PING") == "PONG" and b.command("PING") == "PONG"
        with s.raw() as extra:
            assert extra.read_reply() == Error("ERR max number of clients reached")
            assert extra.is_closed()
        stats = a.command("INFO", "stats").decode()
        assert "rejected_connections:1" in stats
        # Raising the limit at run time lets the next one in.
        assert a.command("CONFIG", "SET", "maxclients", "3") == "OK"
        with s.raw() as third:
            assert third.command("PING") == "PONG"
    finally:
        a.close()
        b.close()


def test_unauthenticated_request_limits_with_users(server_factory):
    s = server_factory("--requirepass", "secret")
    with s.raw() as c:
        assert c.command("ACL", "SETUSER", "bob", "on", ">pw", "+@all", "allkeys") == Error(
            "NOAUTH Authentication required.")
        # Before AUTH: at most 10 elements per request and 16 KiB per bulk string.
        c.send(encode(*(["SET"] + ["x"] * 11)))
        assert c.read_reply() == Error("ERR Protocol error: unauthenticated multibulk length")
        assert c.is_closed()
    with s.raw() as c:
        c.send(encode("AUTH", "x" * (16 * 1024 + 1)))
        assert c.read_reply() == Error("ERR Protocol error: unauthenticated bulk length")
        assert c.is_closed()
    with s.raw() as c:
        assert c.command("AUTH", "secret") == "OK"
        assert c.command("ACL", "SETUSER", "bob", "on", ">pw", "+@all", "allkeys") == "OK"
    with s.raw() as c:
        assert c.command("AUTH", "bob", "pw") == "OK"
        assert c.command("MSET", *(["k", "v"] * 10)) == "OK"
        assert c.command("SET", "big", "v" * (32 * 1024)) == "OK"


def test_pubsub_class_limit_closes_a_slow_subscriber(server_factory):
    """A subscribed client is in the pubsub class: its limit applies, not the normal one."""
    s = server_factory("--client-output-buffer-limit", "pubsub 1mb 0 0")
    consumer = slow_consumer(s.port)
    try:
        consumer.sendall(encode("SUBSCRIBE", "flood"))
        time.sleep(0.3)
        payload = b"z" * (256 * 1024)
        with s.raw() as pub:
            for _ in range(40):
                pub.command("PUBLISH", "flood", payload)
            time.sleep(0.5)
            received, closed = drain(consumer)
            assert closed
            assert received < 40 * len(payload)
            assert pub.command("PUBSUB", "NUMSUB", "flood") == [b"flood", 0]
    finally:
        consumer.close()
    assert "for overcoming of output buffer limits" in s.log()
