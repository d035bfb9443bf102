"""Replication, master side: real redis-server 7.0 replicas of a cairn-server master.

Each test starts a Cairn master and one or two real Redis replicas (`--replicaof`) on free
loopback ports: the interop is the proof that the handshake, the RDB of a full sync (diskless,
`$EOF:` framed, and disk-based, `$<length>` framed), the command stream and PSYNC partial resync
are Redis 7.0's. Replica content is compared with the master's value by value (rdbdump.snapshot,
TTLs included). Every wait polls a condition with a deadline.

These tests always run cairn-server as the master and redis-server as the replica, whatever
--against-redis/--both select."""

import os
import signal
import time

import pytest

import rdbdump
from resp import RawConnection
from serverproc import ServerKind, ServerProcess, free_port
from test_rdb_interop import fill

DEADLINE_SECONDS = 30.0


def require(kind_name):
    kind = ServerKind.named(kind_name)
    if not kind.available():
        pytest.skip(f"{kind_name} binary not found: {kind.binary} (set {kind.env_var})")
    return kind


@pytest.fixture
def servers(_tmp_root):
    """start(kind_name, *args) -> a started server, stopped after the test."""
    started = []

    def start(kind_name, *args):
        s = ServerProcess(require(kind_name), _tmp_root, list(args))
        started.append(s)
        s.start()
        return s

    yield start
    for s in started:
        try:
            os.kill(s.pid, signal.SIGCONT)  # a test may have stopped it
        except (ProcessLookupError, TypeError):
            pass
        s.stop()


def wait_for(predicate, what, cap=DEADLINE_SECONDS):
    deadline = time.monotonic() + cap
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    assert predicate(), f"timed out waiting for {what}"


def info(server, section):
    c = server.client()
    try:
        return c.info(section)
    finally:
        c.close()


def link_up(replica):
    return info(replica, "replication").get("master_link_status") == "up"


def offsets_match(master, replica):
    m = info(master, "replication")["master_repl_offset"]
    return info(replica, "replication").get("slave_repl_offset") == m


def in_sync(master, replica):
    """The replica has every byte of the stream and the same content."""
    if not (link_up(replica) and offsets_match(master, replica)):
        return False
    return rdbdump.snapshot(master.client()) == rdbdump.snapshot(replica.client())


def write_more(server, n=200, prefix=b"after"):
    c = server.client()
    p = c.pipeline(transaction=False)
    for i in range(n):
        p.set(prefix + b":s:%d" % i, b"v%d" % i)
        p.rpush(prefix + b":list", i)
        p.hincrby(prefix + b":hash", b"f%d" % (i % 7), i)
        p.zadd(prefix + b":zset", {b"m%d" % (i % 13): i})
        p.sadd(prefix + b":set", i % 50)
    p.incrbyfloat(prefix + b":float", 1.5)  # propagated as SET ... KEEPTTL
    p.spop(prefix + b":set")  # propagated as SREM
    p.expire(prefix + b":s:1", 1000)  # propagated as PEXPIREAT
    p.execute()
    c.close()


def start_pair(servers, *master_args):
    master = servers("cairn", "--repl-diskless-sync-delay", "0", *master_args)
    fill(master)
    replica = servers("redis", "--replicaof", "127.0.0.1", str(master.port))
    return master, replica


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_redis_replica_of_cairn_full_sync_then_stream(servers, diskless):
    master, replica = start_pair(servers, "--repl-diskless-sync", diskless)
    wait_for(lambda: in_sync(master, replica), "the full sync")
    write_more(master)
    # A transaction stays one block, and expiry reaches the replica as the master decides it.
    c = master.client()
    with c.pipeline(transaction=True) as p:
        p.set(b"tx:a", b"1").incr(b"tx:a").lpush(b"tx:l", b"x")
        p.execute()
    c.set(b"short-lived", b"x", px=50)
    c.close()
    wait_for(lambda: in_sync(master, replica), "the stream after the sync")
    r = replica.client()
    assert r.get(b"tx:a") == b"2"
    # The master expires the key and sends DEL; the replica never deletes on its own.
    wait_for(lambda: r.exists(b"short-lived") == 0 and master.client().exists(b"short-lived") == 0, "expiry")
    r.close()
    m = info(master, "replication")
    assert m["connected_slaves"] == 1 and m["slave0"]["state"] == "online"
    stats = info(master, "stats")
    assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 0
    log = open(master.log_path).read()
    target = "replicas sockets" if diskless == "yes" else "disk"
    assert f"Starting BGSAVE for SYNC with target: {target}" in log


def test_link_drop_resyncs_partially(servers):
    master, replica = start_pair(servers)
    wait_for(lambda: in_sync(master, replica), "the full sync")
    r = replica.client()
    # The replica drops its link; writes made meanwhile come from the backlog on reconnection.
    r.execute_command("CLIENT", "KILL", "TYPE", "master")
    write_more(master, prefix=b"gap")
    wait_for(lambda: in_sync(master, replica), "the partial resync")
    stats = info(master, "stats")
    assert stats["sync_full"] == 1, stats
    assert stats["sync_partial_ok"] >= 1, stats
    assert "Partial resynchronization request from" in open(master.log_path).read()
    r.close()


def test_backlog_overflow_needs_a_full_resync(servers):
    master, replica = start_pair(servers, "--repl-backlog-size", "16kb")
    wait_for(lambda: in_sync(master, replica), "the full sync")
    before = info(master, "stats")["sync_full"]
    # Stop the replica, cut its link from the master's side, and write more than the backlog holds.
    os.kill(replica.pid, signal.SIGSTOP)
    c = master.client()
    replicas = c.client_list(_type="replica")
    assert len(replicas) == 1 and "S" in replicas[0]["flags"]
    assert c.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
    c.close()
    write_more(master, n=400, prefix=b"overflow")
    assert info(master, "replication")["repl_backlog_histlen"] == 16384
    os.kill(replica.pid, signal.SIGCONT)
    wait_for(lambda: in_sync(master, replica), "the full resync")
    stats = info(master, "stats")
    assert stats["sync_full"] == before + 1, stats
    assert stats["sync_partial_err"] >= 1, stats
    assert "lack of backlog" in open(master.log_path).read()


def test_two_replicas_share_one_fork(servers):
    master = servers("cairn", "--repl-diskless-sync-delay", "3")
    fill(master)
    forks = info(master, "stats")["total_forks"]
    a = servers("redis", "--replicaof", "127.0.0.1", str(master.port))
    b = servers("redis", "--replicaof", "127.0.0.1", str(master.port))
    wait_for(lambda: in_sync(master, a) and in_sync(master, b), "both full syncs")
    assert info(master, "stats")["total_forks"] == forks + 1
    assert info(master, "replication")["connected_slaves"] == 2
    write_more(master)
    wait_for(lambda: in_sync(master, a) and in_sync(master, b), "the stream to both")


def test_replconf_errors(servers):
    master = servers("cairn")
    c = master.client()
    with pytest.raises(Exception, match="Unrecognized REPLCONF option: nonsense"):
        c.execute_command("REPLCONF", "nonsense", "1")
    with pytest.raises(Exception, match="syntax error"):
        c.execute_command("REPLCONF", "listening-port")
    assert c.execute_command("REPLCONF", "listening-port", "6380", "capa", "eof", "capa", "psync2") in (b"OK", "OK", True)
    # No replica yet: the node serves as before and INFO says so.
    r = info(master, "replication")
    assert r["role"] == "master" and r["connected_slaves"] == 0 and r["repl_backlog_active"] == 0
    c.close()


# -- Cairn as the replica


def test_cairn_replica_of_redis_master(servers):
    master = servers("redis", "--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes")
    fill(master)
    replica = servers("cairn", "--replicaof", "127.0.0.1", str(master.port))
    wait_for(lambda: in_sync(master, replica), "the full sync from Redis")
    write_more(master)
    wait_for(lambda: in_sync(master, replica), "the stream from Redis")
    r = replica.client()
    with RawConnection(replica.port) as raw:
        assert str(raw.command("SET", "x", "1")) == "READONLY You can't write against a read only replica."
    assert r.get(b"after:s:5") == b"v5"  # reads are served
    i = info(replica, "replication")
    assert i["role"] == "slave" and i["master_port"] == master.port and i["master_link_status"] == "up"
    # A key past its time is hidden on the replica but stays until the master's DEL.
    m = master.client()
    m.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    m.set(b"ghost", b"x", px=100)
    wait_for(lambda: r.dbsize() == m.dbsize(), "the key on the replica")
    wait_for(lambda: r.get(b"ghost") is None, "the key to be hidden")
    assert r.exists(b"ghost") == 0 and r.dbsize() == m.dbsize()
    assert m.get(b"ghost") is None  # the master deletes it (lazily) and sends DEL
    wait_for(lambda: r.dbsize() == m.dbsize() == master.client().dbsize(), "the DEL")
    # A Redis master's WAIT is answered by the Cairn replica's REPLCONF ACK (GETACK in the stream).
    m.set(b"waited", b"1")
    assert m.execute_command("WAIT", 1, 10000) == 1
    # The link drops (the master kills it): PSYNC continues from the backlog.
    assert m.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
    write_more(master, prefix=b"gap")
    wait_for(lambda: in_sync(master, replica), "the partial resync")
    stats = info(master, "stats")
    assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 1, stats
    m.close()
    r.close()


def test_cairn_to_cairn_and_a_chain_to_redis(servers):
    """Cairn master -> Cairn replica (RDB in Cairn's LZ4 frame) -> Redis sub-replica, which gets
    the master's stream through the middle node byte for byte."""
    master = servers("cairn", "--repl-diskless-sync-delay", "0")
    fill(master)
    middle = servers("cairn", "--repl-diskless-sync-delay", "0", "--replicaof", "127.0.0.1", str(master.port))
    wait_for(lambda: in_sync(master, middle), "the Cairn replica's sync")
    leaf = servers("redis", "--replicaof", "127.0.0.1", str(middle.port))
    wait_for(lambda: in_sync(middle, leaf), "the sub-replica's sync")
    write_more(master)
    wait_for(lambda: in_sync(master, middle) and in_sync(middle, leaf), "the stream down the chain")
    assert info(leaf, "replication")["master_repl_offset"] == info(master, "replication")["master_repl_offset"]
    assert info(middle, "replication")["master_replid"] == info(master, "replication")["master_replid"]
    with pytest.raises(Exception, match="WAIT cannot be used with replica instances"):
        middle.client().execute_command("WAIT", 0, 0)


def test_promoted_replica_serves_the_others_partially(servers):
    """PSYNC2: a Redis master M with replicas A (Cairn) and B (Redis). A is promoted; B, pointed
    at A, continues from A's backlog under M's old id instead of copying everything."""
    m = servers("redis", "--repl-diskless-sync-delay", "0")
    fill(m)
    a = servers("cairn", "--repl-diskless-sync-delay", "0", "--replicaof", "127.0.0.1", str(m.port))
    b = servers("redis", "--replicaof", "127.0.0.1", str(m.port))
    write_more(m)
    wait_for(lambda: in_sync(m, a) and in_sync(m, b), "both replicas")
    old_id = info(m, "replication")["master_replid"]
    ac = a.client()
    assert ac.execute_command("REPLICAOF", "NO", "ONE") in (b"OK", "OK", True)
    ia = info(a, "replication")
    assert ia["role"] == "master" and ia["master_replid2"] == old_id and ia["master_replid"] != old_id
    ac.set(b"written-on-a", b"1")  # a master again: writes are accepted
    bc = b.client()
    bc.execute_command("REPLICAOF", "127.0.0.1", str(a.port))
    wait_for(lambda: in_sync(a, b), "B following A")
    stats = info(a, "stats")
    assert stats["sync_partial_ok"] == 1 and stats["sync_full"] == 0, stats
    assert bc.get(b"written-on-a") == b"1"
    ac.close()
    bc.close()


def test_replicaof_errors_and_unreachable_master(servers):
    node = servers("cairn")
    c = node.client()
    with pytest.raises(Exception, match="Invalid master port"):
        c.execute_command("REPLICAOF", "127.0.0.1", "70000")
    assert c.execute_command("REPLICAOF", "NO", "ONE") in (b"OK", "OK", True)  # already a master
    c.set(b"k", b"v")
    # Nothing listens there: the link stays down, the node keeps serving its data.
    dead = free_port()
    assert c.execute_command("REPLICAOF", "127.0.0.1", str(dead)) in (b"OK", "OK", True)
    wait_for(lambda: "Connecting to MASTER 127.0.0.1:%d" % dead in open(node.log_path).read(), "a connection attempt")
    i = info(node, "replication")
    assert i["role"] == "slave" and i["master_link_status"] == "down"
    assert c.get(b"k") == b"v"
    assert c.execute_command("REPLICAOF", "127.0.0.1", str(dead)) in (b"OK Already connected to specified master",
                                                                     "OK Already connected to specified master")
    assert c.execute_command("REPLICAOF", "NO", "ONE") in (b"OK", "OK", True)
    c.set(b"k2", b"v")
    assert info(node, "replication")["role"] == "master"
    c.close()


def test_wait_and_min_replicas_to_write(servers):
    master, replica = start_pair(servers)
    wait_for(lambda: in_sync(master, replica), "the full sync")
    c = master.client()
    c.set(b"w", b"1")
    assert c.execute_command("WAIT", 1, 10000) == 1
    assert c.execute_command("WAIT", 0, 0) == 1
    start = time.monotonic()
    assert c.execute_command("WAIT", 2, 300) == 1  # only one replica: the timeout answers
    assert time.monotonic() - start >= 0.25
    with pytest.raises(Exception, match="timeout is negative"):
        c.execute_command("WAIT", 1, -1)
    # A stopped replica acknowledges nothing.
    os.kill(replica.pid, signal.SIGSTOP)
    try:
        c.set(b"w", b"2")
        assert c.execute_command("WAIT", 1, 300) == 0
        # min-replicas-to-write: writes wait for replicas that acknowledged within the lag.
        c.config_set("min-replicas-max-lag", 1)
        c.config_set("min-replicas-to-write", 1)
        with RawConnection(master.port) as raw:
            wait_for(lambda: str(raw.command("SET", "x", "1")) == "NOREPLICAS Not enough good replicas to write.",
                     "writes refused")
            assert raw.command("EXISTS", "w") == 1  # reads are served
    finally:
        os.kill(replica.pid, signal.SIGCONT)
    with RawConnection(master.port) as raw:
        wait_for(lambda: raw.command("SET", "x", "1") == "OK", "writes accepted again")
    c.config_set("min-replicas-to-write", 2)
    with pytest.raises(Exception, match="Not enough good replicas to write"):
        c.set(b"y", b"1")
    c.config_set("min-replicas-to-write", 0)
    c.set(b"y", b"1")
    wait_for(lambda: in_sync(master, replica), "the stream after all that")
    c.close()
