"""RDB persistence: SAVE, BGSAVE, LASTSAVE, data surviving a restart, SHUTDOWN SAVE/NOSAVE,
SIGTERM, save points, MISCONF after a failed background save, the BGSAVE watchdog, a corrupt
dump at start-up, INFO persistence, DEBUG RELOAD.

Tests that describe Redis behaviour run against redis-server too (--against-redis / --both). A
failed save is provoked with a non-empty directory where dump.rdb should go: rename(2) refuses
that even for root, for whom directory permissions change nothing."""

import os
import shutil
import signal
import time

import pytest

import rdbdump
from resp import Error, encode
from serverproc import ServerProcess, free_port

WAIT_SECONDS = 60.0

MISCONF = Error(
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
    "Commands that may modify the data set are disabled, because this instance is configured to report "
    "errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the "
    "Redis logs for details about the RDB error.")


def info(conn, section="persistence"):
    text = conn.command("INFO", section)
    fields = {}
    for line in text.decode().split("\r\n"):
        if line and not line.startswith("#"):
            k, _, v = line.partition(":")
            fields[k] = v
    return fields


def wait_for_bgsave(conn):
    """Waits until no background save runs; returns INFO persistence."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        fields = info(conn)
        if fields["rdb_bgsave_in_progress"] == "0":
            return fields
        time.sleep(0.05)
    raise AssertionError("background save still running after %ss" % WAIT_SECONDS)


def dump_path(s):
    return os.path.join(s.dir, "dump.rdb")


def block_dump(s):
    os.makedirs(os.path.join(dump_path(s), "x"))


def unblock_dump(s):
    shutil.rmtree(dump_path(s))


def shutdown(s, *args):
    """SHUTDOWN with `args`; a successful one closes the connection without a reply."""
    with s.raw() as c:
        c.send(encode("SHUTDOWN", *args))
        assert c.is_closed(timeout=30)
    assert s.wait_exit() == 0


def temp_files(s):
    return sorted(f for f in os.listdir(s.dir) if f.startswith("temp-"))


@pytest.fixture
def restart(server_kind, _tmp_root):
    """Stops a server by PID (SIGKILL unless it already exited) and starts a new one of the same
    kind on the same directory: only what was saved survives."""
    started = []

    def again(old, *extra_args):
        if old.alive():
            os.kill(old.pid, signal.SIGKILL)
            old.proc.wait()
        s = ServerProcess(server_kind, _tmp_root, list(extra_args) if extra_args else old.extra_args)
        os.rmdir(s.dir)
        s.dir = old.dir
        s.log_path = old.log_path
        started.append(s)
        s.start()
        return s

    yield again
    for s in started:
        s.stop()


def fill(r):
    """Every type, several databases, expiries, binary data, compact and large encodings."""
    r.set("string", "hello")
    r.set("int", 12345)
    r.set("big-int", 1 << 62)
    r.set(b"bin\x00\xff\r\nkey", b"\x00\x01\xfe\xff" * 20)
    r.set("long", "x" * 5000)
    r.set("ttl", "v", px=3_600_000)
    r.rpush("list", *[f"e{i}" for i in range(10)])
    r.rpush("biglist", *[f"element-{i}" * 3 for i in range(3000)])
    r.hset("hash", mapping={"f1": "v1", "f2": "2"})
    r.hset("bighash", mapping={f"field-{i}": f"value-{i}" for i in range(1000)})
    r.sadd("intset", 1, 2, 3, -7)
    r.sadd("set", "a", "b", "c")
    r.sadd("bigset", *[f"m{i}" for i in range(1000)])
    r.zadd("zset", {"a": 1, "b": 2.5, "c": -3})
    r.zadd("bigzset", {f"m{i}": i / 3 for i in range(500)})
    r.pexpire("hash", 7_200_000)
    r.execute_command("SELECT", 1)
    r.set("db1-key", "one")
    r.execute_command("SELECT", 9)
    r.rpush("db9-list", "x")
    r.execute_command("SELECT", 0)


# -- SAVE, BGSAVE, LASTSAVE


def test_save_bgsave_lastsave(server_factory):
    s = server_factory()
    with s.raw() as c:
        before = c.command("LASTSAVE")
        assert isinstance(before, int) and before > 0
        c.command("SET", "k", "v")
        assert info(c)["rdb_changes_since_last_save"] == "1"
        assert c.command("SAVE") == "OK"
        assert os.path.isfile(dump_path(s))
        assert c.command("LASTSAVE") >= before
        assert info(c)["rdb_changes_since_last_save"] == "0"
        c.command("SET", "k2", "v")
        assert c.command("BGSAVE") == "Background saving started"
        fields = wait_for_bgsave(c)
        assert fields["rdb_last_bgsave_status"] == "ok"
        assert fields["rdb_changes_since_last_save"] == "0"
        assert c.command("BGSAVE", "NOW") == Error("ERR syntax error")
        assert c.command("SAVE", "x") == Error("ERR wrong number of arguments for 'save' command")
    assert temp_files(s) == []


def test_bgsave_while_one_runs(server_factory):
    s = server_factory()
    with s.raw() as c:
        c.command("MSET", *[x for i in range(20) for x in (f"k{i}", "v")])
        c.command("CONFIG", "SET", "rdb-key-save-delay", "100000")  # 20 keys: 2 s
        assert c.command("BGSAVE") == "Background saving started"
        assert c.command("BGSAVE") == Error("ERR Background save already in progress")
        assert c.command("BGSAVE", "SCHEDULE") == Error("ERR Background save already in progress")
        assert c.command("SAVE") == Error("ERR Background save already in progress")
        assert info(c)["rdb_bgsave_in_progress"] == "1"
        c.command("CONFIG", "SET", "rdb-key-save-delay", "0")
        assert wait_for_bgsave(c)["rdb_last_bgsave_status"] == "ok"


def test_bgsave_in_multi_is_scheduled(server_factory):
    s = server_factory()
    with s.raw() as c:
        c.command("SET", "k", "v")
        assert c.command("MULTI") == "OK"
        assert c.command("BGSAVE") == "QUEUED"
        assert c.command("EXEC") == ["Background saving scheduled"]
        deadline = time.monotonic() + WAIT_SECONDS
        while not os.path.isfile(dump_path(s)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert wait_for_bgsave(c)["rdb_last_bgsave_status"] == "ok"
        assert os.path.isfile(dump_path(s))


# -- restarts


def test_data_survives_restart(server_factory, restart):
    s = server_factory()
    r = s.client()
    fill(r)
    expected = rdbdump.snapshot(r)
    r.set("short", "gone", px=2000)
    set_at = time.monotonic()
    assert r.save()
    r.close()
    time.sleep(max(0, 2.1 - (time.monotonic() - set_at)))  # "short" expires: the load skips it
    s2 = restart(s)
    r2 = s2.client()
    assert rdbdump.diff(expected, rdbdump.snapshot(r2)) == []
    assert 0 < r2.pttl("ttl") <= 3_600_000
    with s2.raw() as c:
        loaded = info(c)
    assert loaded["loading"] == "0"
    assert int(loaded["rdb_last_load_keys_loaded"]) == sum(len(d) for d in expected["dbs"].values())
    assert loaded["rdb_last_load_keys_expired"] == "1"
    r2.close()
    assert "DB loaded from disk" in s2.log()


def test_bgsave_survives_restart(server_factory, restart):
    s = server_factory()
    r = s.client()
    fill(r)
    expected = rdbdump.snapshot(r)
    assert r.bgsave()
    with s.raw() as c:
        assert wait_for_bgsave(c)["rdb_last_bgsave_status"] == "ok"
    r.close()
    s2 = restart(s)
    with s2.client() as r2:
        assert rdbdump.diff(expected, rdbdump.snapshot(r2)) == []


def test_shutdown_save_and_nosave(server_factory, restart):
    s = server_factory()
    with s.client() as r:
        r.set("saved", "1")
    shutdown(s, "SAVE")
    assert "Saving the final RDB snapshot before exiting." in s.log()
    s2 = restart(s)
    with s2.client() as r:
        assert r.get("saved") == b"1"
        r.set("not-saved", "1")
    shutdown(s2, "NOSAVE")
    s3 = restart(s2)
    with s3.client() as r:
        assert r.get("saved") == b"1"
        assert r.get("not-saved") is None


def test_sigterm_saves_with_save_points(server_factory, restart):
    s = server_factory("--save", "3600 1")
    with s.client() as r:
        r.set("k", "v")
    s.signal(signal.SIGTERM)
    assert s.wait_exit() == 0
    assert os.path.isfile(dump_path(s))
    s2 = restart(s)
    with s2.client() as r:
        assert r.get("k") == b"v"


def test_no_save_points_no_save_at_exit(server_factory):
    s = server_factory()  # save ""
    with s.client() as r:
        r.set("k", "v")
        assert r.config_get("save") == {"save": ""}
    s.signal(signal.SIGTERM)
    assert s.wait_exit() == 0
    assert not os.path.exists(dump_path(s))
    s2 = server_factory("--save", "")
    with s2.client() as r:
        r.set("k", "v")
    shutdown(s2)
    assert not os.path.exists(dump_path(s2))


def test_save_point_triggers_bgsave(server_factory):
    s = server_factory("--save", "1 1")
    with s.raw() as c:
        assert c.command("CONFIG", "GET", "save") == [b"save", b"1 1"]
        c.command("SET", "k", "v")
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            fields = info(c)
            if fields["rdb_changes_since_last_save"] == "0" and fields["rdb_bgsave_in_progress"] == "0":
                break
            time.sleep(0.1)
        assert fields["rdb_changes_since_last_save"] == "0"
        assert fields["rdb_last_bgsave_status"] == "ok"
    assert os.path.isfile(dump_path(s))
    assert "1 changes in 1 seconds. Saving..." in s.log()
    assert "Background saving terminated with success" in s.log()


def test_flushall_with_save_points_saves_the_empty_dataset(server_factory, restart):
    s = server_factory("--save", "3600 1")
    with s.client() as r:
        r.set("k", "v")
        assert r.save()
        assert r.flushall()
    s2 = restart(s)
    with s2.client() as r:
        assert r.dbsize() == 0


# -- failures


def test_misconf_after_failed_bgsave(server_factory):
    s = server_factory()
    block_dump(s)
    with s.raw() as c:
        c.command("SET", "a", "1")
        assert c.command("BGSAVE") == "Background saving started"
        assert wait_for_bgsave(c)["rdb_last_bgsave_status"] == "err"
        assert "Background saving error" in s.log()
        assert c.command("SET", "b", "1") == "OK"  # no save points: writes go on
        assert c.command("CONFIG", "SET", "save", "3600 1") == "OK"
        assert c.command("SET", "c", "1") == MISCONF
        assert c.command("PING") == MISCONF
        assert c.command("GET", "a") == b"1"
        assert c.command("MULTI") == "OK"
        assert c.command("SET", "c", "1") == MISCONF
        assert c.command("EXEC") == Error("EXECABORT Transaction discarded because of previous errors.")
        assert c.command("CONFIG", "SET", "stop-writes-on-bgsave-error", "no") == "OK"
        assert c.command("SET", "d", "1") == "OK"
        assert c.command("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes") == "OK"
        assert c.command("SET", "d", "2") == MISCONF
        unblock_dump(s)
        assert c.command("BGSAVE") == "Background saving started"
        assert wait_for_bgsave(c)["rdb_last_bgsave_status"] == "ok"
        assert c.command("SET", "e", "1") == "OK"
        assert c.command("PING") == "PONG"
    assert temp_files(s) == []


def test_failed_save_replies(server_factory):
    s = server_factory()
    block_dump(s)
    with s.raw() as c:
        assert c.command("SAVE") == Error("ERR")
    assert "Error moving temp DB file" in s.log()
    assert temp_files(s) == []


def test_shutdown_refused_when_the_save_fails(server_factory):
    s = server_factory("--save", "3600 1")
    block_dump(s)
    with s.raw() as c:
        c.command("SET", "k", "v")
        assert c.command("SHUTDOWN") == Error("ERR Errors trying to SHUTDOWN. Check logs.")
        assert c.command("SHUTDOWN", "SAVE") == Error("ERR Errors trying to SHUTDOWN. Check logs.")
        assert c.command("SHUTDOWN", "NOSAVE", "SAVE") == Error("ERR syntax error")
        assert c.command("PING") == "PONG"
    s.signal(signal.SIGTERM)
    deadline = time.monotonic() + WAIT_SECONDS
    while "errors trying to shut down the server" not in s.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert s.alive()
    with s.raw() as c:
        assert c.command("GET", "k") == b"v"
    unblock_dump(s)
    s.signal(signal.SIGTERM)
    assert s.wait_exit() == 0
    assert os.path.isfile(dump_path(s))


def test_watchdog_kills_a_stalled_child(server_factory, server_kind):
    if server_kind.is_redis:
        pytest.skip("rdb-child-watchdog-seconds is Cairn's")
    s = server_factory("--rdb-key-save-delay", "2000000", "--rdb-child-watchdog-seconds", "1")
    with s.raw() as c:
        c.command("MSET", *[x for i in range(10) for x in (f"k{i}", "v")])
        assert c.command("BGSAVE") == "Background saving started"
        fields = wait_for_bgsave(c)
        assert fields["rdb_last_bgsave_status"] == "err"
    assert "made no progress for 1 seconds" in s.log()
    assert "Background saving terminated by signal 9" in s.log()
    assert temp_files(s) == []
    assert not os.path.exists(dump_path(s))


def test_corrupt_dump_refuses_to_start(server_factory, server_kind, _tmp_root):
    s = server_factory("--rdbcompression", "no" if not server_kind.is_redis else "yes")
    with s.client() as r:
        for i in range(100):
            r.set(f"key:{i}", f"value:{i}" * 3)
        assert r.save()
    s.stop()
    path = dump_path(s)
    with open(path, "r+b") as f:
        data = f.read()
        f.seek(0)
        f.truncate()
        f.write(data[: len(data) // 2])  # torn in the middle of an entry
    p = ServerProcess(server_kind, _tmp_root, [])
    os.rmdir(p.dir)
    p.dir, p.log_path = s.dir, os.path.join(s.dir, "second.log")
    p.port = free_port()
    code = p.run_to_exit(timeout=60)
    assert code not in (0, None)
    if not server_kind.is_redis:
        log = p.log()
        assert f"{s.dir}/dump.rdb" in log, log
        assert "offset" in log, log


def test_info_persistence_fields(server_factory):
    s = server_factory()
    with s.raw() as c:
        c.command("SET", "k", "v")
        assert c.command("BGSAVE") == "Background saving started"
        fields = wait_for_bgsave(c)
        for name in ["loading", "async_loading", "current_cow_peak", "current_cow_size", "current_cow_size_age",
                     "current_fork_perc", "current_save_keys_processed", "current_save_keys_total",
                     "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time",
                     "rdb_last_bgsave_status", "rdb_last_bgsave_time_sec", "rdb_current_bgsave_time_sec",
                     "rdb_saves", "rdb_last_cow_size", "rdb_last_load_keys_expired", "rdb_last_load_keys_loaded",
                     "aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled"]:
            assert name in fields, name
        assert fields["loading"] == "0"
        assert fields["rdb_last_bgsave_status"] == "ok"
        assert int(fields["rdb_last_bgsave_time_sec"]) >= 0
        assert fields["rdb_current_bgsave_time_sec"] == "-1"
        assert int(fields["rdb_saves"]) >= 1
        assert int(fields["rdb_last_cow_size"]) >= 0
        assert abs(int(fields["rdb_last_save_time"]) - c.command("LASTSAVE")) == 0
        assert fields["aof_enabled"] == "0"
        stats = info(c, "stats")
        assert int(stats["total_forks"]) == 1
        assert int(stats["latest_fork_usec"]) > 0


def test_debug_reload_keeps_the_data(server_factory):
    s = server_factory("--enable-debug-command", "yes")
    r = s.client()
    fill(r)
    expected = rdbdump.snapshot(r)
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    assert rdbdump.diff(expected, rdbdump.snapshot(r)) == []
    r.set("string", "changed")
    assert r.execute_command("DEBUG", "RELOAD", "NOSAVE") == b"OK"
    assert r.get("string") == b"hello"
    with s.raw() as c:
        assert c.command("DEBUG", "RELOAD", "FAST") == \
            Error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
        os.unlink(dump_path(s))
        assert c.command("DEBUG", "RELOAD", "NOSAVE") == Error("ERR Error trying to load the RDB dump")
    r.close()


def test_persistence_config(server_factory, server_kind):
    if server_kind.is_redis:
        pytest.skip("rdbcompression lz4/zlib and the watchdog are Cairn's")
    s = server_factory()
    with s.raw() as c:
        assert c.command("CONFIG", "GET", "rdbcompression") == [b"rdbcompression", b"lz4"]
        assert c.command("CONFIG", "SET", "rdbcompression", "yes") == "OK"
        assert c.command("CONFIG", "GET", "rdbcompression") == [b"rdbcompression", b"lzf"]
        assert c.command("CONFIG", "GET", "rdb-child-watchdog-seconds") == [b"rdb-child-watchdog-seconds", b"60"]
        assert c.command("CONFIG", "SET", "save", "1 a") == \
            Error("ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters")
        assert c.command("CONFIG", "SET", "rdbchecksum", "no") == \
            Error("ERR CONFIG SET failed (possibly related to argument 'rdbchecksum') - can't set immutable config")
        for mode in ["zlib", "no", "lzf", "lz4"]:
            assert c.command("CONFIG", "SET", "rdbcompression", mode) == "OK"
            c.command("SET", "k", "v" * 100)
            assert c.command("SAVE") == "OK"
