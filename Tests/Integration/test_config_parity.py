"""Every Redis 7.0 config parameter is known to Cairn (issue 16, point 1): the names CONFIG GET *
lists, their defaults, the errors CONFIG SET gives for bad values, the values it stores, and
CONFIG REWRITE + restart. Each test runs the same commands against a real redis-server 7.0 and
cairn-server side by side (both started by this file, whatever --both / --against-redis say)."""

import os

import pytest

from resp import Error
from serverproc import ServerProcess, require, start_redis_and_cairn, wait_for


def config_map(conn, pattern="*"):
    reply = conn.command("CONFIG", "GET", pattern)
    return {reply[i].decode(): reply[i + 1].decode() for i in range(0, len(reply), 2)}


def start_pair(tmp_root):
    """(redis, cairn): one fresh server of each kind, with the harness's common arguments and an
    (empty) config file for CONFIG REWRITE."""
    return start_redis_and_cairn(tmp_root, config_text="# config parity\n")


@pytest.fixture(scope="module")
def pair(_tmp_root):
    """A pair shared by the tests of this file (each restores or compares what it changes)."""
    servers = start_pair(_tmp_root)
    yield servers
    for s in servers:
        s.stop()


@pytest.fixture
def fresh_pair(_tmp_root):
    servers = start_pair(_tmp_root)
    yield servers
    for s in servers:
        s.stop()


# Defaults that legitimately differ between the two servers as the harness starts them.
DEFAULTS_THAT_DIFFER = {
    "port",  # each server listens on its own free port
    "dir",  # each server has its own temporary --dir
    # Cairn's default RDB compression is LZ4 (README, `rdbcompression`); Redis 7.0 only knows
    # yes/no, and `yes` is Cairn's `lzf`. Both accept yes/no.
    "rdbcompression",
}


def test_every_redis_parameter_is_known(pair):
    red, cairn = pair
    with red.raw() as r, cairn.raw() as c:
        redis_names = set(config_map(r))
        cairn_names = set(config_map(c))
    # Redis 7.0 lists 192 names, the 20 tls-* ones only when built with TLS (as Debian's is).
    assert len(redis_names) == (192 if "tls-port" in redis_names else 172)
    assert sorted(redis_names - cairn_names) == []
    # Looked up one by one too (a name without glob characters), aliases included.
    with cairn.raw() as c:
        for name in sorted(redis_names):
            reply = c.command("CONFIG", "GET", name)
            assert len(reply) == 2 and reply[0] == name.encode(), name


def test_defaults_match_redis(pair):
    red, cairn = pair
    with red.raw() as r, cairn.raw() as c:
        expected = config_map(r)
        actual = config_map(c)
    differing = {name: (expected[name], actual.get(name)) for name in expected
                 if name not in DEFAULTS_THAT_DIFFER and actual.get(name) != expected[name]}
    assert differing == {}


IMMUTABLE = [
    ("io-threads", "2"), ("io-threads-do-reads", "yes"), ("socket-mark-id", "1"), ("disable-thp", "no"),
    ("enable-module-command", "yes"), ("server_cpulist", "0-1"), ("bio_cpulist", "0"),
    ("aof_rewrite_cpulist", "0"), ("bgsave_cpulist", "0"),
]

BAD_VALUES = [
    # integers: parse errors and bounds
    ("active-defrag-cycle-min", "0"), ("active-defrag-cycle-max", "100"), ("active-defrag-threshold-lower", "-1"),
    ("active-defrag-threshold-upper", "1001"), ("active-defrag-max-scan-fields", "0"),
    ("list-max-listpack-size", "abc"), ("list-max-ziplist-size", "99999999999"), ("LIST-MAX-ZIPLIST-SIZE", "x"),
    ("list-compress-depth", "-1"), ("busy-reply-threshold", "-1"), ("lua-time-limit", "1.5"),
    ("stream-node-max-entries", "-1"), ("tracking-table-max-keys", "-1"), ("tracking-table-max-keys", "1k"),
    ("tls-port", "70000"), ("tls-session-cache-size", "-1"), ("tls-session-cache-timeout", "x"),
    # memory values
    ("hll-sparse-max-bytes", "1zb"), ("hll-sparse-max-bytes", "-5"), ("stream-node-max-bytes", "abc"),
    ("active-defrag-ignore-bytes", "0"), ("stream-node-max-bytes", "5%"),
    # memory or percent
    ("maxmemory-clients", "101%"), ("maxmemory-clients", "abc"), ("maxmemory-clients", "-5%"), ("maxmemory-clients", "%"),
    # booleans
    ("activerehashing", "maybe"), ("dynamic-hz", "1"), ("lazyfree-lazy-eviction", ""), ("slave-lazy-flush", "on"),
    ("replica-ignore-maxmemory", "x"), ("tls-replication", "true"), ("latency-tracking", "2"),
    # Cairn has no defragmenter; this redis-server has no defrag-capable Jemalloc either.
    ("activedefrag", "yes"),
    # enums
    ("oom-score-adj", "sometimes"), ("acl-pubsub-default", "none"), ("sanitize-dump-payload", "always"),
    ("propagation-error-behavior", "crash"), ("tls-auth-clients", "maybe"),
    # special ones
    ("notify-keyspace-events", "KEq"), ("notify-keyspace-events", "A K"),
    ("latency-tracking-info-percentiles", "101"), ("latency-tracking-info-percentiles", "abc"),
    ("latency-tracking-info-percentiles", "50  99"), ("latency-tracking-info-percentiles", "-1"),
    ("latency-tracking-info-percentiles", "nan"), ("latency-tracking-info-percentiles", " 50"),
    ("oom-score-adj-values", "1 2"), ("oom-score-adj-values", "0 200 3000"), ("oom-score-adj-values", ""),
    ("oom-score-adj-values", "0 200 x"), ("oom-score-adj-values", "0 200 800 1"),
]


@pytest.mark.parametrize("name,value", IMMUTABLE + BAD_VALUES, ids=[f"{n}={v}" for n, v in IMMUTABLE + BAD_VALUES])
def test_bad_values_give_redis_errors(pair, name, value):
    red, cairn = pair
    with red.raw() as r, cairn.raw() as c:
        before = config_map(r, name), config_map(c, name)
        expected = r.command("CONFIG", "SET", name, value)
        assert isinstance(expected, Error), expected
        assert c.command("CONFIG", "SET", name, value) == expected
        # Nothing changed on either.
        assert (config_map(r, name), config_map(c, name)) == before


GOOD_VALUES = [
    ("notify-keyspace-events", "g$lshzxetdnKEm"), ("notify-keyspace-events", "Ex"), ("notify-keyspace-events", "A"),
    ("notify-keyspace-events", "KhgA"), ("notify-keyspace-events", ""),
    ("latency-tracking-info-percentiles", "50.5 1e1 0x10"), ("latency-tracking-info-percentiles", ""),
    ("latency-tracking-info-percentiles", "0 100 99.99"),
    # Redis applies oom-score-adj at once (Cairn does not): non-negative values, so that Redis
    # needs no privilege to apply them.
    ("oom-score-adj-values", "10 200 800"), ("oom-score-adj", "relative"), ("oom-score-adj", "ABSOLUTE"),
    ("oom-score-adj", "no"), ("oom-score-adj-values", "-100 200 800"),
    ("maxmemory-clients", "5%"), ("maxmemory-clients", "0%"), ("maxmemory-clients", "1kb"), ("maxmemory-clients", "100%"),
    ("hll-sparse-max-bytes", "1kb"), ("stream-node-max-bytes", "2m"), ("active-defrag-ignore-bytes", "1gb"),
    ("list-max-ziplist-size", "-5"), ("list-max-listpack-size", "128"), ("lua-time-limit", "100"),
    ("busy-reply-threshold", "0"), ("tracking-table-max-keys", "0"), ("stream-node-max-entries", "0"),
    ("slave-lazy-flush", "YES"), ("slave-ignore-maxmemory", "no"), ("activerehashing", "no"),
    ("acl-pubsub-default", "AllChannels"), ("sanitize-dump-payload", "clients"),
    ("propagation-error-behavior", "panic-on-replicas"), ("tls-auth-clients", "optional"),
    ("tls-ciphers", "DEFAULT:!MEDIUM"), ("tls-key-file-pass", "secret"), ("ignore-warnings", "ARM64-COW-BUG"),
    ("bind-source-addr", "127.0.0.1"), ("jemalloc-bg-thread", "no"), ("active-defrag-cycle-max", "99"),
]


@pytest.mark.parametrize("name,value", GOOD_VALUES, ids=[f"{n}={v}" for n, v in GOOD_VALUES])
def test_good_values_are_stored_as_redis_does(pair, name, value):
    red, cairn = pair
    with red.raw() as r, cairn.raw() as c:
        assert r.command("CONFIG", "SET", name, value) == "OK"
        assert c.command("CONFIG", "SET", name, value) == "OK"
        assert config_map(c, name) == config_map(r, name)


REWRITTEN = [
    ("notify-keyspace-events", "Ex"), ("latency-tracking-info-percentiles", ""), ("maxmemory-clients", "10%"),
    ("list-max-ziplist-size", "5"), ("lua-time-limit", "100"), ("oom-score-adj-values", "-100 200 800"),
    ("activerehashing", "no"), ("tls-ciphers", "DEFAULT:!MEDIUM"), ("acl-pubsub-default", "allchannels"),
    ("hll-sparse-max-bytes", "1kb"), ("sanitize-dump-payload", "yes"), ("replica-ignore-maxmemory", "no"),
    ("bind-source-addr", "127.0.0.1"), ("stream-node-max-bytes", "8192"), ("lazyfree-lazy-user-del", "yes"),
]


def test_rewrite_and_restart_keep_new_parameters(fresh_pair):
    for s in fresh_pair:
        with s.raw() as c:
            for name, value in REWRITTEN:
                assert c.command("CONFIG", "SET", name, value) == "OK", (s.kind.name, name)
            expected = config_map(c)
            assert c.command("CONFIG", "REWRITE") == "OK"
        path = os.path.join(s.dir, "server.conf")
        text = open(path).read()
        for name in ["notify-keyspace-events", "latency-tracking-info-percentiles", "maxmemory-clients",
                     "list-max-listpack-size", "busy-reply-threshold", "oom-score-adj-values", "tls-ciphers"]:
            assert any(line.startswith(name + " ") for line in text.splitlines()), (s.kind.name, name, text)
        s.stop()
        s.config_text = None
        s.config_file = path
        s.start()
        with s.raw() as c:
            after = config_map(c)
        changed = {k: (expected[k], after.get(k)) for k in expected if k != "port" and after.get(k) != expected[k]}
        assert changed == {}, s.kind.name
    red, cairn = fresh_pair
    with red.raw() as r, cairn.raw() as c:
        names = [n for n, _ in REWRITTEN]
        assert {n: config_map(c, n) for n in names} == {n: config_map(r, n) for n in names}


def info_fields(conn, section):
    text = conn.command("INFO", section).decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if line and not line.startswith("#"))


@pytest.mark.parametrize("kind_name", ["redis", "cairn"])
def test_replica_ignore_maxmemory(kind_name, _tmp_root):
    """A replica over maxmemory keeps its master's keys while replica-ignore-maxmemory is yes (the
    default) and evicts them at its next command once it is no."""
    kind = require(kind_name)
    master = ServerProcess(kind, _tmp_root, [])
    master.start()
    replica = None
    try:
        with master.raw() as m:
            for i in range(200):
                assert m.command("SET", f"k{i}", "x" * 100) == "OK"
        replica = ServerProcess(kind, _tmp_root, ["--replicaof", "127.0.0.1", master.port])
        replica.start()
        with replica.raw() as c:
            wait_for(lambda: info_fields(c, "replication").get("master_link_status") == "up"
                     and c.command("DBSIZE") == 200, "the replica to sync")
            assert c.command("CONFIG", "SET", "maxmemory-policy", "allkeys-random") == "OK"
            assert c.command("CONFIG", "SET", "maxmemory", "1") == "OK"
            for _ in range(3):
                assert c.command("GET", "k1") == b"x" * 100
            assert c.command("DBSIZE") == 200
            assert c.command("CONFIG", "SET", "slave-ignore-maxmemory", "no") == "OK"
            c.command("GET", "k1")
            assert c.command("DBSIZE") < 200
    finally:
        if replica is not None:
            replica.stop()
        master.stop()
