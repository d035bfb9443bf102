"""Client-side caching (issue 16, point 6): CLIENT TRACKING in its modes, CACHING, GETREDIR,
TRACKINGINFO, invalidation pushes (RESP3) and `__redis__:invalidate` messages (RESP2 redirect),
tracking-table-max-keys, and CLIENT REPLY. Each test runs as written against cairn-server, and
against a real redis-server 7.0 with --both / --against-redis: the expected replies and pushes
are Redis's.

A push is read by the connection it was sent to: after the command that causes it, the test
reads that connection's next reply. Where a push must NOT have been sent, the connection's next
reply is checked to be the reply of a PING sent after the modification.
"""
import pytest

from resp import Error, Push
from serverproc import wait_for


def resp3(server):
    c = server.raw()
    assert c.command("HELLO", "3")[b"proto"] == 3
    return c


def no_push_pending(conn):
    """Nothing was pushed to `conn`: its next reply is its own PING's."""
    assert conn.command("PING") == "PONG"


def invalidation(*keys):
    return Push([b"invalidate", [k.encode() for k in keys]])


def test_default_mode_invalidates_a_read_key_once(server):
    c1, c2 = resp3(server), server.raw()
    try:
        assert c1.command("CLIENT", "TRACKING", "ON") == "OK"
        c2.command("SET", "k", "v1")
        assert c1.command("GET", "k") == b"v1"
        assert c2.command("SET", "k", "v2") == "OK"
        assert c1.read_reply() == invalidation("k")
        # Forgotten once invalidated: a second change sends nothing until k is read again.
        assert c2.command("SET", "k", "v3") == "OK"
        no_push_pending(c1)
        # A key never read is not tracked.
        assert c2.command("SET", "other", "x") == "OK"
        no_push_pending(c1)
        # MGET tracks each key; DEL of both invalidates each.
        assert c1.command("MGET", "a", "b") == [None, None]
        assert c2.command("MSET", "a", "1", "b", "2") == "OK"
        got = [c1.read_reply(), c1.read_reply()]
        assert sorted(p[1][0] for p in got) == [b"a", b"b"]
    finally:
        c1.close()
        c2.close()


def test_own_write_is_invalidated_after_its_reply(server):
    c1 = resp3(server)
    try:
        c1.command("CLIENT", "TRACKING", "ON")
        c1.command("GET", "k")
        assert c1.command("SET", "k", "v") == "OK"  # the reply first ...
        assert c1.read_reply() == invalidation("k")  # ... then the push
        # Inside a transaction the push follows EXEC's whole reply.
        c1.command("GET", "k")
        assert c1.command("MULTI") == "OK"
        assert c1.command("GET", "k") == "QUEUED"
        assert c1.command("SET", "k", "w") == "QUEUED"
        assert c1.command("EXEC") == [b"v", "OK"]
        assert c1.read_reply() == invalidation("k")
    finally:
        c1.close()


def test_noloop_skips_own_changes(server):
    c1, c2 = resp3(server), server.raw()
    try:
        c1.command("CLIENT", "TRACKING", "ON", "NOLOOP")
        c1.command("GET", "k")
        assert c1.command("SET", "k", "mine") == "OK"
        no_push_pending(c1)
        c1.command("GET", "k")
        c2.command("SET", "k", "theirs")
        assert c1.read_reply() == invalidation("k")
    finally:
        c1.close()
        c2.close()


def test_resp2_redirect_to_a_subscriber(server):
    listener, c1, c2 = server.raw(), server.raw(), server.raw()
    try:
        listener_id = listener.command("CLIENT", "ID")
        assert listener.command("SUBSCRIBE", "__redis__:invalidate") == [b"subscribe", b"__redis__:invalidate", 1]
        assert c1.command("CLIENT", "TRACKING", "ON", "REDIRECT", str(listener_id)) == "OK"
        assert c1.command("CLIENT", "GETREDIR") == listener_id
        c1.command("GET", "k")
        c2.command("SET", "k", "v")
        assert listener.read_reply() == [b"message", b"__redis__:invalidate", [b"k"]]
        # FLUSHALL: everything is invalid, sent as a null.
        c1.command("GET", "k")
        assert c2.command("FLUSHALL") == "OK"
        assert listener.read_reply() == [b"message", b"__redis__:invalidate", None]
        # RESP2 without a redirect: nothing can be pushed, and nothing is.
        c2.command("CLIENT", "TRACKING", "ON")
        c2.command("GET", "x")
        c1.command("SET", "x", "1")
        no_push_pending(c2)
    finally:
        for c in (listener, c1, c2):
            c.close()


def test_broken_redirect_is_reported(server):
    target, c1, c2 = server.raw(), resp3(server), server.raw()
    try:
        target_id = target.command("CLIENT", "ID")
        c1.command("CLIENT", "TRACKING", "ON", "REDIRECT", str(target_id))
        c1.command("GET", "k")
        target.close()
        wait_for(lambda: f"id={target_id} ".encode() not in c2.command("CLIENT", "LIST"), "redirect target gone")
        c2.command("SET", "k", "v")
        assert c1.read_reply() == Push([b"tracking-redir-broken", target_id])
        info = c1.command("CLIENT", "TRACKINGINFO")
        assert b"broken_redirect" in info[b"flags"]
        assert b" flags=tR " in c1.command("CLIENT", "INFO")
    finally:
        c1.close()
        c2.close()


def test_bcast_prefixes(server):
    c1, c2 = resp3(server), server.raw()
    try:
        assert c1.command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "b:", "PREFIX", "a:") == "OK"
        assert c2.command("MSET", "a:2", "x", "a:1", "y", "b:1", "z", "c:1", "w") == "OK"
        # One message per prefix, prefixes and keys in byte order; c:1 matches none.
        assert c1.read_reply() == invalidation("a:1", "a:2")
        assert c1.read_reply() == invalidation("b:1")
        no_push_pending(c1)
        info = c1.command("CLIENT", "TRACKINGINFO")
        assert list(info[b"flags"]) == [b"on", b"bcast"]
        assert info[b"redirect"] == 0 and info[b"prefixes"] == [b"a:", b"b:"]
        assert b" flags=tB " in c1.command("CLIENT", "INFO")
        # BCAST without PREFIX: every key; NOLOOP leaves out this client's own changes.
        c3 = resp3(server)
        try:
            c3.command("CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP")
            c3.command("SET", "own", "1")
            no_push_pending(c3)
            c2.command("SET", "theirs", "1")
            assert c3.read_reply() == invalidation("theirs")
        finally:
            c3.close()
    finally:
        c1.close()
        c2.close()


def test_optin_and_optout(server):
    c1, c2 = resp3(server), server.raw()
    try:
        c1.command("CLIENT", "TRACKING", "ON", "OPTIN")
        c1.command("GET", "k")
        c2.command("SET", "k", "1")
        no_push_pending(c1)  # not cached without CACHING YES
        assert c1.command("CLIENT", "CACHING", "YES") == "OK"
        assert list(c1.command("CLIENT", "TRACKINGINFO")[b"flags"]) == [b"on", b"optin", b"caching-yes"]
        c1.command("GET", "k")
        c2.command("SET", "k", "2")
        assert c1.read_reply() == invalidation("k")
        # CACHING YES covers one command only.
        c1.command("GET", "k")
        c2.command("SET", "k", "3")
        no_push_pending(c1)
        assert c1.command("CLIENT", "CACHING", "NO") == \
            Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
        assert c1.command("CLIENT", "TRACKING", "OFF") == "OK"

        c1.command("CLIENT", "TRACKING", "ON", "OPTOUT")
        assert c1.command("CLIENT", "CACHING", "NO") == "OK"
        c1.command("GET", "k")
        c2.command("SET", "k", "4")
        no_push_pending(c1)
        c1.command("GET", "k")
        c2.command("SET", "k", "5")
        assert c1.read_reply() == invalidation("k")
    finally:
        c1.close()
        c2.close()


def test_tracking_errors(server):
    c = resp3(server)
    try:
        assert c.command("CLIENT", "CACHING", "YES") == Error(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
        assert c.command("CLIENT", "TRACKING", "ON", "PREFIX", "a") == Error("ERR PREFIX option requires BCAST mode to be enabled")
        assert c.command("CLIENT", "TRACKING", "ON", "BCAST", "OPTIN") == Error("ERR OPTIN and OPTOUT are not compatible with BCAST")
        assert c.command("CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT") == Error("ERR You can't specify both OPTIN mode and OPTOUT mode")
        assert c.command("CLIENT", "TRACKING", "ON", "REDIRECT", "999999") == Error("ERR The client ID you want redirect to does not exist")
        assert c.command("CLIENT", "TRACKING", "ON", "REDIRECT", "x") == Error("ERR value is not an integer or out of range")
        my_id = c.command("CLIENT", "ID")
        assert c.command("CLIENT", "TRACKING", "ON", "REDIRECT", str(my_id), "REDIRECT", str(my_id)) == \
            Error("ERR A client can only redirect to a single other client")
        assert c.command("CLIENT", "TRACKING", "ON", "FOO") == Error("ERR syntax error")
        assert c.command("CLIENT", "TRACKING", "MAYBE") == Error("ERR syntax error")
        assert c.command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab", "PREFIX", "a") == Error(
            "ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap.")
        assert c.command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "foo") == "OK"
        assert c.command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "fo") == Error(
            "ERR Prefix 'fo' overlaps with an existing prefix 'foo'. Prefixes for a single client must not overlap.")
        assert c.command("CLIENT", "TRACKING", "ON") == Error(
            "ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
            "and then re-enabling it with a different mode.")
        assert c.command("CLIENT", "CACHING", "MAYBE") == Error("ERR syntax error")
        assert c.command("CLIENT", "TRACKING", "OFF") == "OK"
        c.command("CLIENT", "TRACKING", "ON", "OPTIN")
        assert c.command("CLIENT", "TRACKING", "ON", "OPTOUT") == Error(
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
            "and then re-enabling it with a different mode.")
        assert c.command("CLIENT", "TRACKING") == Error("ERR wrong number of arguments for 'client|tracking' command")
    finally:
        c.close()


def test_trackinginfo_getredir_and_client_list(server):
    c = resp3(server)
    try:
        info = c.command("CLIENT", "TRACKINGINFO")
        assert list(info[b"flags"]) == [b"off"] and info[b"redirect"] == -1 and info[b"prefixes"] == []
        assert c.command("CLIENT", "GETREDIR") == -1
        assert b" redir=-1 " in c.command("CLIENT", "INFO")
        c.command("CLIENT", "TRACKING", "ON", "NOLOOP")
        info = c.command("CLIENT", "TRACKINGINFO")
        assert list(info[b"flags"]) == [b"on", b"noloop"] and info[b"redirect"] == 0
        assert c.command("CLIENT", "GETREDIR") == 0
        line = c.command("CLIENT", "INFO")
        assert b" flags=t " in line and b" redir=0 " in line
        assert b"tracking_clients:1" in c.command("INFO", "clients")
        # RESET turns tracking off.
        assert c.command("RESET") == "RESET"
        assert c.command("CLIENT", "GETREDIR") == -1
    finally:
        c.close()


def test_expiry_and_info_counters(server):
    c1, c2 = resp3(server), server.raw()
    try:
        c1.command("CLIENT", "TRACKING", "ON")
        c2.command("SET", "short", "v", "PX", "30")
        c1.command("GET", "short")
        c1.command("MGET", "p", "q")
        stats = c2.command("INFO", "stats").decode()
        assert "tracking_total_keys:3" in stats and "tracking_total_items:3" in stats
        # The key expires: whoever touches it next (here c2) deletes it, and c1 hears of it.
        wait_for(lambda: c2.command("EXISTS", "short") == 0, "short expired")
        assert c1.read_reply() == invalidation("short")
    finally:
        c1.close()
        c2.close()


def test_tracking_table_max_keys(server_factory):
    s = server_factory("--tracking-table-max-keys", "1")
    c1, c2 = resp3(s), s.raw()
    try:
        c1.command("CLIENT", "TRACKING", "ON")
        assert c1.command("GET", "a") is None
        assert c1.command("GET", "b") is None
        # Over the limit: one of the remembered keys is dropped, its client invalidated as if
        # the key had changed (Redis does it before the next command, Cairn after this one:
        # on the connection the push comes between the same two replies).
        pushed = c1.read_reply()
        assert isinstance(pushed, Push) and pushed[0] == b"invalidate"
        assert c1.command("GET", "c") is None
        assert isinstance(c1.read_reply(), Push)
        assert "tracking_total_keys:1\r" in c2.command("INFO", "stats").decode()
    finally:
        c1.close()
        c2.close()


def test_client_reply_modes(server):
    c = server.raw()
    try:
        assert c.command("CLIENT", "REPLY", "MAYBE") == Error("ERR syntax error")
        c.send(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n")
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n")
        c.send(b"*2\r\n$4\r\nNOPE\r\n$1\r\nx\r\n")  # not even an error is sent
        c.send(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
        assert c.command("CLIENT", "REPLY", "ON") == "OK"  # the first reply since OFF
        c.send(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n")
        c.send(b"*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n")  # its reply is skipped
        assert c.command("INCR", "k") == 3  # both INCRs ran
    finally:
        c.close()
