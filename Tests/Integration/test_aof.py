"""The append-only file: directives, the multi-part layout and manifest, data surviving SIGKILL
under each fsync policy, CONFIG SET appendonly at run time, BGREWRITEAOF (replies, scheduling
during BGSAVE, the files it leaves), automatic rewrites, #TS annotations, DEBUG LOADAOF,
INFO persistence, and refusing to start on a damaged AOF.

Tests that describe Redis behaviour run against redis-server too (--against-redis / --both);
the crash tests are in test_aof_crash.py."""

import os
import signal
import time

import pytest

from resp import Error, encode
from serverproc import ServerProcess, free_port

WAIT_SECONDS = 60.0
AOF_ARGS = ("--appendonly", "yes", "--enable-debug-command", "yes")


def info(conn, section="persistence"):
    text = conn.command("INFO", section)
    fields = {}
    for line in text.decode().split("\r\n"):
        if line and not line.startswith("#"):
            k, _, v = line.partition(":")
            fields[k] = v
    return fields


def wait_until(condition, what, timeout=WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_rewrite(conn):
    """Waits until no rewrite runs or is scheduled; returns INFO persistence."""
    def done():
        fields = info(conn)
        busy = fields["aof_rewrite_in_progress"] != "0" or fields["aof_rewrite_scheduled"] != "0"
        return None if busy else fields
    return wait_until(done, "the AOF rewrite to end")


def aof_dir(s):
    return os.path.join(s.dir, "appendonlydir")


def aof_files(s):
    return sorted(os.listdir(aof_dir(s)))


def manifest(s):
    with open(os.path.join(aof_dir(s), "appendonly.aof.manifest"), "rb") as f:
        return f.read().decode()


def last_incr_path(s):
    lines = [line.split() for line in manifest(s).splitlines() if line.strip()]
    incrs = [words[1] for words in lines if words[-1] == "i"]
    return os.path.join(aof_dir(s), incrs[-1])


def kill(s):
    """SIGKILL the server (and any child it forked: an orphaned rewrite must not linger)."""
    children = child_pids(s.pid)
    os.kill(s.pid, signal.SIGKILL)
    s.proc.wait()
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def child_pids(pid):
    pids = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                pids += [int(p) for p in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return pids


def start_on(server_kind, tmp_root, directory, *extra_args, log_name="server.log"):
    """A server of the kind under test on an existing directory."""
    s = ServerProcess(server_kind, tmp_root, list(extra_args))
    os.rmdir(s.dir)
    s.dir = directory
    s.log_path = os.path.join(directory, log_name)
    s.start()
    return s


@pytest.fixture
def restart(server_kind, _tmp_root):
    """SIGKILLs a server (unless it already exited) and starts another on the same directory."""
    started = []

    def again(old, *extra_args):
        if old.alive():
            kill(old)
        s = start_on(server_kind, _tmp_root, old.dir, *(extra_args or old.extra_args))
        started.append(s)
        return s

    yield again
    for s in started:
        s.stop()


def digest(c):
    return c.command("DEBUG", "DIGEST")


def fill(c):
    """Every type, several databases, expiries, a transaction, a counter and a float."""
    c.command("SET", "string", "hello")
    c.command("SET", b"bin\x00\xff\r\nkey", b"\x00\x01\xfe\xff" * 20)
    c.command("SET", "ttl", "v", "EX", 3600)
    c.command("RPUSH", "list", *[f"e{i}" for i in range(300)])
    c.command("HSET", "hash", "f1", "v1", "f2", "2")
    c.command("SADD", "set", "a", "b", "c", 1, 2)
    c.command("ZADD", "zset", 1, "a", "2.5", "b", -3, "c")
    c.command("INCR", "counter")
    c.command("INCRBYFLOAT", "float", "1.5")
    c.command("SPOP", "set")
    c.command("EXPIRE", "hash", 7200)
    assert c.command("MULTI") == "OK"
    c.command("LPUSH", "list", "head")
    c.command("INCRBY", "counter", 10)
    assert c.command("EXEC") == [301, 11]
    c.command("SELECT", 3)
    c.command("SET", "db3-key", "three")
    c.command("SELECT", 0)
    c.command("DEL", "string")
    c.command("SET", "string", "again")


# -- directives


DEFAULTS = {
    "appendonly": "no", "appendfilename": "appendonly.aof", "appenddirname": "appendonlydir",
    "appendfsync": "everysec", "aof-use-rdb-preamble": "yes", "aof-timestamp-enabled": "no",
    "aof-load-truncated": "yes", "auto-aof-rewrite-percentage": "100",
    "auto-aof-rewrite-min-size": "67108864", "no-appendfsync-on-rewrite": "no",
}


def test_directive_defaults(server_factory):
    s = server_factory()
    with s.raw() as c:
        for name, value in DEFAULTS.items():
            assert c.command("CONFIG", "GET", name) == [name.encode(), value.encode()], name


def test_directive_errors(server_factory):
    s = server_factory()
    with s.raw() as c:
        def refused(name, value):
            return c.command("CONFIG", "SET", name, value)
        assert refused("appendfilename", "x") == Error(
            "ERR CONFIG SET failed (possibly related to argument 'appendfilename') - can't set immutable config")
        assert refused("appenddirname", "x") == Error(
            "ERR CONFIG SET failed (possibly related to argument 'appenddirname') - can't set immutable config")
        assert refused("appendfsync", "sometimes") == Error(
            "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the "
            "following: everysec, always, no")
        assert refused("auto-aof-rewrite-percentage", "-1") == Error(
            "ERR CONFIG SET failed (possibly related to argument 'auto-aof-rewrite-percentage') - argument must be "
            "between 0 and 2147483647 inclusive")
        assert refused("auto-aof-rewrite-min-size", "-1") == Error(
            "ERR CONFIG SET failed (possibly related to argument 'auto-aof-rewrite-min-size') - argument must be a "
            "memory value")
        assert refused("aof-load-truncated", "maybe") == Error(
            "ERR CONFIG SET failed (possibly related to argument 'aof-load-truncated') - argument must be 'yes' or 'no'")
        for name, value in [("appendfsync", "ALWAYS"), ("auto-aof-rewrite-min-size", "1mb"),
                            ("aof-timestamp-enabled", "yes"), ("no-appendfsync-on-rewrite", "yes")]:
            assert c.command("CONFIG", "SET", name, value) == "OK"
        assert c.command("CONFIG", "GET", "appendfsync") == [b"appendfsync", b"always"]
        assert c.command("CONFIG", "GET", "auto-aof-rewrite-min-size") == [b"auto-aof-rewrite-min-size", b"1048576"]


def test_filename_must_not_be_a_path(server_kind, _tmp_root):
    p = ServerProcess(server_kind, _tmp_root, ["--appendfilename", "a/b.aof"])
    p.port = free_port()
    assert p.run_to_exit(timeout=60) not in (0, None)
    assert "appendfilename can't be a path, just a filename" in p.log()


# -- layout and durability


def test_layout_and_manifest_at_start(server_factory):
    s = server_factory(*AOF_ARGS)
    assert aof_files(s) == ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"]
    assert manifest(s) == "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    with s.raw() as c:
        c.command("SET", "k", "v")
        assert c.command("CONFIG", "SET", "appendfsync", "always") == "OK"
        c.command("SET", "k2", "v2")
    with open(last_incr_path(s), "rb") as f:
        assert f.read() == (b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n" + encode("SET", "k", "v") + encode("SET", "k2", "v2"))


@pytest.mark.parametrize("policy", ["always", "everysec", "no"])
def test_writes_survive_sigkill(server_factory, restart, policy):
    s = server_factory(*AOF_ARGS, "--appendfsync", policy)
    with s.raw() as c:
        fill(c)
        before = digest(c)
    # A killed process loses nothing the kernel has: every policy writes before replying.
    s2 = restart(s)
    with s2.raw() as c:
        assert digest(c) == before
        assert c.command("GET", "counter") == b"11"
        assert 3500 < c.command("TTL", "ttl") <= 3600
        c.command("SELECT", 3)
        assert c.command("GET", "db3-key") == b"three"


def test_shutdown_flushes_the_aof(server_factory, restart):
    s = server_factory(*AOF_ARGS, "--appendfsync", "everysec")
    with s.raw() as c:
        fill(c)
        before = digest(c)
        c.send(encode("SHUTDOWN"))
        assert c.is_closed(timeout=30)
    assert s.wait_exit() == 0
    assert "Calling fsync() on the AOF file." in s.log()
    s2 = restart(s)
    with s2.raw() as c:
        assert digest(c) == before


def test_debug_loadaof(server_factory):
    s = server_factory(*AOF_ARGS)
    with s.raw() as c:
        fill(c)
        before = digest(c)
        assert c.command("DEBUG", "LOADAOF") == "OK"
        assert digest(c) == before
        # Nothing of the replay went into the AOF a second time.
        assert c.command("DEBUG", "LOADAOF") == "OK"
        assert c.command("LLEN", "list") == 301


def test_timestamps(server_factory):
    s = server_factory(*AOF_ARGS, "--aof-timestamp-enabled", "yes")
    with s.raw() as c:
        c.command("SET", "a", "1")
        assert c.command("DEBUG", "LOADAOF") == "OK"
        assert c.command("GET", "a") == b"1"
    with open(last_incr_path(s), "rb") as f:
        data = f.read()
    assert data.startswith(b"#TS:"), data[:40]
    stamp = int(data[4:data.index(b"\r\n")])
    assert abs(stamp - time.time()) < 60


# -- switching on and off at run time


def test_config_set_appendonly_builds_the_first_base(server_factory, restart):
    s = server_factory("--enable-debug-command", "yes")
    with s.raw() as c:
        fill(c)
        assert c.command("CONFIG", "SET", "appendonly", "yes") == "OK"
        c.command("SET", "during", "1")  # while the first base is written
        fields = wait_for_rewrite(c)
        assert fields["aof_enabled"] == "1"
        assert fields["aof_last_bgrewrite_status"] == "ok"
        c.command("SET", "after", "2")
        before = digest(c)
    assert manifest(s) == "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    assert not [f for f in aof_files(s) if f.startswith("temp-")]
    s2 = restart(s, *AOF_ARGS)
    with s2.raw() as c:
        assert digest(c) == before


def test_config_set_appendonly_during_bgsave_is_scheduled(server_factory):
    s = server_factory("--enable-debug-command", "yes", "--rdb-key-save-delay", 2000)
    with s.raw() as c:
        c.command("DEBUG", "POPULATE", 500)
        assert c.command("BGSAVE") == "Background saving started"
        assert c.command("CONFIG", "SET", "appendonly", "yes") == "OK"
        fields = info(c)
        assert fields["aof_enabled"] == "1"
        assert fields["aof_rewrite_scheduled"] == "1"
        assert c.command("CONFIG", "SET", "rdb-key-save-delay", 0) == "OK"
        fields = wait_for_rewrite(c)
        assert fields["aof_rewrites"] == "1"
        assert fields["aof_last_bgrewrite_status"] == "ok"
    assert "appendonly.aof.1.base.rdb" in aof_files(s)


def test_pipelined_replies_under_always(server_factory, restart):
    s = server_factory(*AOF_ARGS, "--appendfsync", "always")
    with s.raw() as c:
        c.send(b"".join(encode("INCR", "n") for _ in range(2000)))
        assert [c.read_reply() for _ in range(2000)] == list(range(1, 2001))
    s2 = restart(s)
    with s2.raw() as c:
        assert c.command("GET", "n") == b"2000"


def test_config_set_appendonly_that_cannot_start(server_factory):
    s = server_factory()
    with open(aof_dir(s), "w") as f:
        f.write("a file where the AOF directory should be")
    with s.raw() as c:
        assert c.command("CONFIG", "SET", "appendonly", "yes", "appendfsync", "always") == Error(
            "ERR CONFIG SET failed (possibly related to argument 'appendonly') - Unable to turn on AOF. Check server logs.")
        assert c.command("CONFIG", "GET", "appendonly") == [b"appendonly", b"no"]
        assert c.command("CONFIG", "GET", "appendfsync") == [b"appendfsync", b"everysec"]
        assert info(c)["aof_enabled"] == "0"
        assert c.command("SET", "k", "v") == "OK"


def test_config_set_appendonly_no_stops_appending(server_factory):
    s = server_factory(*AOF_ARGS)
    with s.raw() as c:
        c.command("SET", "a", "1")
        assert c.command("CONFIG", "SET", "appendonly", "no") == "OK"
        size = os.path.getsize(last_incr_path(s))
        c.command("SET", "b", "2")
        assert os.path.getsize(last_incr_path(s)) == size
        fields = info(c)
        assert fields["aof_enabled"] == "0"
        assert "aof_current_size" not in fields


# -- BGREWRITEAOF


def test_bgrewriteaof_replaces_base_and_increments(server_factory, restart):
    s = server_factory(*AOF_ARGS)
    with s.raw() as c:
        fill(c)
        assert c.command("BGREWRITEAOF") == "Background append only file rewriting started"
        fields = wait_for_rewrite(c)
        assert fields["aof_last_bgrewrite_status"] == "ok"
        assert fields["aof_rewrites"] == "1"
        c.command("SET", "after", "rewrite")
        before = digest(c)
    assert aof_files(s) == ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"]
    assert manifest(s) == "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    with open(last_incr_path(s), "rb") as f:
        assert f.read() == b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n" + encode("SET", "after", "rewrite")
    s2 = restart(s)
    with s2.raw() as c:
        assert digest(c) == before


def test_bgrewriteaof_without_preamble_writes_commands(server_factory, restart):
    s = server_factory(*AOF_ARGS, "--aof-use-rdb-preamble", "no")
    with s.raw() as c:
        fill(c)
        assert c.command("BGREWRITEAOF") == "Background append only file rewriting started"
        wait_for_rewrite(c)
        before = digest(c)
    assert "appendonly.aof.2.base.aof" in aof_files(s)
    with open(os.path.join(aof_dir(s), "appendonly.aof.2.base.aof"), "rb") as f:
        assert f.read(1) == b"*"
    s2 = restart(s)
    with s2.raw() as c:
        assert digest(c) == before


def test_bgrewriteaof_replies(server_factory):
    s = server_factory(*AOF_ARGS, "--rdb-key-save-delay", 2000)
    with s.raw() as c:
        c.command("DEBUG", "POPULATE", 500)
        assert c.command("BGREWRITEAOF") == "Background append only file rewriting started"
        assert c.command("BGREWRITEAOF") == Error("ERR Background append only file rewriting already in progress")
        assert c.command("BGSAVE") == Error(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to "
            "schedule a BGSAVE whenever possible.")
        assert info(c)["aof_rewrite_in_progress"] == "1"
        assert c.command("CONFIG", "SET", "rdb-key-save-delay", 0) == "OK"
        wait_for_rewrite(c)


def test_bgrewriteaof_during_bgsave_is_scheduled(server_factory):
    s = server_factory(*AOF_ARGS, "--rdb-key-save-delay", 2000)
    with s.raw() as c:
        c.command("DEBUG", "POPULATE", 500)
        assert c.command("BGSAVE") == "Background saving started"
        assert c.command("BGREWRITEAOF") == "Background append only file rewriting scheduled"
        fields = info(c)
        assert fields["aof_rewrite_scheduled"] == "1"
        assert fields["aof_pending_rewrite"] == "1"
        assert c.command("CONFIG", "SET", "rdb-key-save-delay", 0) == "OK"
        fields = wait_for_rewrite(c)
        assert fields["aof_rewrites"] == "1"
        assert fields["aof_last_bgrewrite_status"] == "ok"


def test_bgrewriteaof_in_multi_is_scheduled(server_factory):
    s = server_factory(*AOF_ARGS)
    with s.raw() as c:
        assert c.command("MULTI") == "OK"
        assert c.command("BGREWRITEAOF") == "QUEUED"
        assert c.command("EXEC") == ["Background append only file rewriting scheduled"]
        assert wait_for_rewrite(c)["aof_rewrites"] == "1"


def test_auto_rewrite_on_growth(server_factory):
    s = server_factory(*AOF_ARGS, "--auto-aof-rewrite-min-size", "64kb", "--auto-aof-rewrite-percentage", 100)
    with s.raw() as c:
        for i in range(100):
            c.command("SET", f"k{i % 10}", "x" * 1000)
        wait_until(lambda: info(c)["aof_rewrites"] != "0", "an automatic rewrite")
        fields = wait_for_rewrite(c)
        assert fields["aof_last_bgrewrite_status"] == "ok"
        assert int(fields["aof_current_size"]) < 64 * 1024
    assert "Starting automatic rewriting of AOF on" in s.log()


# -- INFO


def test_info_fields(server_factory, restart):
    s = server_factory(*AOF_ARGS)
    with s.raw() as c:
        c.command("SET", "k", "v")
    # After a restart the sizes are those of the files (Redis leaves them 0 for a first base).
    s = restart(s)
    with s.raw() as c:
        c.command("SET", "k2", "v2")
        fields = info(c)
        for name in ["aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled", "aof_last_rewrite_time_sec",
                     "aof_current_rewrite_time_sec", "aof_last_bgrewrite_status", "aof_rewrites",
                     "aof_rewrites_consecutive_failures", "aof_last_write_status", "aof_last_cow_size",
                     "module_fork_in_progress", "module_fork_last_cow_size", "aof_current_size", "aof_base_size",
                     "aof_pending_rewrite", "aof_buffer_length", "aof_pending_bio_fsync", "aof_delayed_fsync"]:
            assert name in fields, name
        assert fields["aof_enabled"] == "1"
        assert fields["aof_last_write_status"] == "ok"
        assert fields["aof_last_rewrite_time_sec"] == "-1"
        assert fields["aof_buffer_length"] == "0"
        base = os.path.getsize(os.path.join(aof_dir(s), "appendonly.aof.1.base.rdb"))
        assert int(fields["aof_base_size"]) == base
        assert int(fields["aof_current_size"]) == base + os.path.getsize(last_incr_path(s))


# -- loading


def test_corrupt_increment_refuses_to_start(server_factory, server_kind, _tmp_root):
    s = server_factory(*AOF_ARGS)
    with s.raw() as c:
        for i in range(20):
            c.command("SET", f"key:{i}", "value")
    s.stop()
    path = last_incr_path(s)
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        # Damage in the middle (not a torn tail): a command that does not start with '*'.
        at = data.index(b"*3\r\n", len(data) // 2)
        data[at] = ord("!")
        f.seek(0)
        f.write(data)
    p = ServerProcess(server_kind, _tmp_root, list(AOF_ARGS))
    os.rmdir(p.dir)
    p.dir, p.log_path = s.dir, os.path.join(s.dir, "second.log")
    p.port = free_port()
    assert p.run_to_exit(timeout=60) not in (0, None)
    log = p.log()
    assert "appendonly.aof.1.incr.aof" in log, log
    if not server_kind.is_redis:
        assert "offset" in log, log


def test_existing_dump_becomes_the_first_base(server_factory, server_kind, restart):
    if server_kind.is_redis:
        pytest.skip("Redis 7.0 starts empty when appendonly is switched on over a dump.rdb (Cairn loads it)")
    s = server_factory("--enable-debug-command", "yes")
    with s.raw() as c:
        fill(c)
        before = digest(c)
        assert c.command("SAVE") == "OK"
    s2 = restart(s, *AOF_ARGS)
    with s2.raw() as c:
        assert digest(c) == before
    assert "appendonly.aof.1.base.rdb" in aof_files(s2)
    os.unlink(os.path.join(s2.dir, "dump.rdb"))
    s3 = restart(s2, *AOF_ARGS)
    with s3.raw() as c:
        assert digest(c) == before


def test_a_pre_7_single_file_aof_is_upgraded(server_kind, _tmp_root, restart):
    """A Redis 6 `appendonly.aof` without a manifest becomes the base of a multi-part AOF (Redis
    7.0's aofUpgradePrepare): its data loads, the file moves into the AOF directory, and later
    writes go to a new increment."""
    p = ServerProcess(server_kind, _tmp_root, list(AOF_ARGS))
    with open(os.path.join(p.dir, "appendonly.aof"), "wb") as f:
        f.write(encode("SET", "k", "v") + encode("RPUSH", "l", "a", "b"))
    p.start()
    try:
        with p.raw() as c:
            assert c.command("GET", "k") == b"v"
            assert c.command("LRANGE", "l", 0, -1) == [b"a", b"b"]
            assert c.command("SET", "after", "1") == "OK"
    finally:
        p.stop()
    assert not os.path.exists(os.path.join(p.dir, "appendonly.aof"))
    files = os.listdir(os.path.join(p.dir, "appendonlydir"))
    assert "appendonly.aof" in files, files
    with open(os.path.join(p.dir, "appendonlydir", "appendonly.aof.manifest")) as f:
        assert "file appendonly.aof seq 1 type b" in f.read()
    p2 = restart(p, *AOF_ARGS)
    with p2.raw() as c:
        assert c.command("GET", "k") == b"v"
        assert c.command("GET", "after") == b"1"


def test_an_interrupted_upgrade_is_finished(server_kind, _tmp_root):
    """A crash between persisting the upgrade's manifest and moving the old file: the next start
    moves it and loads it."""
    p = ServerProcess(server_kind, _tmp_root, list(AOF_ARGS))
    with open(os.path.join(p.dir, "appendonly.aof"), "wb") as f:
        f.write(encode("SET", "k", "v"))
    os.mkdir(os.path.join(p.dir, "appendonlydir"))
    with open(os.path.join(p.dir, "appendonlydir", "appendonly.aof.manifest"), "w") as f:
        f.write("file appendonly.aof seq 1 type b\n")
    p.start()
    try:
        with p.raw() as c:
            assert c.command("GET", "k") == b"v"
    finally:
        p.stop()
    assert os.path.exists(os.path.join(p.dir, "appendonlydir", "appendonly.aof"))
