"""DEBUG: every subcommand of Redis 7.0.15's DEBUG HELP (issue 16, point 8). Replies and error
texts are compared with a real redis-server 7.0 wherever they are deterministic (both servers are
started by this file with `--enable-debug-command yes`); the subcommands that report Cairn's own
structures are checked for Redis's reply type and layout and for figures that agree with the
dataset; crashes are checked by the exit signal and the log lines; RESTART and CRASH-AND-RECOVER
by the server answering again on the same port (the same process, re-executed). Every wait polls
with a deadline."""

import os
import re
import signal
import time

import pytest

from resp import ConnectionClosed, Error, RawConnection
from serverproc import ServerProcess, free_port, require, wait_for

DEBUG_ARGS = ["--enable-debug-command", "yes"]


def start(kind_name, tmp_root, *extra, config_text=None):
    s = ServerProcess(require(kind_name), tmp_root, DEBUG_ARGS + list(extra), config_text=config_text)
    s.start()
    return s


@pytest.fixture(scope="module")
def pair(_tmp_root):
    servers = [start("redis", _tmp_root), start("cairn", _tmp_root)]
    yield servers
    for s in servers:
        s.stop()


@pytest.fixture
def started(_tmp_root):
    """Starts servers for one test and stops whatever is still running afterwards."""
    servers = []

    def run(kind_name, *extra, config_text=None):
        s = start(kind_name, _tmp_root, *extra, config_text=config_text)
        servers.append(s)
        return s

    yield run
    for s in servers:
        s.stop()


def both(pair, *args):
    """The reply of each server of the pair to one command, on a fresh connection."""
    replies = []
    for s in pair:
        with s.raw() as c:
            replies.append(c.command(*args))
    return replies


def fill(s):
    with s.raw() as c:
        assert c.command("FLUSHALL") == "OK"
        c.command("SET", "s", "hello")
        c.command("SET", "n", "123")
        c.command("HSET", "h", "a", "1", "b", "2")
        c.command("RPUSH", "l", "a", "b", "c")
        c.command("SADD", "st", "x", "y", "z")
        c.command("ZADD", "z", "1", "a", "2", "b")
        c.command("SADD", "big", *[f"m{i}" for i in range(200)])
        c.command("HSET", "bh", *[x for i in range(600) for x in (f"f{i}", "v")])
        c.command("ZADD", "bz", *[x for i in range(200) for x in (str(i), f"m{i}")])


def text(reply):
    return reply.decode() if isinstance(reply, bytes) else str(reply)


# -- HELP and the replies that must be Redis's

def test_help_is_redis_7_0_15_text(pair):
    redis_help, cairn_help = both(pair, "DEBUG", "HELP")
    assert cairn_help == redis_help
    assert "CLUSTERLINK KILL <to|from|all> <node-id>" in cairn_help


SAME_AS_REDIS = [
    ("DEBUG", "LOG", "hello from the test"),
    ("DEBUG", "LOG"),
    ("DEBUG", "LEAK", "abc"),
    ("DEBUG", "LEAK"),
    ("DEBUG", "MALLCTL", "cairn.no.such.name"),
    ("DEBUG", "MALLCTL", "cairn.no.such.name", "notanumber"),
    ("DEBUG", "MALLCTL", "cairn.no.such.name", "1"),
    ("DEBUG", "MALLCTL-STR", "cairn.no.such.name"),
    ("DEBUG", "MALLCTL-STR", "cairn.no.such.name", "x"),
    ("DEBUG", "MALLCTL"),
    ("DEBUG", "MALLCTL-STR"),
    ("DEBUG", "SDSLEN", "n"),
    ("DEBUG", "SDSLEN", "h"),
    ("DEBUG", "SDSLEN", "nokey"),
    ("DEBUG", "LISTPACK", "h"),
    ("DEBUG", "LISTPACK", "z"),
    ("DEBUG", "LISTPACK", "l"),
    ("DEBUG", "LISTPACK", "big"),
    ("DEBUG", "LISTPACK", "nokey"),
    ("DEBUG", "QUICKLIST", "l"),
    ("DEBUG", "QUICKLIST", "l", "1"),
    ("DEBUG", "QUICKLIST", "h"),
    ("DEBUG", "QUICKLIST", "nokey"),
    ("DEBUG", "QUICKLIST", "l", "1", "2"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1kb"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "-1"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1x"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"),
    ("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"),
    ("DEBUG", "AOF-FLUSH-SLEEP", "0"),
    ("DEBUG", "REPLICATE"),
    ("DEBUG", "STRUCTSIZE", "extra"),
    ("DEBUG", "HTSTATS", "x"),
    ("DEBUG", "HTSTATS", "16"),
    ("DEBUG", "HTSTATS", "-1"),
    ("DEBUG", "HTSTATS"),
    ("DEBUG", "HTSTATS-KEY", "h"),
    ("DEBUG", "HTSTATS-KEY", "s"),
    ("DEBUG", "HTSTATS-KEY", "l"),
    ("DEBUG", "HTSTATS-KEY", "nokey"),
    ("DEBUG", "CONFIG-REWRITE-FORCE-ALL"),
    ("DEBUG", "CLIENT-EVICTION"),
    ("DEBUG", "PAUSE-CRON", "0"),
    ("DEBUG", "PAUSE-CRON"),
    ("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "NEVER"),
    ("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100"),
    ("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "x"),
    ("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "RESET"),
    ("DEBUG", "REPLYBUFFER", "RESIZING", "0"),
    ("DEBUG", "REPLYBUFFER", "RESIZING", "1"),
    ("DEBUG", "REPLYBUFFER", "FOO", "1"),
    ("DEBUG", "REPLYBUFFER", "RESIZING"),
    ("DEBUG", "CLUSTERLINK", "KILL", "to", "0123"),
    ("DEBUG", "DROP-CLUSTER-PACKET-FILTER", "x"),
    ("DEBUG", "DROP-CLUSTER-PACKET-FILTER", "-1"),
    ("DEBUG", "DROP-CLUSTER-PACKET-FILTER"),
    ("DEBUG", "RESTART", "x"),
    ("DEBUG", "CRASH-AND-RECOVER", "x"),
    ("DEBUG", "ERROR", "some text\r\nwith a newline"),
    ("DEBUG", "NO-SUCH-THING"),
]


@pytest.mark.parametrize("command", SAME_AS_REDIS, ids=lambda c: " ".join(c[1:]))
def test_reply_as_redis(pair, command):
    for s in pair:
        fill(s)
    redis_reply, cairn_reply = both(pair, *command)
    assert cairn_reply == redis_reply


def test_log_writes_a_warning_line(pair):
    for s in pair:
        with s.raw() as c:
            assert c.command("DEBUG", "LOG", "marker-7f3a in the log") == "OK"
    for s in pair:
        wait_for(lambda: re.search(r"# DEBUG LOG: marker-7f3a in the log", s.log()), f"{s.kind.name}'s DEBUG LOG line")


# -- Cairn's own structures, in Redis's reply types and layouts

def test_sdslen_layout(pair):
    pattern = (r"key_sds_len:1, key_sds_avail:\d+, key_zmalloc: \d+, "
               r"val_sds_len:5, val_sds_avail:\d+, val_zmalloc: \d+")
    for s in pair:
        fill(s)
        with s.raw() as c:
            reply = c.command("DEBUG", "SDSLEN", "s")
            assert isinstance(reply, str) and not isinstance(reply, Error)
            assert re.match(pattern, reply), reply


def stats_fields(section):
    return dict(re.findall(r"^ ([a-z ()]+): (\S+)$", section, re.M))


def test_htstats_reports_the_key_table(pair):
    redis_s, cairn = pair
    for s in pair:
        fill(s)
        with s.raw() as c:
            c.command("SET", "v", "1", "EX", "100")
    with cairn.raw() as c:
        reply = text(c.command("DEBUG", "HTSTATS", "0"))
    with redis_s.raw() as c:
        redis_reply = text(c.command("DEBUG", "HTSTATS", "0"))
    for r in (reply, redis_reply):
        assert r.startswith("[Dictionary HT]\nHash table 0 stats (main hash table):\n table size: ")
        assert "\n[Expires HT]\nHash table 0 stats (main hash table):\n" in r
    main, expires = reply.split("[Expires HT]")
    fields = stats_fields(main)
    assert fields["number of elements"] == "10"
    size = int(fields["table size"])
    assert size >= 10 and size & (size - 1) == 0
    distribution = re.findall(r"^   (\d+): (\d+) \(", main, re.M)
    assert sum(int(n) for _, n in distribution) == size
    assert sum(int(length) * int(n) for length, n in distribution) == 10
    assert "Cairn KeyTable" in main
    assert stats_fields(expires)["number of elements"] == "1"
    # The RESP3 reply is a verbatim string, as Redis's.
    with cairn.raw() as c:
        c.command("HELLO", "3")
        assert c.command("DEBUG", "HTSTATS", "0").format == b"txt"


@pytest.mark.parametrize("key,count", [("big", 200), ("bh", 600), ("bz", 200)])
def test_htstats_key_reports_the_collection_table(pair, key, count):
    for s in pair:
        fill(s)
        with s.raw() as c:
            reply = text(c.command("DEBUG", "HTSTATS-KEY", key))
        assert reply.startswith("Hash table 0 stats (main hash table):\n table size: "), reply
        fields = stats_fields(reply.split("Hash table 1")[0])
        if s.kind.is_redis:
            continue
        assert fields["number of elements"] == str(count)
        assert "Cairn ByteMap" in reply


def test_structsize_is_a_bulk_of_sizes(pair):
    for s in pair:
        with s.raw() as c:
            reply = c.command("DEBUG", "STRUCTSIZE")
        assert isinstance(reply, bytes)
        assert re.fullmatch(rb"bits:64 ([a-z0-9-]+:\d+ )+", reply), reply


def test_listpack_and_quicklist_print_on_stdout(pair):
    cairn = pair[1]
    fill(cairn)
    with cairn.raw() as c:
        assert c.command("DEBUG", "LISTPACK", "h") == "Listpack structure printed on stdout"
        assert c.command("DEBUG", "QUICKLIST", "l", "1") == "Quicklist structure printed on stdout"
    wait_for(lambda: "{total bytes" in cairn.log() and "[str]b" in cairn.log()
             and "{count : 3}" in cairn.log() and "{quicklist node(0)" in cairn.log(), "the structures on stdout")


def test_client_eviction_buckets(pair):
    for s in pair:
        with s.raw() as c:
            assert c.command("CONFIG", "SET", "maxmemory-clients", "1mb") == "OK"
            reply = text(c.command("DEBUG", "CLIENT-EVICTION"))
            assert c.command("CONFIG", "SET", "maxmemory-clients", "0") == "OK"
        lines = reply.splitlines()
        assert len(lines) == 19
        assert lines[0].startswith("bucket          0 -      32767: tot-mem: ")
        assert lines[-1].startswith("bucket 4294967296+            : tot-mem: ")
        assert all(re.fullmatch(r"bucket +\d+(\+ +| - +\d+): tot-mem: +\d+, clients: \d+", l) for l in lines), lines


# -- settings with an effect

def test_skip_checksum_validation_for_restore(pair):
    replies = []
    for s in pair:
        with s.raw() as c:
            c.command("FLUSHALL")
            c.command("SET", "k", "value")
            payload = bytearray(c.command("DUMP", "k"))
            payload[-1] ^= 0xFF
            first = c.command("RESTORE", "k2", "0", bytes(payload))
            assert c.command("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1") == "OK"
            second = c.command("RESTORE", "k2", "0", bytes(payload))
            value = c.command("GET", "k2")
            assert c.command("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0") == "OK"
            third = c.command("RESTORE", "k3", "0", bytes(payload))
            replies.append((first, second, value, third))
    assert replies[1] == replies[0]
    assert replies[1] == (Error("ERR DUMP payload version or checksum are wrong"), "OK", b"value",
                          Error("ERR DUMP payload version or checksum are wrong"))


def test_skip_checksum_validation_for_rdb_load(started):
    s = started("cairn", "--rdbcompression", "no")  # a plain RDB file: its last 8 bytes are the CRC
    with s.raw() as c:
        c.command("SET", "k", "v")
        assert c.command("SAVE") == "OK"
    path = os.path.join(s.dir, "dump.rdb")
    with open(path, "r+b") as f:
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 0xFF]))
    with s.raw() as c:
        assert c.command("DEBUG", "RELOAD", "NOSAVE") == Error("ERR Error trying to load the RDB dump")
        assert c.command("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1") == "OK"
        assert c.command("DEBUG", "RELOAD", "NOSAVE") == "OK"
        assert c.command("GET", "k") == b"v"


@pytest.mark.parametrize("kind", ["redis", "cairn"])
def test_aof_flush_sleep_delays_the_write(started, kind):
    s = started(kind, "--appendonly", "yes")
    with s.raw() as c:
        assert c.command("DEBUG", "AOF-FLUSH-SLEEP", "300000") == "OK"
        began = time.monotonic()
        assert c.command("SET", "k", "v") == "OK"
        slow = time.monotonic() - began
        assert c.command("DEBUG", "AOF-FLUSH-SLEEP", "0") == "OK"
        began = time.monotonic()
        assert c.command("SET", "k", "w") == "OK"
        fast = time.monotonic() - began
    assert slow >= 0.3 and fast < 0.3, (slow, fast)


def test_pause_cron_stops_active_expiry(started):
    s = started("cairn")
    with s.raw() as c:
        assert c.command("DEBUG", "PAUSE-CRON", "1") == "OK"
        c.command("SET", "k", "v", "PX", "1")
        # With the cron stopped the key is never sampled: it stays counted for a whole second.
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            assert c.command("DBSIZE") == 1
            time.sleep(0.05)
        assert c.command("DEBUG", "PAUSE-CRON", "0") == "OK"
    wait_for(lambda: s.raw().command("DBSIZE") == 0, "active expiry once the cron runs again")


def test_config_rewrite_force_all(_tmp_root, started):
    files = []
    for kind in ("redis", "cairn"):
        s = started(kind, config_text="# debug force-all\n")
        with s.raw() as c:
            assert c.command("DEBUG", "CONFIG-REWRITE-FORCE-ALL") == "OK"
        with open(os.path.join(s.dir, "server.conf")) as f:
            files.append(f.read())
    for content in files:
        # Directives at their defaults are written too.
        assert "\nhz 10\n" in content and "\nmaxmemory-policy noeviction\n" in content
        assert "\nlatency-tracking yes\n" in content


# -- replication

def test_replicate_feeds_the_replicas_only(started):
    master = started("cairn")
    replica = started("cairn", "--replicaof", "127.0.0.1", str(master.port))
    wait_for(lambda: b"master_link_status:up" in replica.raw().command("INFO", "replication"), "the replica's link")
    with master.raw() as c:
        assert c.command("DEBUG", "REPLICATE", "SET", "diverged", "yes") == "OK"
        assert c.command("SET", "after", "1") == "OK"
        assert c.command("EXISTS", "diverged") == 0
    wait_for(lambda: replica.raw().command("GET", "after") == b"1", "the master's write on the replica")
    assert replica.raw().command("GET", "diverged") == b"yes"


# -- crashes: the process dies by the signal Redis dies by, after its report lines

CRASHES = {
    "SEGFAULT": (signal.SIGSEGV, [r"=== REDIS BUG REPORT START"]),
    "ASSERT": (signal.SIGABRT, [r"=== ASSERTION FAILED ===", r"==> \S+:\d+ '1 == 2' is not true"]),
    "PANIC": (signal.SIGABRT, [r"Guru Meditation: DEBUG PANIC called at Unix time \d+ #"]),
    "OOM": (signal.SIGABRT, [r"Out Of Memory allocating \d+ bytes!",
                             r"Guru Meditation: Redis aborting for OUT OF MEMORY"]),
}


@pytest.mark.parametrize("kind", ["redis", "cairn"])
@pytest.mark.parametrize("sub", list(CRASHES))
def test_crash_subcommands_kill_the_process(started, kind, sub):
    sig, lines = CRASHES[sub]
    s = started(kind)
    c = s.raw()
    c.send(b"*2\r\n$5\r\nDEBUG\r\n$%d\r\n%s\r\n" % (len(sub), sub.encode()))
    assert c.is_closed(timeout=60)
    c.close()
    assert s.wait_exit(timeout=60) == -sig
    log = s.log()
    assert "=== REDIS BUG REPORT START" in log
    for pattern in lines:
        assert re.search(pattern, log), (pattern, log[-3000:])


# -- restarts: the same process executes the server again, on the same port

def reconnect(s):
    def answers():
        try:
            with RawConnection(s.port, timeout=2.0) as c:
                return c.command("PING") == "PONG"
        except (OSError, ConnectionClosed):
            return False
    wait_for(answers, f"{s.kind.name} serving again", cap=60)


@pytest.mark.parametrize("kind", ["redis", "cairn"])
def test_restart_saves_and_comes_back_with_the_data(started, kind):
    s = started(kind, "--save", "3600 1", config_text="# debug restart\n")
    pid = s.pid
    with s.raw() as c:
        c.command("SET", "kept", "yes")
        c.command("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        c.send(b"*3\r\n$5\r\nDEBUG\r\n$7\r\nRESTART\r\n$2\r\n50\r\n")
        assert c.is_closed(timeout=60)
    reconnect(s)
    assert s.alive() and s.pid == pid
    with s.raw() as c:
        assert c.command("GET", "kept") == b"yes"
        assert c.command("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy", b"allkeys-lru"]
    assert "maxmemory-policy allkeys-lru" in open(os.path.join(s.dir, "server.conf")).read()


@pytest.mark.parametrize("kind", ["redis", "cairn"])
def test_crash_and_recover_saves_nothing(started, kind):
    s = started(kind)
    pid = s.pid
    with s.raw() as c:
        c.command("SET", "lost", "yes")
        c.send(b"*3\r\n$5\r\nDEBUG\r\n$17\r\nCRASH-AND-RECOVER\r\n$3\r\n100\r\n")
        assert c.is_closed(timeout=60)
    reconnect(s)
    assert s.alive() and s.pid == pid
    with s.raw() as c:
        assert c.command("EXISTS", "lost") == 0


# -- the cluster bus

def cluster_pair(started):
    a = started("cairn", "--cluster-enabled", "yes", "--cluster-port", str(free_port()), "--cluster-node-timeout", "1000")
    b = started("cairn", "--cluster-enabled", "yes", "--cluster-port", str(free_port()), "--cluster-node-timeout", "1000")
    bport = int(b.command_line()[b.command_line().index("--cluster-port") + 1])
    with a.raw() as c:
        assert c.command("CLUSTER", "MEET", "127.0.0.1", str(b.port), str(bport)) == "OK"
    ids = [text(x.raw().command("CLUSTER", "MYID")) for x in (a, b)]

    def linked():
        out = text(a.raw().command("CLUSTER", "NODES"))
        line = [l for l in out.splitlines() if l.startswith(ids[1])]
        return line and "connected" in line[0] and "handshake" not in line[0] and "fail" not in line[0]
    wait_for(linked, "the two nodes linked")
    return a, b, ids


def links_to(a, node_id):
    out = a.raw().command("CLUSTER", "LINKS")
    rows = [dict(zip([text(k) for k in row[0::2]], row[1::2])) for row in out]
    return {text(r["direction"]): r["create-time"] for r in rows if text(r["node"]) == node_id}


def test_clusterlink_kill_drops_and_reopens_the_links(started):
    a, b, ids = cluster_pair(started)
    wait_for(lambda: set(links_to(a, ids[1])) == {"to", "from"}, "both links")
    before = links_to(a, ids[1])
    with a.raw() as c:
        assert c.command("DEBUG", "CLUSTERLINK", "KILL", "to", "f" * 40) == Error("ERR Unknown node " + "f" * 40)
        assert c.command("DEBUG", "CLUSTERLINK", "KILL", "sideways", ids[1]) == Error("ERR Unknown direction sideways")
        assert c.command("DEBUG", "CLUSTERLINK", "KILL", "all", ids[1]) == "OK"
    wait_for(lambda: all(k in links_to(a, ids[1]) and links_to(a, ids[1])[k] != before[k] for k in ("to", "from")),
             "both links opened again")


def test_drop_cluster_packet_filter_drops_pongs(started):
    a, b, ids = cluster_pair(started)

    def pong_received():
        line = [l for l in text(a.raw().command("CLUSTER", "NODES")).splitlines() if l.startswith(ids[1])][0]
        return int(line.split(" ")[5])

    def dropped():
        return a.log().count("Dropping packet that matches debug drop filter")

    with a.raw() as c:
        assert c.command("DEBUG", "DROP-CLUSTER-PACKET-FILTER", "1") == "OK"  # PONG
    wait_for(lambda: dropped() >= 1, "a PONG dropped")
    frozen, seen = pong_received(), dropped()
    wait_for(lambda: dropped() >= seen + 2, "more PONGs dropped")
    assert pong_received() == frozen
    with a.raw() as c:
        assert c.command("DEBUG", "DROP-CLUSTER-PACKET-FILTER", "-1") == "OK"
    wait_for(lambda: pong_received() > frozen, "PONGs processed again")


def test_list_max_listpack_size_sets_the_node_fill(server_factory):
    """list-max-listpack-size: positive = entries per node, negative = node size class; DEBUG
    OBJECT's ql_* fields show it (issue 16, point 7)."""
    s = server_factory("--enable-debug-command", "yes")
    with s.raw() as c:
        def ql(key):
            line = str(c.command("DEBUG", "OBJECT", key))
            return dict(f.split(":", 1) for f in line.split() if f.startswith("ql_"))
        assert c.command("CONFIG", "SET", "list-max-listpack-size", "5") == "OK"
        c.command("RPUSH", "l", *[str(i) for i in range(20)])
        assert ql("l")["ql_nodes"] == "4" and ql("l")["ql_listpack_max"] == "5"
        assert c.command("LRANGE", "l", "0", "-1") == [str(i).encode() for i in range(20)]
        # Size classes: 4 KiB nodes hold far fewer 100-byte entries than 64 KiB ones.
        nodes = {}
        for fill in ("-1", "-5"):
            assert c.command("CONFIG", "SET", "list-max-listpack-size", fill) == "OK"
            c.command("DEL", "big")
            c.command("RPUSH", "big", *(["x" * 100] * 2000))
            nodes[fill] = int(ql("big")["ql_nodes"])
            assert ql("big")["ql_listpack_max"] == fill
        assert 45 <= nodes["-1"] <= 55, nodes  # Redis 7.0: 50
        assert nodes["-5"] == 4, nodes  # Redis 7.0: 4
