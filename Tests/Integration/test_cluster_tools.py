"""redis-cli --cluster's administration commands (add-node, rebalance, reshard, del-node, fix,
check, info) and redis-py's asyncio cluster client, run unchanged as a user runs them against
clusters of cairn-server nodes (or of redis-server 7.0 nodes with --against-redis, which is how
each expectation here was first checked).

Every wait polls a condition with a deadline; servers are stopped by the fixtures, by PID."""

import asyncio
import re
import subprocess

import redis
import redis.asyncio.cluster
from redis.crc import key_slot

from resp import RawConnection
from serverproc import wait_for
from test_cluster import cluster_create, cluster_info, nodes, nodes_lines, redis_cli_path  # noqa: F401 (nodes: fixture)

# Replicas sync at once (Redis 7.0 waits 5 s for more replicas before a diskless sync).
REPLICATION_ARGS = ("--repl-diskless-sync-delay", "0")


def addr(n):
    return f"127.0.0.1:{n.port}"


def cluster_cli(*args, timeout=300):
    """`redis-cli --cluster <args>`, as a user runs it; the CompletedProcess (text)."""
    return subprocess.run([redis_cli_path(), "--cluster", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def node_id(n):
    with RawConnection(n.port) as raw:
        return raw.command("CLUSTER", "MYID").decode()


def myself_line(n):
    with RawConnection(n.port) as raw:
        return next(l for l in nodes_lines(raw) if "myself" in l[2])


def slot_count(fields):
    """The slots a CLUSTER NODES line lists (ranges and single slots; not the [open] ones)."""
    total = 0
    for f in fields:
        if f.startswith("["):
            continue
        first, _, last = f.partition("-")
        total += int(last or first) - int(first) + 1
    return total


def owned_slots(n):
    return slot_count(myself_line(n)[8:])


def served_slots(n):
    """The set of slots `n` says it serves."""
    served = set()
    for f in myself_line(n)[8:]:
        if not f.startswith("["):
            first, _, last = f.partition("-")
            served.update(range(int(first), int(last or first) + 1))
    return served


def listed_ids(n):
    with RawConnection(n.port) as raw:
        return {l[0] for l in nodes_lines(raw)}


def check_passes(n):
    """`--cluster check` exits 0 with every slot covered, no open slot, no error or warning."""
    check = cluster_cli("check", addr(n))
    ok = (check.returncode == 0 and "[OK] All nodes agree about slots configuration." in check.stdout
          and "[OK] All 16384 slots covered." in check.stdout and "[ERR]" not in check.stdout
          and "[WARNING]" not in check.stdout)
    return ok, check.stdout + check.stderr


def wait_check_passes(n):
    """Polls `--cluster check` until it passes (replicas learn slot moves through gossip)."""
    last = [""]

    def passes():
        ok, last[0] = check_passes(n)
        return ok
    try:
        wait_for(passes, "redis-cli --cluster check to pass")
    except AssertionError:
        raise AssertionError("redis-cli --cluster check did not pass:\n" + last[0]) from None


def wait_joined(members):
    """Every node knows every member and says the cluster is ok."""
    for n in members:
        with RawConnection(n.port) as raw:
            wait_for(lambda: cluster_info(raw)["cluster_known_nodes"] == str(len(members))
                     and cluster_info(raw)["cluster_state"] == "ok", f"{addr(n)} to know all {len(members)} nodes and be ok")


def fill(port, count, prefix="key"):
    """Writes `count` keys through redis-py's cluster client; returns their names and values."""
    rc = redis.RedisCluster(host="127.0.0.1", port=port, decode_responses=True)
    try:
        pipe = rc.pipeline()
        for i in range(count):
            pipe.set(f"{prefix}:{i}", i)
        assert pipe.execute() == [True] * count
    finally:
        rc.close()
    return {f"{prefix}:{i}": str(i) for i in range(count)}


def all_readable(port, data):
    rc = redis.RedisCluster(host="127.0.0.1", port=port, decode_responses=True)
    try:
        names = list(data)
        got = rc.mget_nonatomic(names)
        return {k: v for k, v in zip(names, got) if data[k] != v}
    finally:
        rc.close()


def three_masters(nodes, kind, *extra):
    masters = [nodes(kind, *extra) for _ in range(3)]
    cluster_create(masters)
    return masters


def add_replica(new, master, members):
    """`redis-cli --cluster add-node --cluster-slave --cluster-master-id`, then every member's
    CLUSTER NODES shows `new` as a replica of `master`."""
    master_id = node_id(master)
    add = cluster_cli("add-node", addr(new), addr(members[0]), "--cluster-slave", "--cluster-master-id", master_id)
    assert add.returncode == 0, add.stdout + add.stderr
    assert f">>> Configure node as replica of {addr(master)}." in add.stdout
    assert "[OK] New node added correctly." in add.stdout
    new_id = node_id(new)
    wait_for(lambda: all(lists_as_replica(n, new_id, master_id) for n in members + [new]),
             "every node to list the new node as a replica of its master")
    return new_id


def lists_as_replica(n, replica_id, master_id):
    """Whether `n`'s CLUSTER NODES lists `replica_id` as a replica of `master_id`."""
    with RawConnection(n.port) as raw:
        line = next((l for l in nodes_lines(raw) if l[0] == replica_id), None)
    return line is not None and "slave" in line[2].split(",") and line[3] == master_id


def slot_of_tag(tag):
    return key_slot(tag.encode())


def tag_owned_by(n, prefix):
    """A hash tag whose slot `n` serves."""
    served = served_slots(n)
    return next(t for t in (f"{prefix}{i}" for i in range(100000)) if slot_of_tag(t) in served)


# 1. add-node of an empty master, rebalance --cluster-use-empty-masters


def test_add_node_then_rebalance_to_the_empty_master(nodes, server_kind_name):
    masters = three_masters(nodes, server_kind_name)
    data = fill(masters[0].port, 3000)
    new = nodes(server_kind_name)
    add = cluster_cli("add-node", addr(new), addr(masters[0]))
    assert add.returncode == 0, add.stdout + add.stderr
    assert f">>> Adding node {addr(new)} to cluster {addr(masters[0])}" in add.stdout
    assert "[OK] New node added correctly." in add.stdout
    wait_joined(masters + [new])
    assert owned_slots(new) == 0
    # Without --cluster-use-empty-masters, rebalance leaves the empty master out.
    idle = cluster_cli("rebalance", addr(masters[0]), "--cluster-yes")
    assert idle.returncode == 0 and "*** No rebalancing needed!" in idle.stdout, idle.stdout + idle.stderr
    # The new node weighs a quarter of the others: 1,261 slots move (a debug build moves a slot in
    # about 8 ms; equal weights would move 4,096).
    rebalance = cluster_cli("rebalance", addr(masters[0]), "--cluster-use-empty-masters",
                            "--cluster-weight", f"{node_id(new)}=0.25", "--cluster-yes")
    assert rebalance.returncode == 0, rebalance.stdout[-3000:] + rebalance.stderr
    assert ">>> Rebalancing across 4 nodes. Total weight = 3.25" in rebalance.stdout
    moves = re.findall(r"Moving (\d+) slots from 127\.0\.0\.1:(\d+) to 127\.0\.0\.1:(\d+)", rebalance.stdout)
    # int(16384 / 3.25 * 0.25) = 1260 expected, and the slot lost to rounding.
    assert sorted(int(count) for count, _, _ in moves) == [420, 420, 421], moves
    assert all(int(dst) == new.port for _, _, dst in moves), moves
    wait_check_passes(masters[0])
    assert owned_slots(new) == 1261
    assert sorted(owned_slots(m) for m in masters) == [5041, 5041, 5041]
    assert all_readable(masters[1].port, data) == {}
    # The keys went with their slots: each master holds exactly the keys of the slots it serves.
    for n in masters + [new]:
        served = served_slots(n)
        with RawConnection(n.port) as raw:
            assert raw.command("DBSIZE") == sum(1 for k in data if key_slot(k.encode()) in served)


# 2. add-node --cluster-slave [--cluster-master-id]


def test_add_node_as_replica_with_and_without_master_id(nodes, server_kind_name):
    masters = three_masters(nodes, server_kind_name, *REPLICATION_ARGS)
    replica = nodes(server_kind_name)
    add_replica(replica, masters[1], masters)
    # Data written to the master appears on the replica, readable after READONLY.
    tag = tag_owned_by(masters[1], "r")
    with RawConnection(masters[1].port) as m, RawConnection(replica.port) as r:
        for i in range(20):
            assert m.command("SET", f"{{{tag}}}:{i}", f"v{i}") == "OK"
        assert str(r.command("GET", f"{{{tag}}}:0")) == f"MOVED {slot_of_tag(tag)} {addr(masters[1])}"
        assert r.command("READONLY") == "OK"
        wait_for(lambda: r.command("GET", f"{{{tag}}}:19") == b"v19", "the replica to have its master's writes")
        assert [r.command("GET", f"{{{tag}}}:{i}") for i in range(20)] == [f"v{i}".encode() for i in range(20)]
        assert str(r.command("SET", f"{{{tag}}}:0", "x")).startswith("MOVED ")
        wait_for(lambda: b"master_link_status:up" in r.command("INFO", "replication"), "the replica's link to be up")
    # Without --cluster-master-id, redis-cli picks a master with the fewest replicas.
    second = nodes(server_kind_name)
    add = cluster_cli("add-node", addr(second), addr(masters[0]), "--cluster-slave")
    assert add.returncode == 0, add.stdout + add.stderr
    chosen = re.search(r"Automatically selected master 127\.0\.0\.1:(\d+)", add.stdout)
    assert chosen and int(chosen.group(1)) in (masters[0].port, masters[2].port), add.stdout
    chosen_master = next(m for m in masters if m.port == int(chosen.group(1)))
    chosen_id = node_id(chosen_master)
    second_id = node_id(second)
    wait_for(lambda: all(lists_as_replica(n, second_id, chosen_id) for n in masters + [replica, second]),
             "every node to list the second replica")
    wait_check_passes(masters[0])


# 3. del-node of an emptied master and of a replica


def test_del_node_of_an_emptied_master_and_of_a_replica(nodes, server_kind_name):
    masters = three_masters(nodes, server_kind_name, *REPLICATION_ARGS)
    data = fill(masters[0].port, 300)
    extra = nodes(server_kind_name)
    add = cluster_cli("add-node", addr(extra), addr(masters[0]))
    assert add.returncode == 0, add.stdout + add.stderr
    wait_joined(masters + [extra])
    extra_id, second_id = node_id(extra), node_id(masters[1])
    # 100 of the second master's 5462 slots to the new one.
    reshard = cluster_cli("reshard", addr(masters[0]), "--cluster-from", second_id, "--cluster-to", extra_id,
                          "--cluster-slots", 100, "--cluster-yes")
    assert reshard.returncode == 0, reshard.stdout[-3000:] + reshard.stderr
    assert owned_slots(extra) == 100
    with RawConnection(extra.port) as raw:
        assert raw.command("DBSIZE") > 0
    # A master that still serves slots is refused.
    refused = cluster_cli("del-node", addr(masters[0]), extra_id)
    assert refused.returncode != 0
    assert f"[ERR] Node {addr(extra)} is not empty! Reshard data away and try again." in refused.stdout
    # Its slots (and keys) go away with rebalance --cluster-weight <id>=0: 5461 slots expected
    # on each other master, the rounding slot on the first (the node redis-cli was given), so
    # 99 slots go back to the second master and the last one to the first. (Were another move
    # to follow the one that empties it, redis-cli 7.0 would fail, on Redis too: it sends
    # SETSLOT NODE to every master it listed, the emptied node included, which has turned
    # replica meanwhile: "ERR Please use SETSLOT only with masters.")
    rebalance = cluster_cli("rebalance", addr(masters[0]), "--cluster-weight", f"{extra_id}=0", "--cluster-yes")
    assert rebalance.returncode == 0, rebalance.stdout[-3000:] + rebalance.stderr
    assert ">>> Rebalancing across 4 nodes. Total weight = 3.00" in rebalance.stdout
    assert re.findall(r"Moving \d+ slots from .*", rebalance.stdout) == [
        f"Moving 99 slots from {addr(extra)} to {addr(masters[1])}", f"Moving 1 slots from {addr(extra)} to {addr(masters[0])}"]
    assert owned_slots(extra) == 0
    # Every key went back with its slot. (The emptied node, as on Redis, may now be a replica of
    # the node that took its last slot: see the tests below.)
    sizes = []
    for n in masters:
        with RawConnection(n.port) as raw:
            sizes.append(raw.command("DBSIZE"))
    assert sum(sizes) == 300, sizes
    wait_check_passes(masters[0])
    # A replica of the third master.
    replica = nodes(server_kind_name)
    replica_id = add_replica(replica, masters[2], masters + [extra])
    with RawConnection(replica.port) as raw:
        wait_for(lambda: raw.command("DBSIZE") > 0, "the replica to have its master's keys")

    def deleted(victim, victim_id, remaining):
        out = cluster_cli("del-node", addr(masters[1]), victim_id)
        assert out.returncode == 0, out.stdout + out.stderr
        assert f">>> Removing node {victim_id} from cluster {addr(masters[1])}" in out.stdout
        assert ">>> Sending CLUSTER FORGET messages to the cluster..." in out.stdout
        assert ">>> Sending CLUSTER RESET SOFT to the deleted node." in out.stdout
        # redis-cli 7.0 does not shut the node down: CLUSTER RESET SOFT leaves it running, alone,
        # an empty master that kept its name.
        assert victim.alive()
        with RawConnection(victim.port) as raw:
            assert raw.command("CLUSTER", "MYID").decode() == victim_id
            info = cluster_info(raw)
            assert info["cluster_known_nodes"] == "1" and info["cluster_slots_assigned"] == "0", info
            assert myself_line(victim)[2] == "myself,master"
            assert raw.command("DBSIZE") == 0
            assert b"role:master" in raw.command("INFO", "replication")
        for n in remaining:
            wait_for(lambda: victim_id not in listed_ids(n), f"{addr(n)} to no longer list the deleted node")
        wait_check_passes(masters[0])

    deleted(replica, replica_id, masters + [extra])
    deleted(extra, extra_id, masters)
    for n in masters:
        with RawConnection(n.port) as raw:
            assert cluster_info(raw)["cluster_known_nodes"] == "3"
    assert all_readable(masters[2].port, data) == {}


def emptied_master_setup(nodes, kind):
    """Three masters with a few keys, and a fourth serving one slot (no key in it), the slot
    already open for its move back to the first master. Returns (masters, extra, slot)."""
    masters = three_masters(nodes, kind, *REPLICATION_ARGS)
    fill(masters[0].port, 50)
    extra = nodes(kind)
    add = cluster_cli("add-node", addr(extra), addr(masters[0]))
    assert add.returncode == 0, add.stdout + add.stderr
    wait_joined(masters + [extra])
    first_id, extra_id = node_id(masters[0]), node_id(extra)
    slot = next(s for s in range(5461) if all(key_slot(f"key:{i}".encode()) != s for i in range(50)))
    with RawConnection(masters[0].port) as first, RawConnection(extra.port) as raw:
        # The slot moved to the fourth master by hand, as redis-cli moves one.
        assert first.command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
        assert raw.command("CLUSTER", "SETSLOT", slot, "IMPORTING", first_id) == "OK"
        assert first.command("CLUSTER", "SETSLOT", slot, "MIGRATING", extra_id) == "OK"
        for n in [extra] + masters:
            with RawConnection(n.port) as each:
                assert each.command("CLUSTER", "SETSLOT", slot, "NODE", extra_id) == "OK"
        assert owned_slots(extra) == 1
        # And opened for its move back.
        assert first.command("CLUSTER", "SETSLOT", slot, "IMPORTING", extra_id) == "OK"
        assert raw.command("CLUSTER", "SETSLOT", slot, "MIGRATING", first_id) == "OK"
    return masters, extra, slot


def wait_replica_of(replica, master, members):
    """`replica` says it replicates `master`, every member lists it so, and it has its keys."""
    replica_id, master_id = node_id(replica), node_id(master)
    # Redis turns replica as the new owner's PONG arrives (the owner broadcasts it at once).
    wait_for(lambda: myself_line(replica)[2] == "myself,slave" and myself_line(replica)[3] == master_id,
             "the emptied master to turn replica of the node that took its last slot", cap=5)
    wait_for(lambda: all(lists_as_replica(n, replica_id, master_id) for n in members), "every node to list it as a replica")
    with RawConnection(replica.port) as raw, RawConnection(master.port) as m:
        wait_for(lambda: raw.command("DBSIZE") == m.command("DBSIZE") > 0, "the new replica to have its master's keys")


def test_a_master_told_its_last_slot_moved_becomes_a_replica(nodes, server_kind_name):
    """CLUSTER SETSLOT <slot> NODE <other> on a master's last slot makes it a replica of that
    node, as Redis 7.0 does with cluster-allow-replica-migration yes (the default)."""
    masters, extra, slot = emptied_master_setup(nodes, server_kind_name)
    with RawConnection(extra.port) as raw:
        assert raw.command("CLUSTER", "SETSLOT", slot, "NODE", node_id(masters[0])) == "OK"
        assert myself_line(extra)[2] == "myself,slave" and myself_line(extra)[3] == node_id(masters[0])
        # What redis-cli then sends it, and ignores (issue #9223).
        assert str(raw.command("CLUSTER", "SETSLOT", slot, "NODE", node_id(masters[0]))) == \
            "ERR Please use SETSLOT only with masters."
    for n in masters:
        with RawConnection(n.port) as raw:
            assert raw.command("CLUSTER", "SETSLOT", slot, "NODE", node_id(masters[0])) == "OK"
    wait_replica_of(extra, masters[0], masters + [extra])
    wait_check_passes(masters[0])


def test_a_master_that_learns_by_gossip_its_last_slot_moved_becomes_a_replica(nodes, server_kind_name):
    """The same when the master learns it from the new owner's PONG (the new owner was told
    first, as redis-cli does, and its higher configEpoch wins: clusterUpdateSlotsConfigWith)."""
    masters, extra, slot = emptied_master_setup(nodes, server_kind_name)
    with RawConnection(masters[0].port) as first:
        assert first.command("CLUSTER", "SETSLOT", slot, "NODE", node_id(masters[0])) == "OK"
    wait_replica_of(extra, masters[0], masters + [extra])


# 4. fix of an open slot


def test_fix_closes_an_open_slot_without_losing_keys(nodes, server_kind_name):
    masters = three_masters(nodes, server_kind_name)
    source, target = masters[0], masters[1]
    source_id, target_id = node_id(source), node_id(target)
    tag = tag_owned_by(source, "fx")
    slot = slot_of_tag(tag)
    data = fill(source.port, 100)
    keys = [f"{{{tag}}}:{i}" for i in range(20)]
    with RawConnection(source.port) as s, RawConnection(target.port) as t:
        for k in keys:
            assert s.command("SET", k, k) == "OK"
        # A move left half done: the slot open on both sides, some keys already on the target.
        assert t.command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id) == "OK"
        assert s.command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id) == "OK"
        assert s.command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *keys[:5]) == "OK"
        assert s.command("CLUSTER", "COUNTKEYSINSLOT", slot) == 15
        assert t.command("CLUSTER", "COUNTKEYSINSLOT", slot) == 5
    check = cluster_cli("check", addr(source))
    assert check.returncode != 0, check.stdout
    assert f"[WARNING] Node {addr(source)} has slots in migrating state {slot}." in check.stdout
    assert f"[WARNING] Node {addr(target)} has slots in importing state {slot}." in check.stdout
    assert f"[WARNING] The following slots are open: {slot}." in check.stdout
    assert f"[{slot}->-{target_id}]" in " ".join(myself_line(source))
    assert f"[{slot}-<-{source_id}]" in " ".join(myself_line(target))
    fix = cluster_cli("fix", addr(source), "--cluster-yes")
    assert fix.returncode == 0, fix.stdout + fix.stderr
    assert f">>> Fixing open slot {slot}" in fix.stdout
    wait_check_passes(source)
    # The slot ended on one node with all its keys, and nothing else was lost.
    with RawConnection(source.port) as s, RawConnection(target.port) as t:
        counts = (s.command("CLUSTER", "COUNTKEYSINSLOT", slot), t.command("CLUSTER", "COUNTKEYSINSLOT", slot))
        assert sorted(counts) == [0, 20], counts
    owner = source if counts[0] == 20 else target
    assert slot in served_slots(owner)
    for n in masters:
        assert "[" not in " ".join(myself_line(n)), myself_line(n)
    assert all_readable(masters[2].port, {**data, **{k: k for k in keys}}) == {}


# 5. info


def test_info_reports_each_masters_keys_and_slots(nodes, server_kind_name):
    masters = three_masters(nodes, server_kind_name, *REPLICATION_ARGS)
    replica = nodes(server_kind_name)
    add_replica(replica, masters[2], masters)
    fill(masters[0].port, 250)
    tag = tag_owned_by(masters[1], "i")  # a master with more keys than the others
    with RawConnection(masters[1].port) as raw:
        for i in range(40):
            assert raw.command("SET", f"{{{tag}}}:{i}", i) == "OK"
    info = cluster_cli("info", addr(masters[0]))
    assert info.returncode == 0, info.stdout + info.stderr
    rows = re.findall(r"^127\.0\.0\.1:(\d+) \(([0-9a-f]{8})\.\.\.\) -> (\d+) keys \| (\d+) slots \| (\d+) slaves\.$",
                      info.stdout, re.M)
    assert len(rows) == 3, info.stdout  # the masters only
    for port, prefix, keys, slots, replicas in rows:
        m = next(m for m in masters if m.port == int(port))
        with RawConnection(m.port) as raw:
            assert int(keys) == raw.command("DBSIZE")
        assert node_id(m).startswith(prefix)
        assert int(slots) == owned_slots(m)
        assert int(replicas) == (1 if m is masters[2] else 0)
    assert "[OK] 290 keys in 3 masters." in info.stdout
    assert "0.02 keys per slot on average." in info.stdout


# 6. redis-py asyncio RedisCluster


def test_asyncio_cluster_client_follows_ask_and_moved(nodes, server_kind_name):
    masters = three_masters(nodes, server_kind_name)
    source, target = masters[0], masters[1]
    source_id, target_id = node_id(source), node_id(target)
    tag = tag_owned_by(source, "mv")
    slot = slot_of_tag(tag)
    moving = [f"{{{tag}}}:{i}" for i in range(6)]

    async def scenario():
        rc = redis.asyncio.cluster.RedisCluster(host="127.0.0.1", port=source.port, decode_responses=True)
        try:
            # Reads and writes across slots, one command at a time and in a pipeline.
            for i in range(200):
                assert await rc.set(f"a:{i}", i)
            assert [await rc.get(f"a:{i}") for i in range(200)] == [str(i) for i in range(200)]
            assert await rc.mget_nonatomic([f"a:{i}" for i in range(20)]) == [str(i) for i in range(20)]
            pipe = rc.pipeline()
            for i in range(50):
                pipe.incr(f"c:{i}")
            for k in moving:
                pipe.set(k, k)
            assert await pipe.execute() == [1] * 50 + [True] * len(moving)
            assert len({key_slot(f"a:{i}".encode()) for i in range(200)}) > 100
            # A slot being moved by hand: a key already on the target is reached through ASK
            # (the client's map still says the source), the others stay served by the source.
            with RawConnection(source.port) as s, RawConnection(target.port) as t:
                assert t.command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id) == "OK"
                assert s.command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id) == "OK"
                assert s.command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", moving[0]) == "OK"
                assert await rc.get(moving[0]) == moving[0]
                assert await rc.get(moving[1]) == moving[1]
                # A key the source does not have while the slot migrates is created on the target.
                assert await rc.set(f"{{{tag}}}:new", "n")
                assert t.command("ASKING") == "OK" and t.command("EXISTS", f"{{{tag}}}:new") == 1
                assert str(s.command("EXISTS", f"{{{tag}}}:new")) == f"ASK {slot} {addr(target)}"
                assert s.command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000, "KEYS", *moving[1:]) == "OK"
                for n in (target, source, masters[2]):
                    with RawConnection(n.port) as raw:
                        assert raw.command("CLUSTER", "SETSLOT", slot, "NODE", target_id) == "OK"
            # Moved: the client follows MOVED, updates its map, and writes go to the new owner.
            assert await rc.get(moving[2]) == moving[2]
            assert rc.get_node_from_key(moving[2]).port == target.port
            assert await rc.set(moving[3], "changed")
            pipe = rc.pipeline()
            for k in moving:
                pipe.get(k)
            pipe.get("a:7")
            assert await pipe.execute() == [moving[0], moving[1], moving[2], "changed", moving[4], moving[5], "7"]
            with RawConnection(target.port) as t, RawConnection(source.port) as s:
                assert t.command("GET", moving[3]) == b"changed"
                assert t.command("CLUSTER", "COUNTKEYSINSLOT", slot) == len(moving) + 1
                assert s.command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
        finally:
            await rc.aclose()

    asyncio.run(scenario())
    wait_check_passes(source)


def test_asyncio_cluster_client_writes_through_a_reshard(nodes, server_kind_name):
    masters = three_masters(nodes, server_kind_name)
    source_id, target_id = node_id(masters[2]), node_id(masters[0])
    errors = []

    async def scenario():
        rc = redis.asyncio.cluster.RedisCluster(host="127.0.0.1", port=masters[0].port, decode_responses=True)
        written = {}
        try:
            reshard = await asyncio.create_subprocess_exec(
                redis_cli_path(), "--cluster", "reshard", addr(masters[0]), "--cluster-from", source_id,
                "--cluster-to", target_id, "--cluster-slots", "200", "--cluster-yes",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
            n = 0
            communicate = asyncio.ensure_future(reshard.communicate())
            while not communicate.done():
                key = f"w:{n % 500}"
                try:
                    await rc.set(key, n)
                    written[key] = str(n)
                except Exception as e:  # an error the client could not retry
                    errors.append(repr(e))
                    break
                n += 1
            out, err = await communicate
            assert reshard.returncode == 0, out.decode()[-3000:] + err.decode()
            assert n > 0
            got = await rc.mget_nonatomic(list(written))
            assert dict(zip(written, got)) == written
        finally:
            await rc.aclose()

    asyncio.run(scenario())
    assert errors == []
    wait_check_passes(masters[0])
    assert owned_slots(masters[0]) == 5461 + 200
