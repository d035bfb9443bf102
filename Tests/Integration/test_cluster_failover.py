"""Cluster failover: failure detection (PFAIL/FAIL, failure reports), replica election and
promotion, the old master's return as a replica, epochs that never go backwards, and the manual
CLUSTER FAILOVER [FORCE|TAKEOVER] -- each proven on a real Redis 7.0 cluster, then held against
cairn-server unchanged (every test is parametrized over the implementation; the mixed tests put
the masters on one implementation and the replicas on the other).

Clusters are built here by hand (ADDSLOTSRANGE, distinct SET-CONFIG-EPOCH, MEET, CLUSTER
REPLICATE) with cluster-node-timeout 2000. Nodes are crashed with SIGKILL and frozen with SIGSTOP
by the PID the harness started; every frozen node is sent SIGCONT before the fixture stops it.
No test sleeps for a fixed time or asserts a wall-clock duration: each wait polls a condition
with a generous deadline, and the measured times are printed (pytest -s) and recorded as test
properties (--junitxml)."""

import signal
import threading
import time

import pytest

from redis.crc import key_slot
from resp import ConnectionClosed, Error, RawConnection, encode
from serverproc import ServerProcess, free_port, require

NODE_TIMEOUT_MS = 2000
SLOTS = 16384
# Generous: a failover takes a few seconds at node-timeout 2000 (more when two elections collide
# and one has to retry after 2 x the auth timeout).
DEADLINE = 30.0
KINDS = ["redis", "cairn"]
MIXED = [("cairn", "redis"), ("redis", "cairn")]


# -- talking to one node

def cmd(node, *args, timeout=5.0):
    """One command on a fresh connection; the decoded reply (errors as `Error`)."""
    with RawConnection(node.port, timeout=timeout) as c:
        return c.command(*args)


def text(reply):
    if isinstance(reply, Error):
        raise AssertionError(f"error reply: {reply}")
    return reply.decode() if isinstance(reply, bytes) else str(reply)


def fields(reply):
    return dict(l.split(":", 1) for l in text(reply).split("\r\n") if ":" in l)


def cluster_info(node):
    return fields(cmd(node, "CLUSTER", "INFO"))


def info(node, section):
    return fields(cmd(node, "INFO", section))


def nodes_view(node):
    """CLUSTER NODES as {id: {addr, flags, master, epoch, link, slots}}."""
    view = {}
    for line in text(cmd(node, "CLUSTER", "NODES")).strip().split("\n"):
        f = line.split(" ")
        view[f[0]] = dict(addr=f[1], flags=set(f[2].split(",")), master=f[3], epoch=int(f[6]), link=f[7],
                          slots=f[8:])
    return view


def role(node):
    reply = cmd(node, "ROLE")
    if isinstance(reply, Error):
        raise AssertionError(f"ROLE: {reply}")
    return [x.decode() if isinstance(x, bytes) else x for x in reply]


def is_master(node):
    return role(node)[0] == "master"


def is_replica_of(node, master):
    r = role(node)
    return r[0] == "slave" and int(r[2]) == master.port and r[3] == "connected" \
        and info(node, "replication").get("master_link_status") == "up"


# -- polling

def poll(predicate, what, cap=DEADLINE, cluster=None):
    """Polls `predicate` (any exception counts as not yet) until it holds; fails after `cap`
    seconds with the last exception and, given the cluster, what every reachable node says."""
    deadline = time.monotonic() + cap
    last = None
    while True:
        try:
            if predicate():
                return
        except Exception as e:  # a node restarting, loading, an error reply: not yet
            last = e
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    detail = cluster.describe() if cluster is not None else ""
    pytest.fail(f"timed out after {cap:.0f}s waiting for {what}; last exception: {last!r}\n{detail}", pytrace=False)


# -- a cluster of masters with one replica each

class Cluster:
    def __init__(self, masters, replicas):
        self.masters = masters
        self.replicas = replicas
        self.frozen = set()  # nodes under SIGSTOP
        self.ranges = {}  # master id -> "lo-hi"

    @property
    def all(self):
        return self.masters + self.replicas

    def running(self):
        """Nodes alive and not frozen: the ones a test can talk to."""
        return [n for n in self.all if n.alive() and n not in self.frozen]

    def masters_running(self):
        return [n for n in self.running() if is_master(n)]

    def freeze(self, node):
        node.signal(signal.SIGSTOP)
        self.frozen.add(node)

    def thaw(self, node):
        node.signal(signal.SIGCONT)
        self.frozen.discard(node)

    def describe(self):
        out = []
        for n in self.all:
            head = f"--- {n.kind.name} node {getattr(n, 'node_id', '?')[:8]} port {n.port} pid {n.proc.pid}"
            if not n.alive():
                out.append(head + ": not running")
                continue
            if n in self.frozen:
                out.append(head + ": SIGSTOPped")
                continue
            try:
                ci = cluster_info(n)
                out.append(f"{head}: cluster_state={ci.get('cluster_state')} current_epoch="
                           f"{ci.get('cluster_current_epoch')} role={role(n)[:4]}")
                out.append(text(cmd(n, "CLUSTER", "NODES")).rstrip())
            except Exception as e:
                out.append(f"{head}: {e!r}")
        return "\n".join(out)

    def agree(self, observers, masters, replica_of, healthy=True):
        """Every observer says cluster_state:ok, sees each of `masters` (id -> slots) as a master
        with those slots, each replica (id -> master id) as a replica of that master and, with
        `healthy`, no node of these in pfail/fail and every link connected."""
        for obs in observers:
            if cluster_info(obs)["cluster_state"] != "ok":
                return False
            view = nodes_view(obs)
            for node_id, slots in masters.items():
                e = view[node_id]
                if "master" not in e["flags"] or e["slots"] != [slots]:
                    return False
            for node_id, master_id in replica_of.items():
                e = view[node_id]
                if "slave" not in e["flags"] or e["master"] != master_id:
                    return False
            if healthy:
                for node_id in list(masters) + list(replica_of):
                    e = view[node_id]
                    if e["flags"] & {"fail", "fail?", "handshake", "noaddr"}:
                        return False
                    if "myself" not in e["flags"] and e["link"] != "connected":
                        return False
        return True

    def topology(self):
        """What the cluster looks like now, from a running master's view: ({master id: slots},
        {replica id: master id}) over the nodes not in fail."""
        view = nodes_view(self.masters_running()[0])
        masters = {i: e["slots"][0] for i, e in view.items() if "master" in e["flags"] and e["slots"]}
        replicas = {i: e["master"] for i, e in view.items() if "slave" in e["flags"]}
        return masters, replicas

    def wait_healthy(self, what="the cluster to be ok, every node agreeing", cap=DEADLINE):
        masters = {m.node_id: self.ranges[m.node_id] for m in self.masters}
        replica_of = {r.node_id: m.node_id for m, r in zip(self.masters, self.replicas)}
        poll(lambda: self.agree(self.all, masters, replica_of)
             and all(is_replica_of(r, m) for m, r in zip(self.masters, self.replicas)), what, cap, self)


def start_node(kind_name, tmp_root):
    s = ServerProcess(require(kind_name), tmp_root,
                      ["--cluster-enabled", "yes", "--cluster-port", str(free_port()),
                       "--cluster-node-timeout", str(NODE_TIMEOUT_MS), "--repl-diskless-sync-delay", "0",
                       "--enable-debug-command", "local"])
    s.start()
    s.node_id = text(cmd(s, "CLUSTER", "MYID"))
    return s


def bus_port(s):
    argv = s.command_line()
    return int(argv[argv.index("--cluster-port") + 1])


@pytest.fixture
def make_cluster(_tmp_root):
    started = []

    def make(masters_kind, replicas_kind=None, masters=3):
        replicas_kind = replicas_kind or masters_kind
        ms = []
        rs = []
        for _ in range(masters):
            ms.append(start_node(masters_kind, _tmp_root))
            started.append(ms[-1])
        for _ in range(masters):
            rs.append(start_node(replicas_kind, _tmp_root))
            started.append(rs[-1])
        c = Cluster(ms, rs)
        per = SLOTS // masters
        for i, m in enumerate(ms):
            lo, hi = i * per, (SLOTS - 1 if i == masters - 1 else (i + 1) * per - 1)
            assert cmd(m, "CLUSTER", "ADDSLOTSRANGE", lo, hi) == "OK"
            c.ranges[m.node_id] = f"{lo}-{hi}"
        # Distinct config epochs on every node, as redis-cli --cluster create sets them.
        for epoch, n in enumerate(c.all, 1):
            assert cmd(n, "CLUSTER", "SET-CONFIG-EPOCH", epoch) == "OK"
        for n in c.all[1:]:
            assert cmd(c.all[0], "CLUSTER", "MEET", "127.0.0.1", n.port, bus_port(n)) == "OK"
        ids = {n.node_id for n in c.all}
        poll(lambda: all(set(nodes_view(n)) == ids and cluster_info(n)["cluster_known_nodes"] == str(len(ids))
                         for n in c.all), "every node to know every other", cluster=c)
        for m, r in zip(ms, rs):
            assert cmd(r, "CLUSTER", "REPLICATE", m.node_id) == "OK"
        c.wait_healthy("the new cluster to be ok, every replica's link up and every node agreeing")
        return c

    yield make
    for s in started:
        if s.alive():
            try:
                s.signal(signal.SIGCONT)
            except ProcessLookupError:
                pass
    for s in reversed(started):  # replicas first: no master waits for a lagging replica at SHUTDOWN
        s.stop()


# -- data

def keys_in(slot_range, count, prefix="k"):
    lo, hi = (int(x) for x in slot_range.split("-"))
    out = []
    n = 0
    while len(out) < count:
        k = f"{prefix}{n}"
        if lo <= key_slot(k.encode()) <= hi:
            out.append(k)
        n += 1
    return out


def write_acknowledged(cluster, master, count=50, prefix="k"):
    """`count` keys in the master's slots, each SET acknowledged by its replica (WAIT 1 0)."""
    keys = keys_in(cluster.ranges[master.node_id], count, prefix)
    with RawConnection(master.port, timeout=DEADLINE) as c:
        for k in keys:
            assert c.command("SET", k, f"v:{k}") == "OK"
        assert c.command("WAIT", 1, 0) >= 1
    return keys


def read_all(node, keys, readonly=False):
    """The values of `keys` on `node`, pipelined (READONLY first on a replica)."""
    values = {}
    with RawConnection(node.port, timeout=DEADLINE) as c:
        if readonly:
            assert c.command("READONLY") == "OK"
        for i in range(0, len(keys), 1000):
            batch = keys[i:i + 1000]
            c.send(b"".join(encode("GET", k) for k in batch))
            for k in batch:
                values[k] = c.read_reply()
    return values


def assert_values(node, keys, readonly=False, expected=None):
    got = read_all(node, keys, readonly)
    want = expected or {k: f"v:{k}".encode() for k in keys}
    missing = {k: got.get(k) for k in keys if got.get(k) != want[k]}
    assert not missing, f"{len(missing)} of {len(keys)} keys wrong on port {node.port}: {list(missing.items())[:5]}"


def sync_stats(node):
    s = info(node, "stats")
    return {k: int(s.get(k, 0)) for k in ("sync_full", "sync_partial_ok", "sync_partial_err")}


def report(record_property, name, value):
    print(f"\n{name}: {value}")
    record_property(name, value)


# -- kill -9 of a master, and its return

def kill_master_and_wait_promotion(c, index, record_property=None, cap=DEADLINE):
    """SIGKILLs master `index`; waits until its replica is a master with its slots in the view of
    every survivor and every survivor says ok. Returns the seconds this took."""
    master, replica = c.masters[index], c.replicas[index]
    slots = c.ranges[master.node_id]
    t0 = time.monotonic()
    master.kill9()
    survivors = c.running()
    poll(lambda: is_master(replica)
         and all(cluster_info(n)["cluster_state"] == "ok"
                 and "master" in (v := nodes_view(n))[replica.node_id]["flags"]
                 and v[replica.node_id]["slots"] == [slots] for n in survivors),
         f"the replica on port {replica.port} to take over {slots} and every survivor to say ok", cap, c)
    elapsed = time.monotonic() - t0
    if record_property is not None:
        report(record_property, "kill_to_cluster_ok_seconds", round(elapsed, 2))
    return elapsed


@pytest.mark.parametrize("kind", KINDS)
def test_killed_master_is_replaced_by_its_replica(make_cluster, kind, record_property):
    c = make_cluster(kind)
    keys = write_acknowledged(c, c.masters[0])
    kill_master_and_wait_promotion(c, 0, record_property)
    promoted = c.replicas[0]
    assert role(promoted)[0] == "master"
    for n in c.running():
        e = nodes_view(n)[c.masters[0].node_id]
        assert "master" in e["flags"] and "fail" in e["flags"] and e["slots"] == [], (n.port, e)
    # The new master's epoch is the greatest: it won an election in a new epoch.
    view = nodes_view(c.masters[1])
    assert view[promoted.node_id]["epoch"] > max(e["epoch"] for i, e in view.items() if i != promoted.node_id)
    assert_values(promoted, keys)
    # It serves writes for its slots now.
    assert cmd(promoted, "SET", keys[0], "after") == "OK"


@pytest.mark.parametrize("kind", KINDS)
def test_killed_master_restarted_comes_back_as_replica_of_the_winner(make_cluster, kind, record_property):
    c = make_cluster(kind)
    old, promoted = c.masters[0], c.replicas[0]
    keys = write_acknowledged(c, old)
    kill_master_and_wait_promotion(c, 0, record_property)
    more = keys_in(c.ranges[old.node_id], 20, prefix="after")
    for k in more:
        assert cmd(promoted, "SET", k, f"v:{k}") == "OK"
    before = sync_stats(promoted)
    t0 = time.monotonic()
    old.start_again()  # the same port and dir: its nodes.conf still says it is the master of its slots
    poll(lambda: is_replica_of(old, promoted)
         and all(nodes_view(n)[old.node_id]["master"] == promoted.node_id
                 and "slave" in nodes_view(n)[old.node_id]["flags"]
                 and not nodes_view(n)[old.node_id]["flags"] & {"fail", "fail?"} for n in c.running()),
         "the restarted master to be a replica of the promoted node, in every node's view", cluster=c)
    report(record_property, "restart_to_replica_seconds", round(time.monotonic() - t0, 2))
    assert_values(old, keys + more, readonly=True)
    after = sync_stats(promoted)
    delta = {k: after[k] - before[k] for k in after}
    how = "partial" if delta["sync_partial_ok"] > 0 else "full" if delta["sync_full"] > 0 else "none counted"
    report(record_property, "resync_of_restarted_master", f"{how} {delta}")
    assert delta["sync_partial_ok"] + delta["sync_full"] >= 1, delta
    poll(lambda: all(cluster_info(n)["cluster_state"] == "ok" for n in c.running()), "every node to say ok", cluster=c)


@pytest.mark.parametrize("kind", KINDS)
def test_sigstopped_master_resumes_as_replica_of_the_winner(make_cluster, kind, record_property):
    c = make_cluster(kind)
    old, promoted = c.masters[0], c.replicas[0]
    keys = write_acknowledged(c, old)
    slots = c.ranges[old.node_id]
    t0 = time.monotonic()
    c.freeze(old)
    others = c.running()
    poll(lambda: is_master(promoted)
         and all(cluster_info(n)["cluster_state"] == "ok" and nodes_view(n)[promoted.node_id]["slots"] == [slots]
                 for n in others), "the frozen master's replica to take over", cluster=c)
    report(record_property, "sigstop_to_cluster_ok_seconds", round(time.monotonic() - t0, 2))
    before = sync_stats(promoted)
    c.thaw(old)
    t1 = time.monotonic()
    poll(lambda: is_replica_of(old, promoted)
         and all("slave" in (v := nodes_view(n))[old.node_id]["flags"] and v[old.node_id]["master"] == promoted.node_id
                 and not v[old.node_id]["flags"] & {"fail", "fail?"} for n in c.running())
         and all(cluster_info(n)["cluster_state"] == "ok" for n in c.running()),
         "the resumed master to be a replica of the winner in every node's view", cluster=c)
    report(record_property, "sigcont_to_replica_seconds", round(time.monotonic() - t1, 2))
    after = sync_stats(promoted)
    delta = {k: after[k] - before[k] for k in after}
    how = "partial" if delta["sync_partial_ok"] > 0 else "full" if delta["sync_full"] > 0 else "none counted"
    report(record_property, "resync_of_resumed_master", f"{how} {delta}")
    # Its history is continuous with the winner's (PSYNC2: the winner keeps the old replication
    # id as its second one): a partial resync, on both servers.
    assert how == "partial", delta
    assert_values(old, keys, readonly=True)
    assert str(cmd(old, "SET", keys[0], "x")).startswith(f"MOVED {key_slot(keys[0].encode())} ")


@pytest.mark.parametrize("kind", KINDS)
def test_two_masters_killed_at_once_both_replicas_take_over(make_cluster, kind, record_property):
    c = make_cluster(kind, masters=5)
    keys = {i: write_acknowledged(c, c.masters[i]) for i in (0, 1)}
    t0 = time.monotonic()
    c.masters[0].kill9()
    c.masters[1].kill9()
    survivors = c.running()
    want = {c.replicas[i].node_id: c.ranges[c.masters[i].node_id] for i in (0, 1)}
    # Two elections at once can collide on an epoch; the loser retries after 2 x the auth timeout.
    poll(lambda: all(is_master(c.replicas[i]) for i in (0, 1))
         and all(cluster_info(n)["cluster_state"] == "ok"
                 and all("master" in (v := nodes_view(n))[i]["flags"] and v[i]["slots"] == [s] for i, s in want.items())
                 for n in survivors),
         "both replicas to take over and every survivor to say ok", cap=2 * DEADLINE, cluster=c)
    report(record_property, "kill_to_cluster_ok_seconds", round(time.monotonic() - t0, 2))
    epochs = [nodes_view(c.masters[2])[c.replicas[i].node_id]["epoch"] for i in (0, 1)]
    assert epochs[0] != epochs[1], "each promotion has its own config epoch"
    for i in (0, 1):
        assert_values(c.replicas[i], keys[i])


# -- a master cut off from the majority

@pytest.mark.parametrize("kind", KINDS)
def test_master_in_a_minority_partition_refuses_writes(make_cluster, kind, record_property):
    c = make_cluster(kind)
    alone = c.masters[0]
    key = keys_in(c.ranges[alone.node_id], 1)[0]
    assert cmd(alone, "SET", key, "before") == "OK"
    t0 = time.monotonic()
    for n in c.all:
        if n is not alone:
            c.freeze(n)

    def refuses():
        if cluster_info(alone)["cluster_state"] != "fail":
            return False
        reply = cmd(alone, "SET", key, "during")
        return isinstance(reply, Error) and str(reply).startswith("CLUSTERDOWN")

    poll(refuses, "the isolated master to say cluster_state:fail and refuse writes with CLUSTERDOWN", cluster=c)
    report(record_property, "isolation_to_clusterdown_seconds", round(time.monotonic() - t0, 2))
    assert str(cmd(alone, "SET", key, "during")).startswith("CLUSTERDOWN")
    assert str(cmd(alone, "GET", key)).startswith("CLUSTERDOWN")  # reads too (cluster-allow-reads-when-down no)
    for n in list(c.frozen):
        c.thaw(n)
    t1 = time.monotonic()
    poll(lambda: all(cluster_info(n)["cluster_state"] == "ok" for n in c.all), "every node to say ok again",
         cluster=c)
    report(record_property, "sigcont_to_cluster_ok_seconds", round(time.monotonic() - t1, 2))
    # The isolated master took no write while it was down; the key has its old value wherever its slot is now.
    masters, _ = c.topology()
    slot = key_slot(key.encode())
    owner_id = next(i for i, s in masters.items() if int(s.split("-")[0]) <= slot <= int(s.split("-")[1]))
    owner = next(n for n in c.all if n.node_id == owner_id)
    assert cmd(owner, "GET", key) == b"before"


# -- epochs

def epochs(c):
    """{observer id: (currentEpoch, {node id: config epoch as the observer sees it})}."""
    return {n.node_id: (int(cluster_info(n)["cluster_current_epoch"]),
                        {i: e["epoch"] for i, e in nodes_view(n).items()}) for n in c.all}


@pytest.mark.parametrize("kind", KINDS)
def test_epochs_never_go_backwards_across_restarts(make_cluster, kind, record_property):
    c = make_cluster(kind)
    old, promoted = c.masters[0], c.replicas[0]
    kill_master_and_wait_promotion(c, 0)
    old.start_again()
    # From now on the failed-over pair is (promoted, old).
    c.masters[0], c.replicas[0] = promoted, old
    c.ranges[promoted.node_id] = c.ranges[old.node_id]
    c.wait_healthy("the restarted master to be a replica of the promoted node, every node agreeing")
    before = epochs(c)
    report(record_property, "current_epochs_before", sorted(e for e, _ in before.values()))
    for n in reversed(c.all):  # replicas first
        assert n.stop() == 0
    for n in c.all:
        n.start_again()
    c.wait_healthy("every restarted node to agree on the cluster again")
    after = epochs(c)
    report(record_property, "current_epochs_after", sorted(e for e, _ in after.values()))
    for observer, (current, config) in before.items():
        assert after[observer][0] >= current, (observer, current, after[observer][0])
        for node_id, epoch in config.items():
            assert after[observer][1][node_id] >= epoch, (observer, node_id, epoch, after[observer][1][node_id])
    # currentEpoch is at least every config epoch a node knows.
    for observer, (current, config) in after.items():
        assert current >= max(config.values()), (observer, current, config)


# -- manual failover

class Writer(threading.Thread):
    """Writes unique keys (values their sequence number) into the given slots, following MOVED;
    records each write acknowledged with +OK."""

    def __init__(self, port, tags):
        super().__init__(daemon=True)
        self.port = port
        self.tags = tags
        self.acked = {}
        self.errors = []
        self.stop = threading.Event()
        self.redirects = 0

    def run(self):
        conn = None
        n = 0
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = RawConnection(self.port, timeout=5.0)
                key = f"{{{self.tags[n % len(self.tags)]}}}:w{n}"
                reply = conn.command("SET", key, str(n))
                if reply == "OK":
                    self.acked[key] = str(n).encode()
                    n += 1
                elif isinstance(reply, Error) and str(reply).startswith("MOVED "):
                    self.port = int(str(reply).split(" ")[2].rsplit(":", 1)[1])
                    self.redirects += 1
                    conn.close()
                    conn = None  # the same key again, at the node the slot moved to
                else:
                    self.errors.append(str(reply))
                    n += 1
                    time.sleep(0.01)
            except (OSError, ConnectionClosed) as e:  # the reply was lost: the write is not acknowledged
                self.errors.append(repr(e))
                n += 1
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.close()


def tags_in(slot_range, count):
    return keys_in(slot_range, count, prefix="t")


def swapped(c, new_master, new_replica, slots):
    return is_master(new_master) and is_replica_of(new_replica, new_master) and all(
        cluster_info(n)["cluster_state"] == "ok"
        and (v := nodes_view(n))[new_master.node_id]["slots"] == [slots] and "master" in v[new_master.node_id]["flags"]
        and v[new_replica.node_id]["master"] == new_master.node_id for n in c.running())


@pytest.mark.parametrize("kind", KINDS)
def test_manual_failover_under_a_writer_loses_no_acknowledged_write(make_cluster, kind, record_property):
    c = make_cluster(kind)
    master, replica = c.masters[0], c.replicas[0]
    slots = c.ranges[master.node_id]
    writer = Writer(master.port, tags_in(slots, 8))
    writer.start()
    try:
        poll(lambda: len(writer.acked) >= 200, "the writer to get going", cluster=c)
        at_failover = len(writer.acked)
        t0 = time.monotonic()
        assert cmd(replica, "CLUSTER", "FAILOVER") == "OK"
        poll(lambda: swapped(c, replica, master, slots), "the roles to swap after CLUSTER FAILOVER", cluster=c)
        report(record_property, "manual_failover_seconds", round(time.monotonic() - t0, 2))
        at_swap = len(writer.acked)
        poll(lambda: writer.port == replica.port and len(writer.acked) >= at_swap + 200,
             "the writer to follow MOVED to the new master and write there", cluster=c)
    finally:
        writer.stop.set()
        writer.join(30)
    assert not writer.is_alive()
    report(record_property, "writes_acknowledged", f"{len(writer.acked)} ({at_failover} before the failover), "
                                                   f"redirects {writer.redirects}, other errors {writer.errors[:5]}")
    assert_values(replica, list(writer.acked), expected=writer.acked)
    assert writer.redirects >= 1


@pytest.mark.parametrize("kind", KINDS)
def test_failover_force_and_takeover_swap_roles(make_cluster, kind, record_property):
    c = make_cluster(kind)
    master, replica = c.masters[0], c.replicas[0]
    slots = c.ranges[master.node_id]
    keys = write_acknowledged(c, master)
    t0 = time.monotonic()
    assert cmd(replica, "CLUSTER", "FAILOVER", "FORCE") == "OK"
    poll(lambda: swapped(c, replica, master, slots), "the roles to swap after CLUSTER FAILOVER FORCE", cluster=c)
    report(record_property, "failover_force_seconds", round(time.monotonic() - t0, 2))
    assert_values(replica, keys)
    more = keys_in(slots, 20, prefix="force")
    with RawConnection(replica.port, timeout=DEADLINE) as r:
        for k in more:
            assert r.command("SET", k, f"v:{k}") == "OK"
        assert r.command("WAIT", 1, 0) >= 1
    t1 = time.monotonic()
    assert cmd(master, "CLUSTER", "FAILOVER", "TAKEOVER") == "OK"
    poll(lambda: swapped(c, master, replica, slots), "the roles to swap back after CLUSTER FAILOVER TAKEOVER", cluster=c)
    report(record_property, "failover_takeover_seconds", round(time.monotonic() - t1, 2))
    assert_values(master, keys + more)
    # TAKEOVER bumps the config epoch without agreement: the taker's is now the greatest.
    view = nodes_view(c.masters[1])
    assert view[master.node_id]["epoch"] > max(e["epoch"] for i, e in view.items() if i not in (master.node_id,
                                                                                                replica.node_id))
    # A replica refuses the command, and so does a master.
    assert str(cmd(c.masters[1], "CLUSTER", "FAILOVER")) == "ERR You should send CLUSTER FAILOVER to a replica"


# -- mixed clusters

@pytest.mark.parametrize("masters_kind,replicas_kind", MIXED)
def test_mixed_cluster_replica_of_the_other_implementation_takes_over(make_cluster, masters_kind, replicas_kind,
                                                                      record_property):
    c = make_cluster(masters_kind, replicas_kind)
    keys = write_acknowledged(c, c.masters[0])
    kill_master_and_wait_promotion(c, 0, record_property)
    assert c.replicas[0].kind.name == replicas_kind
    assert_values(c.replicas[0], keys)
    assert cmd(c.replicas[0], "SET", keys[0], "after") == "OK"
    assert cmd(c.replicas[0], "WAIT", 0, 0) == 0  # no replica left for these slots


# -- failure detection

@pytest.mark.parametrize("kind", KINDS)
def test_failure_reports_and_fail_flag_for_a_killed_master(make_cluster, kind, record_property):
    c = make_cluster(kind)
    dead = c.masters[0]
    t0 = time.monotonic()
    dead.kill9()
    survivors = c.running()
    other_masters = [m for m in c.masters if m is not dead]
    seen = {}

    def reported():
        for m in other_masters:
            n = cmd(m, "CLUSTER", "COUNT-FAILURE-REPORTS", dead.node_id)
            assert isinstance(n, int), n
            if n > 0:
                seen[m.port] = n
        return bool(seen)

    poll(reported, "a surviving master to hold a failure report about the killed master", cluster=c)
    report(record_property, "kill_to_failure_report_seconds", round(time.monotonic() - t0, 2))
    report(record_property, "failure_reports", seen)
    poll(lambda: all("fail" in nodes_view(n)[dead.node_id]["flags"] for n in survivors),
         "every survivor to flag the killed master fail", cluster=c)
    report(record_property, "kill_to_fail_flag_everywhere_seconds", round(time.monotonic() - t0, 2))
    for n in survivors:
        e = nodes_view(n)[dead.node_id]
        assert "fail?" not in e["flags"] and e["link"] == "disconnected", (n.port, e)
    assert str(cmd(survivors[0], "CLUSTER", "COUNT-FAILURE-REPORTS", "0" * 40)) == f"ERR Unknown node {'0' * 40}"


# -- replica migration

@pytest.mark.parametrize("kind", KINDS)
def test_a_spare_replica_migrates_to_an_orphaned_master(make_cluster, kind, record_property, _tmp_root):
    """cluster-migration-barrier 1 (the default): master 0 gets a second replica; when master 1
    loses its only replica, one of master 0's replicas (the smaller name) moves to master 1."""
    c = make_cluster(kind)
    spare = start_node(kind, _tmp_root)
    try:
        _migrate(c, spare, record_property)
    finally:
        spare.stop()


def _migrate(c, spare, record_property):
    assert cmd(c.masters[0], "CLUSTER", "MEET", "127.0.0.1", spare.port, bus_port(spare)) == "OK"
    poll(lambda: c.masters[0].node_id in nodes_view(spare), "the spare node to learn master 0", cluster=c)
    assert cmd(spare, "CLUSTER", "REPLICATE", c.masters[0].node_id) == "OK"
    poll(lambda: is_replica_of(spare, c.masters[0])
         and all(nodes_view(n).get(spare.node_id, {}).get("master") == c.masters[0].node_id for n in c.running()),
         "the spare replica to sync with master 0 and every node to see it", cluster=c)
    orphan_replica = c.replicas[1]
    t0 = time.monotonic()
    orphan_replica.kill9()
    candidates = {c.replicas[0].node_id: c.replicas[0], spare.node_id: spare}
    mover = candidates[min(candidates)]

    def migrated():
        view = nodes_view(c.masters[1])
        return view.get(mover.node_id, {}).get("master") == c.masters[1].node_id and is_replica_of(mover, c.masters[1])

    poll(migrated, "the replica with the smaller name to migrate to the orphaned master 1", cluster=c)
    report(record_property, "kill_to_migration_seconds", round(time.monotonic() - t0, 2))
    other = candidates[max(candidates)]
    assert nodes_view(c.masters[0])[other.node_id]["master"] == c.masters[0].node_id


# -- a master that stops answering by itself (DEBUG SLEEP), a replica that must not fail over

@pytest.mark.parametrize("kind", KINDS)
def test_master_in_debug_sleep_is_replaced_and_comes_back_as_replica(make_cluster, kind, record_property):
    """DEBUG SLEEP blocks the master's only thread (clients and bus) as a stall would: its replica
    takes over, and when the sleep ends the old master turns replica of the winner."""
    import threading
    c = make_cluster(kind)
    old, promoted = c.masters[0], c.replicas[0]
    keys = write_acknowledged(c, old)
    slots = c.ranges[old.node_id]
    replies = []
    sleeper = threading.Thread(target=lambda: replies.append(cmd(old, "DEBUG", "SLEEP", 4 * NODE_TIMEOUT_MS // 1000, timeout=60)))
    t0 = time.monotonic()
    sleeper.start()
    others = [n for n in c.all if n is not old]
    poll(lambda: is_master(promoted)
         and all(cluster_info(n)["cluster_state"] == "ok" and nodes_view(n)[promoted.node_id]["slots"] == [slots]
                 for n in others), "the sleeping master's replica to take over", cluster=c)
    report(record_property, "sleep_to_cluster_ok_seconds", round(time.monotonic() - t0, 2))
    sleeper.join(60)
    assert replies == ["OK"]
    poll(lambda: is_replica_of(old, promoted), "the old master to be a replica of the winner after its sleep", cluster=c)
    assert_values(promoted, keys)


@pytest.mark.parametrize("kind", KINDS)
def test_replica_no_failover_stays_a_replica_until_a_manual_failover(make_cluster, kind, record_property):
    """cluster-replica-no-failover yes: the replica shows `nofailover`, is not promoted when its
    master dies (the slots stay unserved, cluster_state fail), and CLUSTER FAILOVER FORCE still works."""
    c = make_cluster(kind)
    old, replica = c.masters[0], c.replicas[0]
    assert cmd(replica, "CONFIG", "SET", "cluster-replica-no-failover", "yes") == "OK"
    poll(lambda: all("nofailover" in nodes_view(n)[replica.node_id]["flags"] for n in c.all),
         "every node to see the replica flagged nofailover", cluster=c)
    old.kill9()
    others = [n for n in c.all if n is not old]
    poll(lambda: all("fail" in nodes_view(n)[old.node_id]["flags"] and cluster_info(n)["cluster_state"] == "fail"
                     for n in others), "the dead master to be FAIL and the cluster down", cluster=c)
    # Well past the node timeout + the longest election delay: still a replica.
    deadline = time.monotonic() + 2 * NODE_TIMEOUT_MS / 1000 + 3
    while time.monotonic() < deadline:
        assert not is_master(replica), "a nofailover replica was promoted"
        time.sleep(0.2)
    assert cmd(replica, "CLUSTER", "FAILOVER", "FORCE") == "OK"
    poll(lambda: is_master(replica) and all(cluster_info(n)["cluster_state"] == "ok" for n in others),
         "the forced failover to promote it and the cluster to be ok", cluster=c)
