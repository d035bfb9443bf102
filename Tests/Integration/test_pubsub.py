"""Pub/sub: SUBSCRIBE/PSUBSCRIBE/SSUBSCRIBE, PUBLISH/SPUBLISH, PUBSUB introspection, the RESP2
subscribed-mode restriction and RESP3 push frames. Runs against cairn-server and, with
--against-redis, against real Redis 7.0 (expected values were checked there)."""
import time

from resp import Error


def test_subscribe_publish_and_patterns(server):
    with server.raw() as sub, server.raw() as pub:
        assert sub.command("SUBSCRIBE", "news", "sport") == [b"subscribe", b"news", 1]
        assert sub.read_reply() == [b"subscribe", b"sport", 2]
        assert sub.command("PSUBSCRIBE", "n*") == [b"psubscribe", b"n*", 3]
        assert pub.command("PUBLISH", "news", "hello") == 2        # channel + pattern
        assert sub.read_reply() == [b"message", b"news", b"hello"]
        assert sub.read_reply() == [b"pmessage", b"n*", b"news", b"hello"]
        assert pub.command("PUBLISH", "nobody", "x") == 1           # pattern only
        assert sub.read_reply() == [b"pmessage", b"n*", b"nobody", b"x"]
        assert pub.command("PUBLISH", "other", "x") == 0


def test_binary_messages(server):
    with server.raw() as sub, server.raw() as pub:
        sub.command("SUBSCRIBE", b"ch\x00\r\n")
        payload = bytes(range(256)) * 10
        assert pub.command("PUBLISH", b"ch\x00\r\n", payload) == 1
        assert sub.read_reply() == [b"message", b"ch\x00\r\n", payload]


def test_resp2_subscribed_mode_restrictions(server):
    with server.raw() as sub:
        sub.command("SUBSCRIBE", "a")
        assert sub.command("GET", "x") == Error(
            "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
        assert sub.command("PING") == [b"pong", b""]
        assert sub.command("PING", "hi") == [b"pong", b"hi"]
        assert sub.command("UNSUBSCRIBE") == [b"unsubscribe", b"a", 0]
        assert sub.command("PING") == "PONG"                         # back to normal mode
        assert sub.command("UNSUBSCRIBE") == [b"unsubscribe", None, 0]
        assert sub.command("PUNSUBSCRIBE") == [b"punsubscribe", None, 0]


def test_unsubscribe_counts(server):
    with server.raw() as sub:
        sub.command("SUBSCRIBE", "a", "b")
        sub.read_reply()
        sub.command("PSUBSCRIBE", "h*")
        assert sub.command("SSUBSCRIBE", "s1") == [b"ssubscribe", b"s1", 1]   # shard channels count apart
        assert sub.command("UNSUBSCRIBE", "a") == [b"unsubscribe", b"a", 2]
        assert sub.command("UNSUBSCRIBE", "zz") == [b"unsubscribe", b"zz", 2]
        assert sub.command("PUNSUBSCRIBE") == [b"punsubscribe", b"h*", 1]
        assert sub.command("SUNSUBSCRIBE") == [b"sunsubscribe", b"s1", 0]


def test_resp3_push_frames_and_commands_while_subscribed(r3, server):
    with server.raw() as c:
        c.command("HELLO", "3")
        assert c.command("SUBSCRIBE", "a") == [b"subscribe", b"a", 1]
        assert c.command("SET", "k", "v") == "OK"                    # RESP3: any command allowed
        c.send(b"*3\r\n$7\r\nPUBLISH\r\n$1\r\na\r\n$3\r\nmsg\r\n")
        # The push frame comes before PUBLISH's own reply, as in Redis.
        raw_bytes = b""
        deadline = time.time() + 5
        while b":1\r\n" not in raw_bytes and time.time() < deadline:
            c._fill()
            raw_bytes = c.buf
        assert raw_bytes.startswith(b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$3\r\nmsg\r\n:1\r\n")


def test_pubsub_introspection(server):
    with server.raw() as sub, server.raw() as q:
        sub.command("SUBSCRIBE", "alpha", "beta")
        sub.read_reply()
        sub.command("PSUBSCRIBE", "x*", "y*")
        sub.read_reply()
        sub.command("SSUBSCRIBE", "s1")
        assert sorted(q.command("PUBSUB", "CHANNELS")) == [b"alpha", b"beta"]
        assert q.command("PUBSUB", "CHANNELS", "a*") == [b"alpha"]
        assert q.command("PUBSUB", "NUMSUB", "alpha", "none") == [b"alpha", 1, b"none", 0]
        assert q.command("PUBSUB", "NUMPAT") == 2
        assert q.command("PUBSUB", "SHARDCHANNELS") == [b"s1"]
        assert q.command("PUBSUB", "SHARDNUMSUB", "s1") == [b"s1", 1]
        assert q.command("SPUBLISH", "s1", "m") == 1
        assert sub.read_reply() == [b"smessage", b"s1", b"m"]
        assert q.command("PUBSUB", "FOO") == Error("ERR unknown subcommand 'FOO'. Try PUBSUB HELP.")


def test_disconnect_and_reset_drop_subscriptions(server):
    with server.raw() as q:
        sub = server.raw()
        sub.command("SUBSCRIBE", "gone")
        sub.close()
        deadline = time.time() + 5
        while q.command("PUBSUB", "NUMSUB", "gone") != [b"gone", 0] and time.time() < deadline:
            time.sleep(0.05)
        assert q.command("PUBLISH", "gone", "x") == 0
        with server.raw() as s2:
            s2.command("SUBSCRIBE", "r")
            assert s2.command("RESET") == "RESET"
            assert s2.command("GET", "x") is None
        assert q.command("PUBSUB", "NUMSUB", "r") == [b"r", 0]


def test_redis_py_pubsub(r):
    p = r.pubsub()
    p.subscribe("chan")
    assert p.get_message(timeout=5)["type"] == "subscribe"
    assert r.publish("chan", "payload") == 1
    m = p.get_message(timeout=5)
    assert m["type"] == "message" and m["data"] == b"payload"
    p.close()


def test_many_subscribers_get_every_message(server):
    subs = [server.raw() for _ in range(20)]
    try:
        for s in subs:
            s.command("SUBSCRIBE", "fan")
        with server.raw() as pub:
            for i in range(50):
                assert pub.command("PUBLISH", "fan", str(i)) == 20
        for s in subs:
            assert [s.read_reply()[2] for _ in range(50)] == [str(i).encode() for i in range(50)]
    finally:
        for s in subs:
            s.close()
