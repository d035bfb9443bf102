"""Cluster mode: a cairn-server started with `cluster-enabled yes`, alone and next to a real
redis-server 7.0 cluster node (the bus interop). Replies are checked against Redis's texts, most
of them by running the same commands on a real Redis 7.0 cluster node side by side.

Bus ports are chosen free and passed with `cluster-port` (the default, port + 10000, can fall
outside the port range for an ephemeral test port). Every wait polls with a deadline."""

import os
import re

import pytest
import redis

from resp import RawConnection
from serverproc import ServerProcess, free_port, require, wait_for


def cluster_node(kind_name, tmp_root, *extra):
    s = ServerProcess(require(kind_name), tmp_root, ["--cluster-enabled", "yes", "--cluster-port", str(free_port()),
                                                      "--cluster-node-timeout", "5000", *extra])
    s.start()
    return s


@pytest.fixture
def nodes(_tmp_root):
    started = []

    def start(kind_name="cairn", *extra):
        s = cluster_node(kind_name, _tmp_root, *extra)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def bus_port(s):
    argv = s.command_line()
    return int(argv[argv.index("--cluster-port") + 1])


def cluster_info(raw):
    text = raw.command("CLUSTER", "INFO")
    text = text.decode() if isinstance(text, bytes) else text
    return dict(l.split(":", 1) for l in text.split("\r\n") if ":" in l)


def nodes_lines(raw):
    text = raw.command("CLUSTER", "NODES")
    text = text.decode() if isinstance(text, bytes) else text
    return [l.split(" ") for l in text.strip().split("\n") if l]


def redis_cli_path():
    import shutil
    cli = shutil.which("redis-cli")
    if not cli:
        pytest.skip("redis-cli not installed")
    return cli


def cluster_create(members, replicas=0):
    """`redis-cli --cluster create` over `members`, as a user runs it; then every node says ok and
    knows them all. Returns redis-cli's output."""
    import subprocess
    argv = [redis_cli_path(), "--cluster", "create", *[f"127.0.0.1:{n.port}" for n in members]]
    argv += ["--cluster-replicas", str(replicas)] if replicas else []
    create = subprocess.run(argv + ["--cluster-yes"], capture_output=True, text=True, timeout=180)
    assert create.returncode == 0, create.stdout + create.stderr
    assert "[OK] All 16384 slots covered." in create.stdout
    for n in members:
        with RawConnection(n.port) as raw:
            wait_for(lambda: cluster_info(raw)["cluster_state"] == "ok"
                     and cluster_info(raw)["cluster_known_nodes"] == str(len(members)), "every node to know them all and be ok")
    return create.stdout


def test_first_start_names_the_node_and_restarts_keep_it(nodes):
    s = nodes()
    with RawConnection(s.port) as raw:
        myid = raw.command("CLUSTER", "MYID").decode()
        assert re.fullmatch(r"[0-9a-f]{40}", myid)
        assert f"No cluster configuration found, I'm {myid}" in s.log()
        assert cluster_info(raw)["cluster_state"] == "fail"  # no slots yet
        assert raw.command("INFO", "cluster").decode().splitlines()[1] == "cluster_enabled:1"
        assert raw.command("CLUSTER", "ADDSLOTSRANGE", 0, 16383) == "OK"
        assert raw.command("CLUSTER", "SET-CONFIG-EPOCH", 5) == "OK"
        assert cluster_info(raw)["cluster_state"] == "ok"
        assert raw.command("SET", "foo", "bar") == "OK"
        assert raw.command("SAVE") == "OK"
    conf = open(os.path.join(s.dir, "nodes.conf")).read()
    assert conf.startswith(myid + " ") and "myself,master" in conf and "0-16383" in conf
    assert conf.rstrip("\n").endswith("vars currentEpoch 5 lastVoteEpoch 0")
    s.stop()
    s.start()
    with RawConnection(s.port) as raw:
        assert raw.command("CLUSTER", "MYID").decode() == myid
        line = nodes_lines(raw)[0]
        assert line[0] == myid and line[2] == "myself,master" and line[6] == "5" and line[8] == "0-16383"
        # As Redis after a restart, the node says ok once its cron has looked at the table.
        wait_for(lambda: cluster_info(raw)["cluster_state"] == "ok", "the restarted node to be ok")
        assert raw.command("GET", "foo") == b"bar"
    assert "No cluster configuration found" not in s.log().split("Node configuration loaded")[-1]


def test_corrupt_nodes_conf_refuses_to_start(nodes, _tmp_root):
    s = nodes()
    s.stop()
    path = os.path.join(s.dir, "nodes.conf")
    text = open(path).read()
    open(path, "w").write(text.replace(" 0 0 ", " x 0 ", 1) if " 0 0 " in text else "garbage line\n")
    assert s.run_to_exit() not in (0, None)
    assert "corrupted cluster config file" in s.log()
    assert open(path).read() != "", "the file is left as it was"


def test_unreadable_nodes_conf_refuses_to_start(nodes):
    s = nodes()
    s.stop()
    path = os.path.join(s.dir, "nodes.conf")
    os.remove(path)
    os.mkdir(path)  # there, but not readable as a file: never a reason to take a new identity
    assert s.run_to_exit() not in (0, None)
    assert "can't read the cluster config file" in s.log()


@pytest.mark.parametrize("kind", ["cairn", "redis"])
def test_slot_commands_and_redirections_as_redis(nodes, kind):
    s = nodes(kind)
    with RawConnection(s.port) as raw:
        def err(*args):
            return str(raw.command(*args))
        assert err("CLUSTER", "ADDSLOTS", 16384) == "ERR Invalid or out of range slot"
        assert err("CLUSTER", "ADDSLOTS", "x") == "ERR Invalid or out of range slot"
        assert raw.command("CLUSTER", "ADDSLOTS", 1, 2) == "OK"
        assert err("CLUSTER", "ADDSLOTS", 2) == "ERR Slot 2 is already busy"
        assert err("CLUSTER", "ADDSLOTS", 3, 3) == "ERR Slot 3 specified multiple times"
        assert err("CLUSTER", "DELSLOTS", 9) == "ERR Slot 9 is already unassigned"
        assert err("CLUSTER", "ADDSLOTSRANGE", 10, 5) == "ERR start slot number 10 is greater than end slot number 5"
        assert err("CLUSTER", "ADDSLOTSRANGE", 10) == "ERR wrong number of arguments for 'cluster|addslotsrange' command"
        assert raw.command("CLUSTER", "DELSLOTSRANGE", 1, 2) == "OK"
        assert raw.command("CLUSTER", "ADDSLOTSRANGE", 0, 16383) == "OK"
        wait_for(lambda: cluster_info(raw)["cluster_state"] == "ok", "the cluster to be ok")
        assert raw.command("CLUSTER", "KEYSLOT", "foo") == 12182
        assert raw.command("CLUSTER", "KEYSLOT", "{user1000}.following") == 3443
        for k in ("a{t}", "b{t}", "c{t}"):
            assert raw.command("SET", k, "v") == "OK"
        assert raw.command("CLUSTER", "COUNTKEYSINSLOT", raw.command("CLUSTER", "KEYSLOT", "t")) == 3
        assert sorted(raw.command("CLUSTER", "GETKEYSINSLOT", raw.command("CLUSTER", "KEYSLOT", "t"), 10)) == [b"a{t}", b"b{t}", b"c{t}"]
        assert err("CLUSTER", "COUNTKEYSINSLOT", 20000) == "ERR Invalid slot"
        assert err("CLUSTER", "GETKEYSINSLOT", 1, -1) == "ERR Invalid slot or number of keys"
        assert raw.command("MSET", "x{t}", "1", "y{t}", "2") == "OK"
        assert err("MSET", "x", "1", "y", "2") == "CROSSSLOT Keys in request don't hash to the same slot"
        assert err("SELECT", 1) == "ERR SELECT is not allowed in cluster mode"
        assert raw.command("SELECT", 0) == "OK"
        assert err("SWAPDB", 0, 1) == "ERR SWAPDB is not allowed in cluster mode"
        assert err("MOVE", "a{t}", 1) == "ERR MOVE is not allowed in cluster mode"
        # A transaction touching two slots: each command is queued (one slot each), and EXEC,
        # which checks them together, answers CROSSSLOT itself and discards the transaction.
        assert raw.command("MULTI") == "OK"
        assert raw.command("SET", "a{t}", "new") == "QUEUED"
        assert raw.command("SET", "b", "1") == "QUEUED"
        assert err("EXEC") == "CROSSSLOT Keys in request don't hash to the same slot"
        assert raw.command("GET", "a{t}") == b"v"
        assert err("DISCARD") == "ERR DISCARD without MULTI"
        # An unserved slot.
        slot = raw.command("CLUSTER", "KEYSLOT", "foo")
        assert raw.command("CLUSTER", "DELSLOTS", slot) == "OK"
        assert err("GET", "foo") == "CLUSTERDOWN Hash slot not served"
        assert err("CLUSTER", "SETSLOT", slot, "MIGRATING", "0" * 40) == f"ERR I'm not the owner of hash slot {slot}"
        assert err("CLUSTER", "SETSLOT", slot, "NODE", "0" * 40) == f"ERR Unknown node {'0' * 40}"
        assert err("CLUSTER", "SETSLOT", slot, "BOGUS") == "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP"
        assert err("CLUSTER", "FORGET", raw.command("CLUSTER", "MYID").decode()) == "ERR I tried hard but I can't forget myself..."
        assert err("CLUSTER", "FLUSHSLOTS") == "ERR DB must be empty to perform CLUSTER FLUSHSLOTS."
        myid = raw.command("CLUSTER", "MYID").decode()
        assert err("CLUSTER", "REPLICATE", myid) == "ERR Can't replicate myself"
        assert err("CLUSTER", "REPLICATE", "1" * 40) == f"ERR Unknown node {'1' * 40}"
        assert err("CLUSTER", "REPLICAS", "1" * 40) == f"ERR Unknown node {'1' * 40}"
        assert raw.command("CLUSTER", "REPLICAS", myid) == []
        assert err("REPLICAOF", "127.0.0.1", 1) == "ERR REPLICAOF not allowed in cluster mode."
        assert err("FAILOVER") == "ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead."
        assert err("CLUSTER", "SET-CONFIG-EPOCH", -1) == "ERR Invalid config epoch specified: -1"
        assert err("CLUSTER", "RESET") == "ERR CLUSTER RESET can't be called with master nodes containing keys"
        # CONFIG SET reaches the cluster: without full coverage the node is ok with a slot unserved.
        assert raw.command("CONFIG", "SET", "cluster-require-full-coverage", "no") == "OK"
        wait_for(lambda: cluster_info(raw)["cluster_state"] == "ok", "ok without full coverage")
        # (Back to yes, Redis stays ok until something else makes it look again: its cron only
        # re-evaluates a failed state. Cairn's looks every 100 ms and turns fail at once.)
        assert raw.command("CONFIG", "SET", "cluster-require-full-coverage", "yes") == "OK"
        if kind == "cairn":
            wait_for(lambda: cluster_info(raw)["cluster_state"] == "fail", "fail with a slot unserved")
        assert raw.command("CLUSTER", "BUMPEPOCH") in ("BUMPED 1", b"BUMPED 1")
        assert raw.command("CLUSTER", "BUMPEPOCH") in ("STILL 1", b"STILL 1")


def test_cluster_commands_are_refused_outside_cluster_mode(server_factory):
    s = server_factory()
    with RawConnection(s.port) as raw:
        for args in (("CLUSTER", "INFO"), ("CLUSTER", "MYID"), ("ASKING",), ("READONLY",)):
            assert str(raw.command(*args)) == "ERR This instance has cluster support disabled"


def test_redis_py_cluster_client_on_a_one_node_cluster(nodes):
    s = nodes()
    with RawConnection(s.port) as raw:
        assert raw.command("CLUSTER", "ADDSLOTSRANGE", 0, 16383) == "OK"
        wait_for(lambda: cluster_info(raw)["cluster_state"] == "ok", "the cluster to be ok")
    rc = redis.RedisCluster(host="127.0.0.1", port=s.port, decode_responses=True)
    try:
        for i in range(200):
            rc.set(f"key:{i}", i)
        assert [rc.get(f"key:{i}") for i in range(200)] == [str(i) for i in range(200)]
        pipe = rc.pipeline()
        for i in range(50):
            pipe.incr(f"counter:{i}")
        assert pipe.execute() == [1] * 50
        assert rc.mget_nonatomic([f"key:{i}" for i in range(10)]) == [str(i) for i in range(10)]
        slots = rc.cluster_slots()
        assert (0, 16383) in slots
    finally:
        rc.close()


def test_meet_with_a_real_redis_node_both_ways_and_moved(nodes):
    cairn = nodes("cairn")
    red = nodes("redis")
    with RawConnection(cairn.port) as c, RawConnection(red.port) as r:
        assert c.command("CLUSTER", "ADDSLOTSRANGE", 0, 8191) == "OK"
        assert r.command("CLUSTER", "ADDSLOTSRANGE", 8192, 16383) == "OK"
        cairn_id = c.command("CLUSTER", "MYID").decode()
        redis_id = r.command("CLUSTER", "MYID").decode()
        # Redis meets Cairn: Redis's bus talks to Cairn's.
        assert r.command("CLUSTER", "MEET", "127.0.0.1", cairn.port, bus_port(cairn)) == "OK"

        def sees(raw, node_id, slots):
            for line in nodes_lines(raw):
                if line[0] == node_id:
                    return line[7] == "connected" and "handshake" not in line[2] and "master" in line[2] \
                        and line[8:] == ([slots] if slots else [])
            return False

        wait_for(lambda: sees(r, cairn_id, "0-8191"), "Redis to see the Cairn node connected with its slots")
        wait_for(lambda: sees(c, redis_id, "8192-16383"), "Cairn to see the Redis node connected with its slots")
        wait_for(lambda: cluster_info(c)["cluster_state"] == "ok" and cluster_info(r)["cluster_state"] == "ok",
                 "both to say the cluster is ok")
        assert cluster_info(c)["cluster_known_nodes"] == "2"
        # The bus links, as CLUSTER LINKS lists them on both sides (a link each way).
        for raw, peer in ((c, redis_id), (r, cairn_id)):
            wait_for(lambda: sorted(dict(zip(l[::2], l[1::2]))[b"direction"] for l in raw.command("CLUSTER", "LINKS")
                                    if dict(zip(l[::2], l[1::2]))[b"node"] == peer.encode()) == [b"from", b"to"],
                     "a link each way")
        # Redirections point at the other node, in both directions.
        key = "foo"  # slot 12182: Redis's
        assert str(c.command("GET", key)) == f"MOVED 12182 127.0.0.1:{red.port}"
        assert str(r.command("GET", "bar")) == f"MOVED 5061 127.0.0.1:{cairn.port}"
        assert c.command("SET", "bar", "1") == "OK"
        # PUBLISH reaches the subscribers of the other node, both ways (the bus's PUBLISH message).
        for publisher, name, subscriber_port in ((c, "cairn", red.port), (r, "redis", cairn.port)):
            sub = redis.Redis(port=subscriber_port).pubsub()
            sub.subscribe("news")
            assert sub.get_message(timeout=5)["type"] == "subscribe"
            assert publisher.command("PUBLISH", "news", f"from {name}") == 0  # no local subscriber
            got = sub.get_message(timeout=10)
            assert got and got["type"] == "message" and got["data"] == f"from {name}".encode(), got
            sub.close()
        # Cairn meets a third node (a Redis one): it joins, and learns of the first Redis node
        # through the gossip section.
        red2 = nodes("redis")
        with RawConnection(red2.port) as r2:
            red2_id = r2.command("CLUSTER", "MYID").decode()
            assert c.command("CLUSTER", "MEET", "127.0.0.1", red2.port, bus_port(red2)) == "OK"
            wait_for(lambda: sees(c, red2_id, None), "Cairn to see the new node connected")
            wait_for(lambda: sees(r2, cairn_id, "0-8191") and sees(r2, redis_id, "8192-16383"),
                     "the new node to know both others, with their slots")
            wait_for(lambda: cluster_info(c)["cluster_known_nodes"] == "3", "Cairn to know three nodes")


def test_redis_cli_cluster_create_of_three_cairn_masters(nodes):
    import subprocess
    cli = redis_cli_path()
    masters = [nodes() for _ in range(3)]
    cluster_create(masters)
    check = subprocess.run([cli, "--cluster", "check", f"127.0.0.1:{masters[0].port}"], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0 and "[OK] All nodes agree about slots configuration." in check.stdout, check.stdout
    # The epochs redis-cli assigned are distinct, as each node's nodes.conf records.
    epochs = set()
    for m in masters:
        with RawConnection(m.port) as raw:
            epochs.add(next(l[6] for l in nodes_lines(raw) if "myself" in l[2]))
    assert len(epochs) == 3
    rc = redis.RedisCluster(host="127.0.0.1", port=masters[0].port, decode_responses=True)
    try:
        for i in range(500):
            rc.set(f"k{i}", i)
        assert [rc.get(f"k{i}") for i in range(500)] == [str(i) for i in range(500)]
        counts = [rc.dbsize(target_nodes=n) for n in rc.get_primaries()]
        assert sum(counts) == 500 and all(c > 0 for c in counts), counts
    finally:
        rc.close()


def free_port_run(n):
    """A base port such that base .. base+n-1 and their bus ports (+100) are free right now."""
    import socket
    for _ in range(50):
        base = free_port()
        if base + 100 + n > 65535:
            continue
        ok = True
        for p in [base + i for i in range(n)] + [base + 100 + i for i in range(n)]:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    pytest.skip("no run of free ports found")


def test_tools_cluster_up_and_stop(tmp_path):
    import subprocess
    from serverproc import ServerKind, repo_root
    kind = require("cairn")
    base = free_port_run(3)
    tool = str(repo_root() / "tools" / "cluster-up")
    up = subprocess.run([tool, "3", "--port", str(base), "--dir", str(tmp_path / "c"), "--server", kind.binary],
                        capture_output=True, text=True, timeout=180)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"cluster ok: 3 masters on 127.0.0.1:{base}-{base + 2}" in up.stdout
        with RawConnection(base + 2) as raw:
            assert cluster_info(raw)["cluster_state"] == "ok"
            assert sorted(l[8] for l in nodes_lines(raw)) == ["0-5460", "10922-16383", "5461-10921"]
    finally:
        down = subprocess.run([tool, "--stop", "--dir", str(tmp_path / "c")], capture_output=True, text=True, timeout=60)
    assert down.returncode == 0 and "stopped 3 nodes" in down.stdout, down.stdout + down.stderr


def test_tools_cluster_up_with_replicas(tmp_path):
    import subprocess
    from serverproc import repo_root
    kind = require("cairn")
    base = free_port_run(6)
    tool = str(repo_root() / "tools" / "cluster-up")
    directory = tmp_path / "c"
    up = subprocess.run([tool, "3", "--replicas", "1", "--port", str(base), "--dir", str(directory),
                         "--server", kind.binary], capture_output=True, text=True, timeout=180)
    pids = [int(p) for p in (directory / "pids").read_text().split()] if (directory / "pids").exists() else []
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"cluster ok: 3 masters on 127.0.0.1:{base}-{base + 2}, 3 replicas on 127.0.0.1:{base + 3}-{base + 5}" \
            in up.stdout, up.stdout
        assert f"redis-cli -c -p {base}" in up.stdout
        assert len(pids) == 6
        with RawConnection(base) as raw:
            lines = nodes_lines(raw)
        assert len(lines) == 6
        masters = {l[0]: l for l in lines if "master" in l[2]}
        replicas = [l for l in lines if "slave" in l[2]]
        assert len(masters) == 3 and len(replicas) == 3
        assert sorted(l[8] for l in masters.values()) == ["0-5460", "10922-16383", "5461-10921"]
        assert sorted(l[3] for l in replicas) == sorted(masters)  # one replica for each master
        # Master i (port base+i) has its replica on base+3+i.
        for i in range(3):
            master_port, replica_port = base + i, base + 3 + i
            with RawConnection(master_port) as m, RawConnection(replica_port) as r:
                me = next(l for l in nodes_lines(m) if "myself" in l[2])
                replica_me = next(l for l in nodes_lines(r) if "myself" in l[2])
                assert replica_me[3] == me[0] and "slave" in replica_me[2]
                assert cluster_info(r)["cluster_state"] == "ok"
                assert b"master_link_status:up" in r.command("INFO", "replication")
                first, last = (int(x) for x in me[8].split("-"))
                key = next(f"k{n}" for n in range(100000) if first <= m.command("CLUSTER", "KEYSLOT", f"k{n}") <= last)
                assert m.command("SET", key, f"v{i}") == "OK"
                assert r.command("READONLY") == "OK"
                wait_for(lambda: r.command("GET", key) == f"v{i}".encode(), f"{key} on the replica on {replica_port}")

                # CLUSTER SHARDS on the master shows its replica with the offset it announces
                # over the bus (not `loading`), as Redis does.
                def replica_entry():
                    for shard in m.command("CLUSTER", "SHARDS"):
                        for node in dict(zip(shard[::2], shard[1::2]))[b"nodes"]:
                            entry = dict(zip(node[::2], node[1::2]))
                            if entry[b"id"].decode() == replica_me[0]:
                                return entry
                    return {}
                wait_for(lambda: replica_entry().get(b"health") == b"online" and replica_entry()[b"replication-offset"] > 0,
                         f"the replica on {replica_port} online with its offset in CLUSTER SHARDS")
    finally:
        down = subprocess.run([tool, "--stop", "--dir", str(directory)], capture_output=True, text=True, timeout=60)
    assert down.returncode == 0 and "stopped 6 nodes" in down.stdout, down.stdout + down.stderr
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_migrate_to_redis_and_back_with_options(nodes, server_factory, _tmp_root):
    from serverproc import ServerProcess
    cairn = ServerProcess(require("cairn"), _tmp_root, [])
    red = ServerProcess(require("redis"), _tmp_root, [])
    cairn.start()
    red.start()
    try:
        with RawConnection(cairn.port) as c, RawConnection(red.port) as r:
            assert c.command("SET", "k1", "v1") == "OK"
            assert c.command("SET", "k2", "v2", "EX", 100) == "OK"
            assert c.command("RPUSH", "l", "a", "b") == 2
            assert c.command("MIGRATE", "127.0.0.1", red.port, "k1", 0, 1000) == "OK"
            assert c.command("MIGRATE", "127.0.0.1", red.port, "", 0, 1000, "KEYS", "k2", "l", "missing") == "OK"
            assert r.command("MGET", "k1", "k2") == [b"v1", b"v2"] and 0 < r.command("TTL", "k2") <= 100
            assert r.command("LRANGE", "l", 0, -1) == [b"a", b"b"]
            assert c.command("DBSIZE") == 0
            assert c.command("MIGRATE", "127.0.0.1", red.port, "k1", 0, 1000) == "NOKEY"
            assert c.command("SET", "k1", "x") == "OK"
            assert str(c.command("MIGRATE", "127.0.0.1", red.port, "k1", 0, 1000)) == \
                "ERR Target instance replied with error: BUSYKEY Target key name already exists."
            assert c.command("MIGRATE", "127.0.0.1", red.port, "k1", 3, 1000, "COPY") == "OK"
            assert c.command("GET", "k1") == b"x"  # COPY keeps it here
            assert r.command("SELECT", 3) == "OK" and r.command("GET", "k1") == b"x"
            assert str(c.command("MIGRATE", "127.0.0.1", red.port, "k1", 0, 1000, "KEYS", "a")) == \
                "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
            # Back from Redis to Cairn: Cairn's RESTORE takes Redis's payloads.
            assert c.command("DEL", "k1") == 1
            assert r.command("MIGRATE", "127.0.0.1", cairn.port, "k1", 0, 1000) == "OK"
            assert c.command("GET", "k1") == b"x" and r.command("EXISTS", "k1") == 0
            closed = free_port()
            assert str(c.command("MIGRATE", "127.0.0.1", closed, "k1", 0, 500)) == "IOERR error or timeout connecting to the client"
    finally:
        cairn.stop()
        red.stop()


def slot_tags(slots):
    """A hash tag for each of `slots` (the first short tag found that hashes there)."""
    from redis.crc import key_slot
    wanted, tags, n = set(slots), {}, 0
    while len(tags) < len(wanted):
        tag = f"t{n}"
        slot = key_slot(tag.encode())
        if slot in wanted and slot not in tags:
            tags[slot] = tag
        n += 1
    return tags


def test_redis_cli_reshard_under_a_writer_loses_nothing(nodes):
    """The issue's case: 1,000 slots holding 100,000 keys move with `redis-cli --cluster
    reshard` while a client keeps writing; no key is lost and the writer sees no error it could
    not retry."""
    import subprocess
    import threading
    cli = redis_cli_path()
    masters = [nodes() for _ in range(3)]
    cluster_create(masters)
    rc = redis.RedisCluster(host="127.0.0.1", port=masters[0].port, decode_responses=True)
    # 100 keys in each of slots 0-999, the slots redis-cli takes first from the first master.
    tags = slot_tags(range(1000))
    with RawConnection(masters[0].port) as a:
        for slot, tag in tags.items():
            args = [x for j in range(100) for x in (f"{{{tag}}}:{j}", f"{slot}:{j}")]
            assert a.command("MSET", *args) == "OK"
        assert a.command("DBSIZE") == 100000
    written = {}
    errors = []
    stop = threading.Event()

    def writer():
        w = redis.RedisCluster(host="127.0.0.1", port=masters[0].port, decode_responses=True)
        n = 0
        try:
            while not stop.is_set():
                key = f"{{{tags[n % 1000]}}}:w"  # always in a slot being moved
                w.set(key, n)  # follows MOVED/ASK itself
                written[key] = str(n)
                n += 1
        except Exception as e:  # any error the client could not retry
            errors.append(repr(e))
        finally:
            w.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        with RawConnection(masters[0].port) as a, RawConnection(masters[1].port) as b:
            source, target = a.command("CLUSTER", "MYID").decode(), b.command("CLUSTER", "MYID").decode()
        reshard = subprocess.run([cli, "--cluster", "reshard", f"127.0.0.1:{masters[0].port}", "--cluster-from", source,
                                  "--cluster-to", target, "--cluster-slots", "1000", "--cluster-pipeline", "100",
                                  "--cluster-yes"], capture_output=True, text=True, timeout=900)
    finally:
        stop.set()
        t.join()
    assert reshard.returncode == 0, reshard.stdout[-2000:] + reshard.stderr
    assert errors == []
    check = subprocess.run([cli, "--cluster", "check", f"127.0.0.1:{masters[0].port}"], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0 and "[OK] All 16384 slots covered." in check.stdout, check.stdout
    with RawConnection(masters[0].port) as a, RawConnection(masters[1].port) as b:
        assert a.command("DBSIZE") == 0
        for slot, tag in tags.items():
            assert b.command("MGET", *[f"{{{tag}}}:{j}" for j in range(100)]) == [f"{slot}:{j}".encode() for j in range(100)]
        mine = next(l for l in nodes_lines(b) if "myself" in l[2])[8:]
        assert "0-999" in mine, mine  # the 1,000 slots redis-cli took from the source's start
    assert all(rc.get(k) == v for k, v in written.items()) and len(written) > 0
    rc.close()


def test_redis_cli_cluster_create_with_replicas(nodes):
    six = [nodes("cairn", "--repl-diskless-sync-delay", "0") for _ in range(6)]
    cluster_create(six, replicas=1)
    roles = {}
    for n in six:
        with RawConnection(n.port) as raw:
            me = next(l for l in nodes_lines(raw) if "myself" in l[2])
            roles[n.port] = (me[0], me[2], me[3])
    replicas = [p for p, (_, flags, _) in roles.items() if "slave" in flags]
    assert len(replicas) == 3
    rc = redis.RedisCluster(host="127.0.0.1", port=six[0].port, decode_responses=True)
    try:
        for i in range(300):
            rc.set(f"k{i}", i)
        total = 0
        for port in replicas:
            with RawConnection(port) as raw:
                wait_for(lambda: b"master_link_status:up" in raw.command("INFO", "replication"), "the replica's link")
                master_id = roles[port][2]
                master_port = next(p for p, (node_id, _, _) in roles.items() if node_id == master_id)
                with RawConnection(master_port) as m:
                    wait_for(lambda: raw.command("DBSIZE") == m.command("DBSIZE"), "the replica to have its master's keys")
                    total += raw.command("DBSIZE")
                    # Reads are redirected to the master unless the client says READONLY.
                    key = next(k for k in (f"k{i}" for i in range(300)) if rc.keyslot(k) in
                               range(int(next(l for l in nodes_lines(m) if "myself" in l[2])[8].split("-")[0]),
                                     int(next(l for l in nodes_lines(m) if "myself" in l[2])[8].split("-")[1]) + 1))
                    assert str(raw.command("GET", key)).startswith("MOVED ")
                    assert raw.command("READONLY") == "OK"
                    assert raw.command("GET", key) == str(int(key[1:])).encode()
                    assert str(raw.command("SET", key, "x")).startswith("MOVED ")
            assert str(RawConnection(port).command("REPLICAOF", "NO", "ONE")) == "ERR REPLICAOF not allowed in cluster mode."
        assert total == 300
        # SPUBLISH on a master reaches a subscriber on its replica (PUBLISHSHARD over the bus).
        replica_port = replicas[0]
        master_port = next(p for p, (node_id, _, _) in roles.items() if node_id == roles[replica_port][2])
        with RawConnection(master_port) as m:
            mine = next(l for l in nodes_lines(m) if "myself" in l[2])[8]
            first, last = (int(x) for x in mine.split("-"))
            channel = next(f"ch{i}" for i in range(100000) if first <= rc.keyslot(f"ch{i}") <= last)
            sub = redis.Redis(port=replica_port).pubsub()
            sub.ssubscribe(channel)
            assert sub.get_message(timeout=5)["type"] == "ssubscribe"
            assert m.command("SPUBLISH", channel, "hello") == 0
            got = sub.get_message(timeout=10)
            assert got and got["type"] == "smessage" and got["data"] == b"hello", got
            sub.close()
        with RawConnection(six[0].port) as raw:
            some_master = next(l[0] for l in nodes_lines(raw) if "master" in l[2])
            assert len(raw.command("CLUSTER", "REPLICAS", some_master)) == 1
    finally:
        rc.close()
