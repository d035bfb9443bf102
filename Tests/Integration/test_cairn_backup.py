"""cairn-backup against running servers (docs/tools-cairn-backup.md).

A node is filled, backed up (`create --node` through BGSAVE, `create --data-dir` on its live
directory), the archive verified and restored into a new directory, a cairn-server started on
that directory, and every key compared with the original through rdbdump.snapshot — key by key.
Also: GNU tar reads the archives once decompressed; damaged, truncated and wrongly-keyed archives
fail with their documented exit statuses and leave the target alone; a full disk (a 1 MiB tmpfs,
when running as root) leaves no partial archive; point-in-time restore on an AOF written by real
Redis 7.0 with aof-timestamp-enabled.

The binary under test is $CAIRN_BACKUP, else `cairn-backup` next to the cairn-server binary
($CAIRN_SERVER or .build/debug/cairn-server). Servers are always cairn-server and redis-server as
named, whatever --against-redis says: the tool is what is under test.
"""

import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import tarfile
import time

import pytest

import rdbdump
from resp import RawConnection
from serverproc import ServerKind, ServerProcess

RUN_TIMEOUT_SECONDS = 300
EXPIRY_AHEAD_MS = 3_600_000

# Exit statuses (docs/tools-cairn-backup.md).
DAMAGED, USAGE, IO, KEY, NODE, NOT_EMPTY = 1, 2, 4, 5, 6, 7


@pytest.fixture(scope="module")
def backup_bin():
    path = os.environ.get("CAIRN_BACKUP")
    if not path:
        path = os.path.join(os.path.dirname(ServerKind.named("cairn").binary), "cairn-backup")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"cairn-backup binary not found: {path} (build it with `swift build --product cairn-backup`, "
                    f"or set CAIRN_BACKUP)", pytrace=False)
    return path


@pytest.fixture(scope="module")
def cairn_kind():
    kind = ServerKind.named("cairn")
    if not kind.available():
        pytest.fail(f"cairn-server not found: {kind.binary}", pytrace=False)
    return kind


@pytest.fixture(scope="module")
def redis_kind():
    kind = ServerKind.named("redis")
    if not kind.available():
        pytest.fail(f"redis-server not found: {kind.binary}", pytrace=False)
    return kind


@pytest.fixture
def nodes(tmp_path):
    """Starts servers (cairn or redis kind) in tmp_path; stops them after the test."""
    started = []

    def start(kind, *args, **kw):
        s = ServerProcess(kind, str(tmp_path), [str(a) for a in args], **kw)
        started.append(s)
        s.start()
        return s

    yield start
    for s in started:
        s.stop()


def run(binary, *args):
    return subprocess.run([binary, *map(str, args)], capture_output=True, timeout=RUN_TIMEOUT_SECONDS)


def ok(binary, *args):
    p = run(binary, *args)
    assert p.returncode == 0, f"{args} exited {p.returncode}: {p.stderr.decode()}"
    assert p.stderr == b"", p.stderr  # no progress bar or noise outside a terminal
    return p


def fill(port, keys=300):
    """Every type, binary keys and values, expiry times, three databases."""
    rnd = random.Random(11)
    now_ms = int(time.time() * 1000)
    with RawConnection(port, timeout=30.0) as conn:
        c = conn.command
        for db in (0, 2, 9):
            assert c("SELECT", db) == "OK"
            for i in range(keys):
                c("SET", f"s:{db}:{i}", f"value-{i}-" + "x" * (i % 50))
            c("SET", b"bin\x00\xff\r\n", b"\x00\x01\xff\n")
            c("PEXPIREAT", b"bin\x00\xff\r\n", now_ms + EXPIRY_AHEAD_MS)
            c("SET", "big", rnd.randbytes(300_000))
            c("RPUSH", "list", *[f"e{i}" for i in range(2000)])
            c("SADD", "ints", 1, 2, 3, -7)
            c("SADD", "set", *[f"m{i}" for i in range(500)])
            c("HSET", "hash", *[x for i in range(300) for x in (f"f{i}", f"v{i}")])
            c("HSET", "small", "a", "1")
            c("ZADD", "zset", *[x for i in range(200) for x in (str(i * 0.5), f"z{i}")])
            c("ZADD", "zs", "1.5", "a", "-inf", "b", "inf", "c")
            c("PEXPIREAT", "zs", now_ms + EXPIRY_AHEAD_MS + db)
        assert c("SELECT", 0) == "OK"


def snapshot(server):
    c = server.client()
    try:
        return rdbdump.snapshot(c)
    finally:
        c.close()


def only_archive(out_dir):
    names = [n for n in os.listdir(out_dir)]
    assert len(names) == 1, names  # no temporary file left behind
    return os.path.join(out_dir, names[0])


def restore_and_compare(backup_bin, nodes, cairn_kind, archive, expected, tmp_path, *extra):
    target = tmp_path / "restored"
    ok(backup_bin, "restore", archive, "--to", target, *extra)
    restored = nodes(cairn_kind, "--dir", target)
    actual = snapshot(restored)
    assert rdbdump.diff(expected, actual) == []
    assert actual == expected
    return target


# -- create, verify, restore, compare key by key


@pytest.mark.parametrize("compression,encrypted", [("lz4", False), ("gzip", True)])
def test_node_backup_restores_every_key(backup_bin, nodes, cairn_kind, tmp_path, compression, encrypted):
    node = nodes(cairn_kind)
    fill(node.port)
    expected = snapshot(node)
    out = tmp_path / "out"
    args = ["--out", out, "--compression", compression, "--json"]
    if encrypted:
        ok(backup_bin, "keygen", tmp_path / "key")
        args += ["--encrypt", "--key-file", tmp_path / "key"]
    created = json.loads(ok(backup_bin, "create", "--node", f"127.0.0.1:{node.port}", *args).stdout)
    archive = only_archive(out)
    assert created["archive"] == archive and created["encrypted"] == encrypted
    assert created["keys"] == sum(len(v) for v in expected["dbs"].values())
    assert os.path.basename(archive).endswith(f".tar.{'gz' if compression == 'gzip' else 'lz4'}{'.enc' if encrypted else ''}")
    assert os.stat(archive).st_mode & 0o777 == 0o600

    key_args = ["--key-file", tmp_path / "key"] if encrypted else []
    verified = json.loads(ok(backup_bin, "verify", archive, "--json", *key_args).stdout)
    assert verified["ok"] and verified["keys"] == created["keys"]
    assert verified["keys_per_db"] == {db: len(keys) for db, keys in expected["dbs"].items()}
    listed = [json.loads(line) for line in ok(backup_bin, "list", out, "--json", *key_args).stdout.splitlines()]
    assert [(e["name"], e["keys"], e["encrypted"], e["status"]) for e in listed] == \
        [(os.path.basename(archive), created["keys"], encrypted, "ok")]

    restore_and_compare(backup_bin, nodes, cairn_kind, archive, expected, tmp_path, *key_args)


def test_data_dir_backup_of_a_running_node(backup_bin, nodes, cairn_kind, tmp_path):
    node = nodes(cairn_kind)
    fill(node.port, keys=100)
    with node.raw() as c:
        assert c.command("SAVE") == "OK"
    expected = snapshot(node)
    # Writes after the save are not in the RDB: the archive holds the file as it is on disk.
    with node.raw() as c:
        c.command("SET", "after-save", "x")
    out = tmp_path / "out"
    created = ok(backup_bin, "create", "--data-dir", node.dir, "--out", out).stdout.decode()
    assert created.startswith("created ") and "dump.rdb" in created
    ok(backup_bin, "verify", only_archive(out))
    restore_and_compare(backup_bin, nodes, cairn_kind, only_archive(out), expected, tmp_path)


def test_redis_node_backup_restores_into_cairn(backup_bin, nodes, cairn_kind, redis_kind, tmp_path):
    """create --node speaks to Redis 7.0 as to Cairn; Cairn loads what Redis saved."""
    node = nodes(redis_kind)
    fill(node.port, keys=50)
    expected = snapshot(node)
    out = tmp_path / "out"
    ok(backup_bin, "create", "--node", f"127.0.0.1:{node.port}", "--out", out)
    restore_and_compare(backup_bin, nodes, cairn_kind, only_archive(out), expected, tmp_path)


def test_password_file(backup_bin, nodes, cairn_kind, tmp_path):
    node = nodes(cairn_kind, "--requirepass", "s3cret")
    (tmp_path / "pw").write_text("s3cret\n")
    (tmp_path / "bad").write_text("nope\n")
    out = tmp_path / "out"
    p = run(backup_bin, "create", "--node", f"127.0.0.1:{node.port}", "--out", out)
    assert p.returncode == NODE and b"NOAUTH" in p.stderr
    p = run(backup_bin, "create", "--node", f"127.0.0.1:{node.port}", "--password-file", tmp_path / "bad", "--out", out)
    assert p.returncode == NODE and b"AUTH refused" in p.stderr and b"nope" not in p.stderr
    ok(backup_bin, "create", "--node", f"127.0.0.1:{node.port}", "--password-file", tmp_path / "pw", "--out", out)
    ok(backup_bin, "verify", only_archive(out))


def test_unreachable_node(backup_bin, tmp_path):
    from serverproc import free_port
    p = run(backup_bin, "create", "--node", f"127.0.0.1:{free_port()}", "--out", tmp_path / "out")
    assert p.returncode == NODE and b"cannot connect" in p.stderr


# -- standard tools read the archives


def test_gnu_tar_lists_and_extracts(backup_bin, nodes, cairn_kind, tmp_path):
    node = nodes(cairn_kind)
    fill(node.port, keys=20)
    for compression, tool in (("gzip", "gzip"), ("lz4", "lz4")):
        out = tmp_path / f"out-{compression}"
        ok(backup_bin, "create", "--node", f"127.0.0.1:{node.port}", "--out", out, "--compression", compression)
        archive = only_archive(out)
        plain = subprocess.run([tool, "-dc", archive], capture_output=True, check=True).stdout
        listing = subprocess.run(["tar", "-tf", "-"], input=plain, capture_output=True, check=True).stdout.decode()
        assert listing.splitlines() == ["MANIFEST.json", "dump.rdb"]
        extracted = tmp_path / f"x-{compression}"
        extracted.mkdir()
        subprocess.run(["tar", "-xf", "-", "-C", extracted], input=plain, check=True)
        manifest = json.loads((extracted / "MANIFEST.json").read_text())
        dump = (extracted / "dump.rdb").read_bytes()
        entry = manifest["files"][0]
        assert entry["path"] == "dump.rdb" and entry["size"] == len(dump)
        assert entry["sha256"] == hashlib.sha256(dump).hexdigest()
        assert manifest["format"] == "cairn-backup" and manifest["format_version"] == 1
        # Python's tarfile agrees too.
        with tarfile.open(fileobj=io.BytesIO(plain)) as t:
            assert t.getnames() == ["MANIFEST.json", "dump.rdb"]


# -- bad input


@pytest.fixture
def small_archive(backup_bin, nodes, cairn_kind, tmp_path):
    node = nodes(cairn_kind)
    fill(node.port, keys=30)
    ok(backup_bin, "keygen", tmp_path / "key")
    out = tmp_path / "out"
    ok(backup_bin, "create", "--node", f"127.0.0.1:{node.port}", "--out", out, "--encrypt", "--key-file", tmp_path / "key")
    return only_archive(out)


def test_wrong_or_missing_key(backup_bin, small_archive, tmp_path):
    ok(backup_bin, "keygen", tmp_path / "other")
    p = run(backup_bin, "verify", small_archive, "--key-file", tmp_path / "other")
    assert p.returncode == KEY and b"wrong key" in p.stderr
    p = run(backup_bin, "verify", small_archive)
    assert p.returncode == KEY and b"--key-file" in p.stderr
    target = tmp_path / "target"
    p = run(backup_bin, "restore", small_archive, "--to", target, "--key-file", tmp_path / "other")
    assert p.returncode == KEY and not target.exists()
    key_text = (tmp_path / "other").read_bytes().strip()
    assert key_text not in p.stderr and key_text not in p.stdout


def test_flipped_bytes_and_truncation(backup_bin, small_archive, tmp_path):
    good = open(small_archive, "rb").read()
    target = tmp_path / "target"
    target.mkdir()
    (target / "mine").write_text("keep")
    rnd = random.Random(5)
    positions = sorted({0, 8, 39, 40, 44, len(good) // 2, len(good) - 17, len(good) - 1}
                       | {rnd.randrange(len(good)) for _ in range(12)})
    for i in positions:
        bad = bytearray(good)
        bad[i] ^= 1 << rnd.randrange(8)
        path = tmp_path / "bad.tar.lz4.enc"
        path.write_bytes(bad)
        p = run(backup_bin, "verify", path, "--key-file", tmp_path / "key")
        assert p.returncode in (DAMAGED, KEY, 3), (i, p.returncode, p.stderr)
        p = run(backup_bin, "restore", path, "--to", target, "--force", "--key-file", tmp_path / "key")
        assert p.returncode != 0
        assert sorted(os.listdir(target)) == ["mine"] and (target / "mine").read_text() == "keep"
    for cut in (0, 40, len(good) // 3, len(good) - 16, len(good) - 1):
        path = tmp_path / "cut.tar.lz4.enc"
        path.write_bytes(good[:cut])
        p = run(backup_bin, "verify", path, "--key-file", tmp_path / "key")
        assert p.returncode == DAMAGED, (cut, p.stderr)
        assert b"damaged archive" in p.stderr
    # No staging directory left behind (cairn-* is the node's own directory).
    left = sorted(n for n in os.listdir(tmp_path) if not n.startswith("cairn-"))
    assert left == sorted(["key", "out", "target", "bad.tar.lz4.enc", "cut.tar.lz4.enc"])


def test_restore_refuses_non_empty_target(backup_bin, small_archive, tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "old").write_text("old")
    p = run(backup_bin, "restore", small_archive, "--to", target, "--key-file", tmp_path / "key")
    assert p.returncode == NOT_EMPTY and (target / "old").read_text() == "old"
    ok(backup_bin, "restore", small_archive, "--to", target, "--key-file", tmp_path / "key", "--force")
    assert sorted(os.listdir(target)) == ["dump.rdb"]


def test_usage_errors(backup_bin, tmp_path):
    for args in (["create", "--out", tmp_path],
                 ["create", "--node", "h:1", "--data-dir", tmp_path, "--out", tmp_path],
                 ["create", "--data-dir", tmp_path, "--out", tmp_path, "--encrypt"],
                 ["create", "--data-dir", tmp_path, "--out", tmp_path, "--compression", "zip"],
                 ["restore", "x", "--to", tmp_path, "--to-time", "soon"],
                 ["prune", tmp_path, "--keep-daily", "-1"],
                 ["bogus"], []):
        p = run(backup_bin, *args)
        assert p.returncode == USAGE, (args, p.returncode, p.stderr)


def test_help_has_examples(backup_bin):
    for sub in ([], ["create"], ["restore"], ["prune"], ["verify"], ["list"]):
        p = run(backup_bin, *sub, "--help")
        assert p.returncode == 0 and b"Example" in p.stdout, sub


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None, reason="mounting a tmpfs needs root")
def test_full_disk_leaves_nothing_behind(backup_bin, nodes, cairn_kind, tmp_path):
    node = nodes(cairn_kind)
    with node.raw() as c:
        for i in range(8):  # 8 MiB of random bytes: more than the 1 MiB file system holds
            c.command("SET", f"big{i}", random.Random(i).randbytes(1 << 20))
    out_ok = tmp_path / "ok"
    ok(backup_bin, "create", "--node", f"127.0.0.1:{node.port}", "--out", out_ok)
    archive = only_archive(out_ok)
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        p = run(backup_bin, "create", "--node", f"127.0.0.1:{node.port}", "--out", small)
        assert p.returncode == IO and b"No space left" in p.stderr, p.stderr
        assert os.listdir(small) == []
        target = small / "target"
        target.mkdir()
        (target / "old").write_text("old")
        p = run(backup_bin, "restore", archive, "--to", target, "--force")
        assert p.returncode == IO and b"No space left" in p.stderr, p.stderr
        assert os.listdir(small) == ["target"] and os.listdir(target) == ["old"]
    finally:
        subprocess.run(["umount", small], check=True)


# -- prune


def test_prune(backup_bin, tmp_path):
    names = [f"cairn-backup-202603{d:02d}T{h:02d}0000Z.tar.lz4" for d in range(1, 11) for h in (6, 18)]
    for n in names + ["notes.txt"]:
        (tmp_path / n).write_bytes(b"x")
    p = ok(backup_bin, "prune", tmp_path, "--keep-hourly", "3", "--keep-daily", "4", "--dry-run")
    lines = p.stdout.decode().splitlines()
    assert lines[-1] == "dry run: kept 5, would remove 15"
    assert len(os.listdir(tmp_path)) == 21
    decisions = [json.loads(x) for x in ok(backup_bin, "prune", tmp_path, "--keep-hourly", "3", "--keep-daily", "4",
                                           "--json").stdout.splitlines()]
    kept = sorted(d["name"] for d in decisions if d["keep"])
    assert kept == sorted(["cairn-backup-20260310T180000Z.tar.lz4", "cairn-backup-20260310T060000Z.tar.lz4",
                           "cairn-backup-20260309T180000Z.tar.lz4", "cairn-backup-20260308T180000Z.tar.lz4",
                           "cairn-backup-20260307T180000Z.tar.lz4"])
    assert sorted(os.listdir(tmp_path)) == sorted(kept + ["notes.txt"])
    assert decisions[0]["reasons"] == ["newest", "hourly", "daily"]


# -- point in time


def test_point_in_time_restore_from_a_redis_aof(backup_bin, nodes, redis_kind, cairn_kind, tmp_path):
    # appendfsync always: each write is in the file before its reply (with everysec Redis may
    # postpone the write while an fsync runs, and the archive could miss the last command).
    node = nodes(redis_kind, "--appendonly", "yes", "--aof-timestamp-enabled", "yes", "--appendfsync", "always")
    with node.raw() as c:
        for i in range(50):
            c.command("SET", f"early:{i}", i)
        c.command("RPUSH", "log", "early")
    # The annotations have second resolution: let the second change around TS.
    ts = int(time.time()) + 1
    while time.time() < ts + 1.05:
        time.sleep(0.05)
    with node.raw() as c:
        for i in range(50):
            c.command("SET", f"late:{i}", i)
        c.command("RPUSH", "log", "late")
        c.command("DEL", "early:0")
    out = tmp_path / "out"
    created = json.loads(ok(backup_bin, "create", "--data-dir", node.dir, "--out", out, "--json").stdout)
    assert any(f.startswith("appendonlydir/") and f.endswith(".incr.aof") for f in created["files"])
    archive = only_archive(out)

    # Whole: the AOF as it was.
    whole = tmp_path / "whole"
    ok(backup_bin, "restore", archive, "--to", whole)
    # To TS: nothing written after TS.
    pit = tmp_path / "pit"
    result = json.loads(ok(backup_bin, "restore", archive, "--to", pit, "--to-time", ts, "--json").stdout)
    assert result["point_in_time"]["cut_timestamp"] > ts
    assert "dump.rdb" not in os.listdir(pit)

    for directory, expect_late in ((whole, True), (pit, False)):
        s = nodes(redis_kind, "--dir", directory, "--appendonly", "yes")
        with s.raw() as c:
            assert c.command("EXISTS", "early:1") == 1
            assert (c.command("EXISTS", "early:0") == 0) == expect_late
            assert c.command("EXISTS", "late:1") == (1 if expect_late else 0)
            assert c.command("LRANGE", "log", 0, -1) == ([b"early", b"late"] if expect_late else [b"early"])
            assert c.command("DBSIZE") == (100 if expect_late else 51)
    # Before the AOF's base: refused, nothing created.
    p = run(backup_bin, "restore", archive, "--to", tmp_path / "never", "--to-time", "2000-01-01T00:00:00Z")
    assert p.returncode == USAGE and not (tmp_path / "never").exists()
