"""AOF crash tests: no acknowledged write may be lost.

(a) appendfsync always: client threads write unique keys and increment counters, recording a
    write only once its reply arrived; the server is SIGKILLed at a random moment and restarted
    on the same directory, AOF_CRASH_CYCLES times (20 here, 50 from tools/aof-crash-loop). Every
    recorded key must be there, and every counter at least at its last acknowledged value (and at
    most at the number of increments sent: nothing applied twice).
(b) the same, with a BGREWRITEAOF running: SIGKILL of the server at a random point of the
    rewrite (rdb-key-save-delay widens the window), and separately SIGKILL of the rewrite child
    only, after which the server keeps going on the manifest it had.
(c) torn tail: the last increment cut at every byte offset inside its last command; the server
    starts and only that command is missing.

Against redis-server too (--against-redis / --both)."""

import os
import random
import shutil
import signal
import threading
import time

import pytest

from resp import RawConnection, encode
from test_aof import AOF_ARGS, aof_dir, child_pids, info, kill, last_incr_path, start_on, wait_until

CYCLES = int(os.environ.get("AOF_CRASH_CYCLES", "20"))
WRITERS = 4


class Ledger:
    """What the writers were told succeeded, and what they tried."""

    def __init__(self):
        self.lock = threading.Lock()
        self.keys = set()
        self.counter_acked = {}
        self.counter_sent = {}

    def check(self, conn):
        keys = sorted(self.keys)
        missing = []
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            values = conn.command("MGET", *chunk)
            missing += [k for k, v in zip(chunk, values) if v != k.encode()]
        assert not missing, f"{len(missing)} acknowledged keys lost, e.g. {missing[:5]}"
        for name, acked in self.counter_acked.items():
            value = int(conn.command("GET", name) or 0)
            assert acked <= value <= self.counter_sent[name], (name, acked, value, self.counter_sent[name])


def writer(port, wid, cycle, ledger, stop):
    """Writes until the connection breaks (the server was killed) or `stop` is set."""
    rnd = random.Random(f"{wid}-{cycle}")
    counter = f"counter:{wid}"
    n = 0
    try:
        with RawConnection(port, timeout=30) as c:
            while not stop.is_set():
                if rnd.random() < 0.5:
                    key = f"k:{cycle}:{wid}:{n}"
                    n += 1
                    if c.command("SET", key, key) == "OK":
                        with ledger.lock:
                            ledger.keys.add(key)
                else:
                    with ledger.lock:
                        ledger.counter_sent[counter] = ledger.counter_sent.get(counter, 0) + 1
                    value = c.command("INCR", counter)
                    if isinstance(value, int):
                        with ledger.lock:
                            ledger.counter_acked[counter] = max(ledger.counter_acked.get(counter, 0), value)
    except Exception:  # noqa: BLE001 - the server went away mid-command: that write is not acknowledged
        pass


def start_writers(s, cycle, ledger):
    stop = threading.Event()
    threads = [threading.Thread(target=writer, args=(s.port, w, cycle, ledger, stop), daemon=True)
               for w in range(WRITERS)]
    for t in threads:
        t.start()
    return stop, threads


def join(threads):
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive(), "a writer did not stop"


def make_server(server_kind, tmp_root, directory, *extra):
    return start_on(server_kind, tmp_root, directory, *AOF_ARGS, "--appendfsync", "always", *extra)


@pytest.fixture
def workdir(server_kind, _tmp_root):
    path = os.path.join(_tmp_root, f"aof-crash-{server_kind.name}-{random.randrange(1 << 30)}")
    os.makedirs(path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def stop_server(s):
    if s is not None and s.alive():
        kill(s)


@pytest.mark.slow
def test_always_keeps_every_acknowledged_write_across_sigkill(server_kind, _tmp_root, workdir):
    ledger = Ledger()
    rnd = random.Random(7)
    s = None
    try:
        for cycle in range(CYCLES):
            s = make_server(server_kind, _tmp_root, workdir)
            with RawConnection(s.port, timeout=60) as c:
                ledger.check(c)
            stop, threads = start_writers(s, cycle, ledger)
            time.sleep(rnd.uniform(0.05, 0.6))
            kill(s)
            join(threads)
        s = make_server(server_kind, _tmp_root, workdir)
        with RawConnection(s.port, timeout=60) as c:
            ledger.check(c)
        assert len(ledger.keys) > CYCLES, "the writers hardly wrote anything"
    finally:
        stop_server(s)


@pytest.mark.slow
def test_sigkill_of_the_server_during_a_rewrite(server_kind, _tmp_root, workdir):
    ledger = Ledger()
    rnd = random.Random(11)
    s = make_server(server_kind, _tmp_root, workdir)
    with RawConnection(s.port, timeout=60) as c:
        assert c.command("DEBUG", "POPULATE", 3000, "bulk", 100) == "OK"
    s.stop()
    s = None
    try:
        for cycle in range(8):
            # Rewrites of about 0.15 to 1.2 s, killed anywhere in them or just after.
            delay = rnd.choice([50, 200, 400])
            s = make_server(server_kind, _tmp_root, workdir, "--rdb-key-save-delay", delay)
            with RawConnection(s.port, timeout=60) as c:
                ledger.check(c)
                stop, threads = start_writers(s, cycle, ledger)
                time.sleep(0.05)
                assert c.command("BGREWRITEAOF") == "Background append only file rewriting started"
            time.sleep(rnd.uniform(0.0, 1.5))
            kill(s)
            join(threads)
        s = make_server(server_kind, _tmp_root, workdir)
        with RawConnection(s.port, timeout=60) as c:
            ledger.check(c)
            assert c.command("DBSIZE") >= 3000
    finally:
        stop_server(s)


@pytest.mark.slow
def test_sigkill_of_the_rewrite_child(server_kind, _tmp_root, workdir):
    ledger = Ledger()
    rnd = random.Random(13)
    s = make_server(server_kind, _tmp_root, workdir, "--rdb-key-save-delay", 200)
    try:
        with RawConnection(s.port, timeout=60) as c:
            assert c.command("DEBUG", "POPULATE", 3000, "bulk", 100) == "OK"
            for cycle in range(5):
                stop, threads = start_writers(s, cycle, ledger)
                assert c.command("BGREWRITEAOF") == "Background append only file rewriting started"
                time.sleep(rnd.uniform(0.0, 0.3))
                children = wait_until(lambda: child_pids(s.pid), "the rewrite child")
                for pid in children:
                    os.kill(pid, signal.SIGKILL)
                fields = wait_until(lambda: (f := info(c))["aof_rewrite_in_progress"] == "0" and f,
                                    "the server to notice")
                assert fields["aof_last_bgrewrite_status"] == "err"
                assert int(fields["aof_rewrites_consecutive_failures"]) == cycle + 1
                time.sleep(0.1)  # the server keeps writing the increment it opened for the rewrite
                stop.set()
                join(threads)
                ledger.check(c)
        kill(s)
        s = make_server(server_kind, _tmp_root, workdir)
        with RawConnection(s.port, timeout=60) as c:
            ledger.check(c)
            # And a rewrite still works afterwards.
            assert c.command("BGREWRITEAOF") == "Background append only file rewriting started"
            fields = wait_until(lambda: (f := info(c))["aof_rewrite_in_progress"] == "0" and f, "the rewrite")
            assert fields["aof_last_bgrewrite_status"] == "ok"
            assert fields["aof_rewrites_consecutive_failures"] == "0"
            ledger.check(c)
        assert not [f for f in os.listdir(aof_dir(s)) if f.startswith("temp-")]
    finally:
        stop_server(s)


def test_torn_tail_at_every_offset_of_the_last_command(server_kind, _tmp_root, workdir):
    s = make_server(server_kind, _tmp_root, workdir)
    with RawConnection(s.port) as c:
        for i in range(10):
            c.command("SET", f"key:{i}", f"value:{i}")
        c.command("SELECT", 2)
        c.command("SET", "last", "x")
    s.stop()
    path = last_incr_path(s)
    with open(path, "rb") as f:
        data = f.read()
    last = encode("SET", "last", "x")
    assert data.endswith(last)
    start = len(data) - len(last)
    pristine = os.path.join(workdir, "pristine")
    shutil.copytree(aof_dir(s), pristine)
    for cut in range(start, len(data)):
        shutil.rmtree(aof_dir(s))
        shutil.copytree(pristine, aof_dir(s))
        with open(path, "r+b") as f:
            f.truncate(cut)
        s = make_server(server_kind, _tmp_root, workdir)
        try:
            with RawConnection(s.port) as c:
                assert c.command("MGET", *[f"key:{i}" for i in range(10)]) == [f"value:{i}".encode() for i in range(10)]
                c.command("SELECT", 2)
                assert c.command("EXISTS", "last") == 0, cut
        finally:
            s.stop()
        # The torn bytes are gone from the file: new writes follow a whole command.
        assert os.path.getsize(path) == start, cut
