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
import socket
import threading
import time

import pytest

import rdbdump
from resp import RawConnection
from serverproc import ServerKind, ServerProcess, free_port, require, wait_for
from test_rdb_interop import fill




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


def loopback_listener(backlog):
    """A listening socket on a free loopback port, and the port (fake masters, proxies)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    return sock, sock.getsockname()[1]



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
    try:
        return rdbdump.snapshot(master.client()) == rdbdump.snapshot(replica.client())
    except AttributeError:
        # A key with a short TTL expired between KEYS and the read of its value: not settled yet.
        return False


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


def start_trio(servers, master_kind):
    """A filled master of `master_kind` with a Cairn replica and a Redis replica, all in sync."""
    m = servers(master_kind, "--repl-diskless-sync-delay", "0")
    fill(m)
    a = servers("cairn", "--repl-diskless-sync-delay", "0", "--replicaof", "127.0.0.1", str(m.port))
    b = servers("redis", "--replicaof", "127.0.0.1", str(m.port))
    write_more(m)
    wait_for(lambda: in_sync(m, a) and in_sync(m, b), "both replicas")
    return m, a, b


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
    # PSYNC behind a reply not yet sent is refused (Redis's rule), and the connection stays a client.
    from resp import encode
    with RawConnection(master.port) as raw:
        raw.send(encode("PING") + encode("PSYNC", "?", "-1"))
        assert raw.read_reply() == "PONG"
        assert str(raw.read_reply()) == "ERR SYNC and PSYNC are invalid with pending output"
        assert raw.command("PING") == "PONG"
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
    # The replica lists its master link (flag M, type master), and killing it resyncs partially.
    masters = r.client_list(_type="master")
    assert len(masters) == 1 and "M" in masters[0]["flags"]
    assert r.execute_command("CLIENT", "KILL", "TYPE", "master") == 1
    write_more(master, prefix=b"gap2")
    wait_for(lambda: in_sync(master, replica), "the partial resync after CLIENT KILL TYPE master")
    stats = info(master, "stats")
    assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 2, stats
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
    # A writable replica's own writes stay local: its replica gets the master's stream only.
    mc = middle.client()
    mc.config_set("replica-read-only", "no")
    mc.set(b"local-only", b"1")
    write_more(master, prefix=b"after-local")
    wait_for(lambda: offsets_match(master, middle) and offsets_match(middle, leaf)
             and leaf.client().exists(b"after-local:s:1") == 1, "the stream after a local write")
    assert leaf.client().exists(b"local-only") == 0
    assert info(leaf, "replication")["master_repl_offset"] == info(master, "replication")["master_repl_offset"]
    mc.close()


def test_promoted_replica_serves_the_others_partially(servers):
    """PSYNC2: a Redis master M with replicas A (Cairn) and B (Redis). A is promoted; B, pointed
    at A, continues from A's backlog under M's old id instead of copying everything."""
    m, a, b = start_trio(servers, "redis")
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
        # WAIT waits for the calling client's own writes (Redis's c->woff): a client that wrote
        # nothing since is answered at once, whatever other clients wrote.
        other = master.client()
        assert other.execute_command("WAIT", 1, 1000) == 1
        other.close()
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


# -- tools, introspection and bad input


def test_redis_cli_rdb_and_replica_and_role(servers, tmp_path):
    import shutil
    import subprocess
    cli = shutil.which("redis-cli")
    if not cli:
        pytest.skip("redis-cli not installed")
    master = servers("cairn")
    fill(master)
    out = tmp_path / "dump.rdb"
    subprocess.run([cli, "-p", str(master.port), "--rdb", str(out)], check=True, capture_output=True, timeout=60)
    # The file redis-cli received loads in a real Redis with the master's content.
    copy = servers("redis", "--dbfilename", "fromcli.rdb")
    copy.stop()
    shutil.copyfile(out, os.path.join(copy.dir, "fromcli.rdb"))
    copy.start()
    assert rdbdump.snapshot(copy.client()) == rdbdump.snapshot(master.client())
    # redis-cli --replica prints the stream.
    proc = subprocess.Popen([cli, "-p", str(master.port), "--replica"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: info(master, "replication")["connected_slaves"] == 1, "redis-cli as a replica")
        c = master.client()
        wait_for(lambda: c.execute_command("ROLE")[2] != [], "the replica online in ROLE")
        role = c.execute_command("ROLE")
        assert role[0] == b"master" and role[1] == info(master, "replication")["master_repl_offset"]
        c.set(b"seen-by-cli", b"1")
        c.close()
    finally:
        time.sleep(0.5)  # let redis-cli print the command before it is stopped (output only)
        proc.terminate()
        text = proc.communicate(timeout=10)[0].decode(errors="replace")
    assert '"SET","seen-by-cli","1"' in text, text


def test_replica_that_stops_reading_is_dropped(servers):
    master = servers("cairn", "--repl-diskless-sync", "no", "--client-output-buffer-limit", "replica 256kb 0 0")
    s = socket.create_connection(("127.0.0.1", master.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$1\r\n1\r\n")
    assert s.recv(5) == b"+OK\r\n"  # PSYNC with a reply still pending is refused, as by Redis
    s.sendall(b"*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n")
    wait_for(lambda: info(master, "replication")["connected_slaves"] == 1, "the fake replica")
    c = master.client()
    value = b"x" * 10000
    wait_for(lambda: info(master, "replication").get("slave0", {}).get("state") == "online", "the fake replica online")
    for i in range(3000):  # 30 MB of stream, far more than the socket buffers hold
        c.set(b"k%d" % (i % 10), value)
        if info(master, "replication")["connected_slaves"] == 0:
            break
    wait_for(lambda: info(master, "replication")["connected_slaves"] == 0, "the stuck replica dropped")
    assert "overcoming of output buffer limits" in open(master.log_path).read()
    assert c.ping()
    c.close()
    s.close()


def test_stream_held_for_a_replica_in_full_sync_counts_toward_its_limit(servers):
    # Diskless: the (small) RDB goes out, then the master holds the stream until the replica's
    # first REPLCONF ACK says it loaded it. A replica that never acknowledges accumulates that
    # stream on the master, and the replica output buffer limit applies to it as in Redis.
    master = servers("cairn", "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
                     "--client-output-buffer-limit", "replica 256kb 0 0")
    s = socket.create_connection(("127.0.0.1", master.port))
    s.sendall(b"*3\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n")
    assert s.recv(5) == b"+OK\r\n"
    s.sendall(b"*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n")
    wait_for(lambda: info(master, "replication")["connected_slaves"] == 1, "the fake replica")
    c = master.client()
    value = b"x" * 10000
    for i in range(3000):  # up to 30 MB of stream; 256 KB is the limit
        c.set(b"k%d" % (i % 10), value)
        if info(master, "replication")["connected_slaves"] == 0:
            break
    wait_for(lambda: info(master, "replication")["connected_slaves"] == 0, "the replica dropped")
    assert "overcoming of output buffer limits" in open(master.log_path).read()
    assert c.ping()
    c.close()
    s.close()


class FakeMaster:
    """A listening socket that answers a replica's handshake (+PONG, +OK), then sends `payload`
    for PSYNC and closes the connection: a master that sends garbage or dies mid-transfer."""

    def __init__(self, payload):
        self.payload = payload
        self.sock, self.port = loopback_listener(4)
        self.psyncs = 0
        threading.Thread(target=self.serve, daemon=True).start()

    @staticmethod
    def commands(data):
        """The complete RESP commands at the start of `data`, and the rest."""
        out = []
        while data.startswith(b"*") and b"\r\n" in data:
            head, rest = data[1:].split(b"\r\n", 1)
            args = []
            for _ in range(int(head)):
                if b"\r\n" not in rest:
                    return out, data
                length, rest = rest[1:].split(b"\r\n", 1)
                if len(rest) < int(length) + 2:
                    return out, data
                args.append(rest[: int(length)])
                rest = rest[int(length) + 2:]
            out.append(args)
            data = rest
        return out, data

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                data = b""
                try:
                    done = False
                    while not done:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        commands, data = self.commands(data + chunk)
                        for args in commands:
                            name = args[0].upper()
                            if name == b"PSYNC":
                                self.psyncs += 1
                                conn.sendall(self.payload)
                                done = True
                                break
                            conn.sendall(b"+PONG\r\n" if name == b"PING" else b"+OK\r\n")
                except OSError:
                    pass

    def close(self):
        self.sock.close()


@pytest.mark.parametrize("case", ["truncated", "garbage-rdb", "bad-reply"])
def test_bad_masters_leave_the_node_serving(servers, case):
    fake_id = b"f" * 40
    payload = {
        # Dies mid-transfer: the old dataset stays, nothing half-loaded is served.
        "truncated": b"+FULLRESYNC " + fake_id + b" 0\r\n$1000\r\nREDIS0010" + b"\x00" * 100,
        # A whole transfer that is not an RDB: the load fails and the dataset is left empty.
        "garbage-rdb": b"+FULLRESYNC " + fake_id + b" 0\r\n$20\r\n" + b"this is not an RDB!!",
        "bad-reply": b"+WHATEVER\r\n",
    }[case]
    master = FakeMaster(payload)
    node = servers("cairn")
    c = node.client()
    c.set(b"mine", b"1")
    c.execute_command("REPLICAOF", "127.0.0.1", str(master.port))
    wait_for(lambda: master.psyncs >= 2, "two sync attempts (the first failed, the node retried)")
    log = open(node.log_path).read()
    expected = {"truncated": "I/O error trying to sync with MASTER: connection lost",
                "garbage-rdb": "Failed trying to load the MASTER synchronization DB from disk",
                "bad-reply": "Unexpected reply to PSYNC from master: +WHATEVER"}[case]
    assert expected in log, log[-3000:]
    assert c.ping()
    i = info(node, "replication")
    assert i["master_link_status"] == "down"
    if case == "truncated" or case == "bad-reply":
        assert c.get(b"mine") == b"1"
    else:
        assert c.dbsize() == 0  # flushed for the load that failed; never a partial dataset
    assert not [f for f in os.listdir(node.dir) if f.startswith("temp-")], "the temp file is removed"
    c.execute_command("REPLICAOF", "NO", "ONE")
    c.close()
    master.close()


# -- restarts: the replication id and offset in the RDB


def test_restarted_master_resyncs_its_replica_partially(servers):
    master, replica = start_pair(servers)
    write_more(master)
    wait_for(lambda: in_sync(master, replica), "the sync")
    before = info(master, "replication")
    c = master.client()
    c.save()
    c.close()
    master.stop()
    master.start()  # same dir, a new port: the replica is pointed at it
    restored = info(master, "replication")
    assert restored["master_replid2"] == before["master_replid"]
    assert restored["second_repl_offset"] == before["master_repl_offset"] + 1
    assert restored["master_repl_offset"] == before["master_repl_offset"]
    r = replica.client()
    r.execute_command("REPLICAOF", "127.0.0.1", str(master.port))
    write_more(master, prefix=b"after-restart")
    wait_for(lambda: in_sync(master, replica), "the resync with the restarted master")
    stats = info(master, "stats")
    assert stats["sync_partial_ok"] == 1 and stats["sync_full"] == 0, stats
    r.close()


def test_replica_killed_and_restarted_resyncs_partially(servers):
    master = servers("redis", "--repl-diskless-sync-delay", "0")
    fill(master)
    replica = servers("cairn", "--replicaof", "127.0.0.1", str(master.port))
    write_more(master)
    m1 = master.client(db=1)
    m1.set(b"a", b"1")  # the stream is now in database 1
    wait_for(lambda: in_sync(master, replica), "the sync")
    # The replica's snapshot records the master's id, its offset and the stream's database.
    replica.client().save()
    m1.set(b"b", b"2")  # not in the snapshot
    os.kill(replica.pid, signal.SIGKILL)
    replica.proc.wait()
    m1.set(b"while-down", b"3")  # in database 1 with no SELECT before it in the stream
    replica.start()
    wait_for(lambda: in_sync(master, replica), "the partial resync after the restart")
    stats = info(master, "stats")
    assert stats["sync_full"] == 1 and stats["sync_partial_ok"] == 1, stats
    r1 = replica.client(db=1)
    assert r1.mget(b"a", b"b", b"while-down") == [b"1", b"2", b"3"]
    assert replica.client().exists(b"while-down") == 0
    r1.close()
    m1.close()


# -- random write streams


def drive(server, seed, n):
    """`n` commands of the differential generator (all types, MULTI/EXEC blocks, MOVE, expiries),
    plus short TTLs and blocking pops served by pushes; replies are not checked here."""
    from differential import Generator
    gen = Generator(seed)
    rng = __import__("random").Random(seed)
    with RawConnection(server.port) as c:
        for i in range(n):
            cmd = gen.command()
            if cmd[0] == "__tx__":
                c.command("MULTI")
                for sub in cmd[1]:
                    if sub[0] != "WATCH":
                        c.command(*sub)
                c.command("EXEC")
            else:
                c.command(*cmd)
            if i % 50 == 0:
                c.command("SET", "ttl:%d" % i, "v", "PX", str(rng.randint(1, 200)))
            if i % 200 == 0:
                # A blocked BLMOVE, served by a push from another client: the stream carries the
                # effect (LMOVE-like RPOP/LPUSH), not the blocking command.
                waiter = RawConnection(server.port)
                t = threading.Thread(target=lambda: waiter.command("BLMOVE", "bq", "bq-out", "LEFT", "RIGHT", "5"))
                t.start()
                wait_for(lambda: server.client().info("clients")["blocked_clients"] == 1, "the blocked client")
                c.command("RPUSH", "bq", "item%d" % i)
                t.join()
                waiter.close()


@pytest.mark.parametrize("master_kind", ["cairn", "redis"])
def test_random_write_streams_keep_replicas_equal(servers, master_kind):
    master = servers(master_kind, "--repl-diskless-sync-delay", "0")
    replicas = [servers(kind, "--replicaof", "127.0.0.1", str(master.port)) for kind in ("cairn", "redis")]
    drive(master, seed=1301, n=600)  # while the replicas sync and then stream
    for r in replicas:
        wait_for(lambda: in_sync(master, r), f"{r.kind.name} replica equal to the {master_kind} master")
    drive(master, seed=1302, n=1500)
    for r in replicas:
        wait_for(lambda: in_sync(master, r), f"{r.kind.name} replica equal after more writes")


def test_replica_with_aof_keeps_only_the_synced_dataset(servers):
    """A replica's AOF is restarted from a rewrite of the loaded RDB: after a restart on its own,
    the node has the master's data, not its old history mixed in."""
    master = servers("redis", "--repl-diskless-sync-delay", "0")
    fill(master)
    replica = servers("cairn", "--appendonly", "yes")
    rc = replica.client()
    rc.set(b"old-history", b"1")  # in the AOF before the sync
    rc.execute_command("REPLICAOF", "127.0.0.1", str(master.port))
    write_more(master)
    wait_for(lambda: in_sync(master, replica), "the sync")

    def aof_settled():
        p = info(replica, "persistence")
        return p["aof_rewrite_in_progress"] == 0 and p["aof_rewrite_scheduled"] == 0 and p["aof_last_bgrewrite_status"] == "ok"
    wait_for(aof_settled, "the AOF rewrite after the sync")
    write_more(master, prefix=b"streamed")  # into the new AOF's increment
    wait_for(lambda: in_sync(master, replica), "the stream")
    expected = rdbdump.snapshot(master.client())
    os.kill(replica.pid, signal.SIGKILL)
    replica.proc.wait()
    replica.extra_args = ["--appendonly", "yes"]  # restart alone, from the AOF
    replica.start()
    assert rdbdump.snapshot(replica.client()) == expected


class CuttableProxy:
    """A TCP proxy on loopback (replica -> proxy -> master) whose live connections `cut()` closes
    at once, as a network failure would; later connections pass again."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.sock, self.port = loopback_listener(8)
        self.live = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                down, _ = self.sock.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.live += [down, up]
            for a, b in ((down, up), (up, down)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass

    def cut(self):
        with self.lock:
            for s in self.live:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self.live = []

    def close(self):
        self.cut()
        self.sock.close()


def test_link_cut_during_the_transfer_retries_and_converges(servers):
    # Each key takes 5 ms to save: the transfer is still running when the link is cut.
    master = servers("cairn", "--repl-diskless-sync-delay", "0", "--rdb-key-save-delay", "5000")
    fill(master)
    proxy = CuttableProxy(master.port)
    replica = servers("redis", "--replicaof", "127.0.0.1", str(proxy.port))
    wait_for(lambda: info(master, "replication").get("slave0", {}).get("state") == "send_bulk", "the transfer")
    proxy.cut()
    c = master.client()
    c.config_set("rdb-key-save-delay", 0)
    write_more(master)
    wait_for(lambda: in_sync(master, replica), "the replica to retry and converge")
    assert info(master, "stats")["sync_full"] >= 2
    assert "Background transfer error" in open(master.log_path).read()
    c.close()
    proxy.close()


def test_replicaof_itself_and_sync_from_a_detached_replica(servers):
    node = servers("cairn")
    c = node.client()
    c.set(b"k", b"v")
    c.execute_command("REPLICAOF", "127.0.0.1", str(node.port))
    # Its own PSYNC is refused (it follows no master), so it never syncs from itself.
    wait_for(lambda: "NOMASTERLINK" in open(node.log_path).read(), "the refused PSYNC")
    assert info(node, "replication")["master_link_status"] == "down"
    with RawConnection(node.port) as raw:
        assert str(raw.command("PSYNC", "?", "-1")) == "NOMASTERLINK Can't SYNC while not connected with my master"
    assert c.get(b"k") == b"v"
    c.execute_command("REPLICAOF", "NO", "ONE")
    c.close()


def test_silent_replica_is_disconnected_after_repl_timeout(servers):
    master, replica = start_pair(servers, "--repl-timeout", "2")
    wait_for(lambda: in_sync(master, replica), "the sync")
    os.kill(replica.pid, signal.SIGSTOP)  # no more ACKs
    try:
        wait_for(lambda: info(master, "replication")["connected_slaves"] == 0, "the silent replica dropped")
        assert "Disconnecting timedout replica" in open(master.log_path).read()
    finally:
        os.kill(replica.pid, signal.SIGCONT)
    write_more(master)
    wait_for(lambda: in_sync(master, replica), "the replica back")


def test_replica_directives(servers):
    master = servers("redis", "--repl-diskless-sync-delay", "0", "--repl-backlog-ttl", "1")
    replica = servers("cairn", "--replicaof", "127.0.0.1", str(master.port), "--replica-announce-ip", "10.1.2.3",
                      "--replica-announce-port", "7777", "--replica-priority", "42", "--replica-serve-stale-data", "no")
    wait_for(lambda: link_up(replica), "the sync")
    # The master lists the replica under the announced address.
    slave0 = info(master, "replication")["slave0"]
    assert slave0["ip"] == "10.1.2.3" and slave0["port"] == 7777
    assert info(replica, "replication")["slave_priority"] == 42
    r = replica.client()
    assert r.config_get("repl-diskless-load")["repl-diskless-load"] == "disabled"
    with pytest.raises(Exception, match="argument"):
        r.config_set("repl-diskless-load", "sometimes")
    # With the link down and replica-serve-stale-data no, only stale-flagged commands answer.
    master.stop()
    wait_for(lambda: info(replica, "replication")["master_link_status"] == "down", "the link down")
    with RawConnection(replica.port) as raw:
        assert str(raw.command("GET", "k")) == "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
        assert str(raw.command("PING")).startswith("MASTERDOWN")  # PING has no stale flag (Redis 7.0 too)
    assert info(replica, "replication")["role"] == "slave"  # INFO is stale-flagged
    r.config_set("replica-serve-stale-data", "yes")
    assert r.get(b"k") is None
    r.close()


def test_backlog_freed_after_ttl_without_replicas(servers):
    master, replica = start_pair(servers, "--repl-backlog-ttl", "1")
    wait_for(lambda: in_sync(master, replica), "the sync")
    old_id = info(master, "replication")["master_replid"]
    replica.stop()
    wait_for(lambda: info(master, "replication")["repl_backlog_active"] == 0, "the backlog freed")
    i = info(master, "replication")
    assert i["master_replid"] != old_id and i["master_repl_offset"] > 0
    assert "Replication backlog freed after 1 seconds without connected replicas." in open(master.log_path).read()


# -- FAILOVER


def role(server):
    return server.client().execute_command("ROLE")


def test_failover_to_a_cairn_replica_keeps_every_write(servers):
    m, a, b = start_trio(servers, "cairn")
    mc = m.client()
    assert mc.execute_command("FAILOVER", "TO", "127.0.0.1", a.port) in (b"OK", "OK", True)
    wait_for(lambda: role(a)[0] == b"master" and role(m)[0] == b"slave" and role(m)[3] == b"connected", "the hand-over")
    assert info(m, "replication")["master_failover_state"] == "no-failover"
    assert info(a, "stats")["sync_full"] == 0, "the old master continued partially"
    with RawConnection(m.port) as raw:
        assert str(raw.command("SET", "x", "1")) == "READONLY You can't write against a read only replica."
    ac = a.client()
    ac.set(b"after-failover", b"1")
    write_more(a, prefix=b"new-master")
    wait_for(lambda: in_sync(a, m) and in_sync(m, b), "the new topology in sync (b follows m, m follows a)")
    assert "Failover successful" in open(m.log_path).read()
    ac.close()
    mc.close()


@pytest.mark.parametrize("direction", ["redis-master-to-cairn", "cairn-master-to-redis"])
def test_failover_interop(servers, direction):
    master_kind, replica_kind = ("redis", "cairn") if direction == "redis-master-to-cairn" else ("cairn", "redis")
    m = servers(master_kind, "--repl-diskless-sync-delay", "0")
    fill(m)
    r = servers(replica_kind, "--replicaof", "127.0.0.1", str(m.port))
    write_more(m)
    wait_for(lambda: in_sync(m, r), "the replica")
    args = ["FAILOVER"] if master_kind == "cairn" else ["FAILOVER", "TO", "127.0.0.1", r.port]
    assert m.client().execute_command(*args) in (b"OK", "OK", True)
    wait_for(lambda: role(r)[0] == b"master" and role(m)[0] == b"slave" and role(m)[3] == b"connected", "the hand-over")
    r.client().set(b"on-the-new-master", b"1")
    wait_for(lambda: in_sync(r, m), "the old master following the new one")
    assert info(r, "stats")["sync_partial_ok"] >= 1


def test_failover_errors_and_timeout(servers):
    lone = servers("cairn")
    c = lone.client()
    with pytest.raises(Exception, match="FAILOVER requires connected replicas."):
        c.execute_command("FAILOVER")
    with pytest.raises(Exception, match="No failover in progress."):
        c.execute_command("FAILOVER", "ABORT")
    with pytest.raises(Exception, match="FAILOVER with force option requires both a timeout and target HOST and IP."):
        c.execute_command("FAILOVER", "FORCE")
    with pytest.raises(Exception, match="FAILOVER timeout must be greater than 0"):
        c.execute_command("FAILOVER", "TIMEOUT", "0")
    c.close()
    m, r = start_pair(servers)
    wait_for(lambda: in_sync(m, r), "the replica")
    mc = m.client()
    with pytest.raises(Exception, match="FAILOVER target HOST and PORT is not a replica."):
        mc.execute_command("FAILOVER", "TO", "127.0.0.1", "1")
    # A replica that never catches up: the failover times out and the master takes writes again.
    os.kill(r.pid, signal.SIGSTOP)
    try:
        mc.set(b"unacked", b"1")
        assert mc.execute_command("FAILOVER", "TIMEOUT", "2000") in (b"OK", "OK", True)
        assert info(m, "replication")["master_failover_state"] == "waiting-for-sync"
        with pytest.raises(Exception, match="FAILOVER already in progress."):
            mc.execute_command("FAILOVER")
        # Writes wait while the failover runs (as Redis pauses them), and run after the abort.
        writer = RawConnection(m.port)
        writer.send(b"*3\r\n$3\r\nSET\r\n$6\r\npaused\r\n$1\r\n1\r\n")
        wait_for(lambda: int(info(m, "clients")["blocked_clients"]) == 1, "the write paused")
        wait_for(lambda: info(m, "replication")["master_failover_state"] == "no-failover", "the timeout")
        assert writer.read_reply() == "OK"
        writer.close()
        assert "FAILOVER aborted: Replica never caught up before timeout" in open(m.log_path).read()
        assert mc.set(b"after-abort", b"1")
        assert role(m)[0] == b"master"
    finally:
        os.kill(r.pid, signal.SIGCONT)
    wait_for(lambda: in_sync(m, r), "the replica back")
    mc.close()


@pytest.mark.parametrize("master_kind,diskless_sync", [("redis", "yes"), ("redis", "no"), ("cairn", "yes"), ("cairn", "no")])
def test_diskless_load_on_empty_db(servers, master_kind, diskless_sync):
    """repl-diskless-load on-empty-db: an empty replica loads the RDB from the socket as it arrives
    ($EOF:-framed or $<length>, Redis's LZF RDB or Cairn's LZ4 one); a replica with data still
    goes through the temporary file."""
    master = servers(master_kind, "--repl-diskless-sync", diskless_sync, "--repl-diskless-sync-delay", "0")
    fill(master)
    replica = servers("cairn", "--repl-diskless-load", "on-empty-db")
    rc = replica.client()
    rc.execute_command("REPLICAOF", "127.0.0.1", str(master.port))
    write_more(master)  # while the sync runs: the stream after the RDB
    wait_for(lambda: in_sync(master, replica), "the diskless load")
    log = open(replica.log_path).read()
    assert "to parser" in log and "to disk" not in log
    assert not [f for f in os.listdir(replica.dir) if f.startswith("temp-")]
    # Not empty any more: the next full sync goes through the disk.
    rc.execute_command("REPLICAOF", "NO", "ONE")
    rc.set(b"local", b"1")
    rc.execute_command("REPLICAOF", "127.0.0.1", str(master.port))
    m = master.client()
    m.execute_command("CLIENT", "KILL", "TYPE", "replica")
    wait_for(lambda: in_sync(master, replica), "the second sync")
    assert "to disk" in open(replica.log_path).read()
    m.close()
    rc.close()


def test_diskless_load_swapdb_keeps_the_old_dataset_when_a_load_fails(servers):
    fake_id = b"f" * 40
    master = FakeMaster(b"+FULLRESYNC " + fake_id + b" 0\r\n$20\r\n" + b"this is not an RDB!!")
    node = servers("cairn", "--repl-diskless-load", "swapdb")
    c = node.client()
    c.set(b"mine", b"1")
    c.execute_command("REPLICAOF", "127.0.0.1", str(master.port))
    wait_for(lambda: master.psyncs >= 2, "two failed sync attempts")
    assert "restoring the old dataset" in open(node.log_path).read()
    assert c.get(b"mine") == b"1"  # the old data is back after each failed load
    c.execute_command("REPLICAOF", "NO", "ONE")
    master.close()
    # And a load that succeeds replaces it.
    real = servers("redis", "--repl-diskless-sync-delay", "0")
    fill(real)
    c.execute_command("REPLICAOF", "127.0.0.1", str(real.port))
    wait_for(lambda: in_sync(real, node), "the sync with swapdb")
    assert c.exists(b"mine") == 0
    c.close()


def test_keepalives_while_a_slow_disk_sync_is_saved(servers):
    """A disk-based sync whose save takes longer than the replica's repl-timeout: the master's
    newlines keep the waiting replica from timing out (as Redis's do)."""
    master = servers("cairn", "--repl-diskless-sync", "no", "--rdb-key-save-delay", "30000")
    fill(master)  # ~130 keys at 30 ms: a save of about 4 s
    replica = servers("redis", "--repl-timeout", "2", "--replicaof", "127.0.0.1", str(master.port))
    wait_for(lambda: in_sync(master, replica), "the slow sync", cap=60)
    assert info(master, "stats")["sync_full"] == 1, "the replica did not time out and retry"
    assert "Timeout" not in open(replica.log_path).read()
