"""cairn-aof on appendonlydirs written by real Redis 7.0 (docs/tools-cairn-aof.md).

The fixtures are Fixtures/aof/<name>/ (tools/make-aof-fixtures); damaged copies are made here at
run time. `check` must give the same verdict (exit status 0 or not) as Debian's redis-check-aof on
the same files, and `fix` / `truncate-to-timestamp` must leave the same bytes as redis-check-aof
--fix / --truncate-to-timestamp. The binary under test is $CAIRN_AOF, else `cairn-aof` next to
the cairn-server binary ($CAIRN_SERVER or .build/debug/cairn-server).
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import rdbdump
from serverproc import ServerKind, ServerProcess, repo_root

RUN_TIMEOUT_SECONDS = 120
FIXTURES = repo_root() / "Fixtures" / "aof"
NAMES = ["rdb-base", "aof-base", "multi-incr"]
MANIFEST = "appendonly.aof.manifest"


@pytest.fixture(scope="module")
def cairn_aof():
    path = os.environ.get("CAIRN_AOF")
    if not path:
        path = os.path.join(os.path.dirname(ServerKind.named("cairn").binary), "cairn-aof")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"cairn-aof binary not found: {path} (build it with `swift build`, or set CAIRN_AOF)", pytrace=False)
    return path


@pytest.fixture(scope="module")
def redis_check_aof():
    path = os.environ.get("REDIS_CHECK_AOF") or shutil.which("redis-check-aof")
    if not path:
        pytest.fail("redis-check-aof not found (apt-get install redis-tools)", pytrace=False)
    return path


def run(binary, *args, stdin=None):
    return subprocess.run([binary, *map(str, args)], input=stdin, capture_output=True, timeout=RUN_TIMEOUT_SECONDS)


def copy_fixture(name, tmp_path):
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("expected.json"))
    return target


def files_in_order(d):
    """Base then increments, as the manifest lists them."""
    names = []
    for line in (d / MANIFEST).read_text().splitlines():
        words = line.split()
        if "type" in words and words[words.index("type") + 1] in ("b", "i"):
            names.append(words[words.index("file") + 1])
    return names


def last_command_start(data):
    """Offset of the last RESP array in a command file."""
    i = data.rfind(b"\r\n*")
    assert i > 0
    return i + 2


def verdicts(cairn_aof, redis_check_aof, d):
    ours = run(cairn_aof, "check", d)
    theirs = run(redis_check_aof, d / MANIFEST)
    return ours, theirs


def assert_same_verdict(cairn_aof, redis_check_aof, d, valid):
    ours, theirs = verdicts(cairn_aof, redis_check_aof, d)
    detail = f"\ncairn-aof ({ours.returncode}):\n{ours.stdout.decode()}{ours.stderr.decode()}" \
             f"\nredis-check-aof ({theirs.returncode}):\n{theirs.stdout.decode()}"
    assert (theirs.returncode == 0) == valid, "redis-check-aof disagrees with the test's premise" + detail
    assert (ours.returncode == 0) == valid, detail
    if not valid:
        assert ours.returncode == 1, detail


# -- damage made at run time

def torn_last(d, cut):
    last = d / files_in_order(d)[-1]
    data = last.read_bytes()
    start = last_command_start(data)
    last.write_bytes(data[:start + cut])


def torn_first_incr(d):
    name = [n for n in files_in_order(d) if ".incr." in n][0]
    p = d / name
    data = p.read_bytes()
    p.write_bytes(data[:last_command_start(data) + 5])


def damage_middle(d, which):
    name = [n for n in files_in_order(d) if ".incr." in n][which]
    p = d / name
    data = bytearray(p.read_bytes())
    i = data.find(b"\r\n*", len(data) // 3) + 2
    data[i] = ord("!")
    p.write_bytes(bytes(data))


def unfinished_multi(d):
    last = d / files_in_order(d)[-1]
    with open(last, "ab") as f:
        f.write(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")


def bad_manifest_line(d):
    with open(d / MANIFEST, "a") as f:
        f.write("file \"unbalanced seq 9 type i\n")


def missing_file(d):
    os.unlink(d / files_in_order(d)[-1])


def torn_rdb_base(d):
    base = d / files_in_order(d)[0]
    data = base.read_bytes()
    base.write_bytes(data[:len(data) - 20])


@pytest.mark.parametrize("name", NAMES)
def test_valid_fixture_same_verdict(cairn_aof, redis_check_aof, tmp_path, name):
    assert_same_verdict(cairn_aof, redis_check_aof, copy_fixture(name, tmp_path), valid=True)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("damage", [
    lambda d: torn_last(d, 1), lambda d: torn_last(d, 7), lambda d: torn_last(d, 15),
    lambda d: damage_middle(d, -1), unfinished_multi, bad_manifest_line, missing_file,
], ids=["torn-1", "torn-7", "torn-15", "damage-last", "unfinished-multi", "bad-manifest", "missing-file"])
def test_damaged_same_verdict(cairn_aof, redis_check_aof, tmp_path, name, damage):
    d = copy_fixture(name, tmp_path)
    damage(d)
    assert_same_verdict(cairn_aof, redis_check_aof, d, valid=False)


def test_damage_in_an_earlier_file_same_verdict(cairn_aof, redis_check_aof, tmp_path):
    d = copy_fixture("multi-incr", tmp_path)
    damage_middle(d, 0)
    assert_same_verdict(cairn_aof, redis_check_aof, d, valid=False)


def test_torn_earlier_file_same_verdict_and_not_fixable(cairn_aof, redis_check_aof, tmp_path):
    d = copy_fixture("multi-incr", tmp_path)
    torn_first_incr(d)
    assert_same_verdict(cairn_aof, redis_check_aof, d, valid=False)
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    fixed = run(cairn_aof, "fix", d)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert {p.name: p.read_bytes() for p in d.iterdir()} == before, "nothing changed, no backup left"


def test_torn_rdb_base_same_verdict(cairn_aof, redis_check_aof, tmp_path):
    d = copy_fixture("rdb-base", tmp_path)
    torn_rdb_base(d)
    assert_same_verdict(cairn_aof, redis_check_aof, d, valid=False)


def test_check_reports_offsets(cairn_aof, tmp_path):
    d = copy_fixture("rdb-base", tmp_path)
    last = d / files_in_order(d)[-1]
    size = last.stat().st_size
    start = last_command_start(last.read_bytes())
    torn_last(d, 4)
    out = run(cairn_aof, "check", d)
    text = out.stdout.decode()
    assert out.returncode == 1
    assert f"ok up to offset {start} of {start + 4}" in text, text
    assert "torn tail" in text and "cairn-aof fix" in text, text
    assert size > start


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("damage", [lambda d: torn_last(d, 9), unfinished_multi], ids=["torn", "unfinished-multi"])
def test_fix_matches_redis_check_aof_fix(cairn_aof, redis_check_aof, tmp_path, name, damage):
    ours = copy_fixture(name, tmp_path / "ours")
    theirs = copy_fixture(name, tmp_path / "theirs")
    damage(ours)
    damage(theirs)
    last = files_in_order(ours)[-1]
    damaged = (ours / last).read_bytes()
    fixed = run(cairn_aof, "fix", ours)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    r = run(redis_check_aof, "--fix", theirs / MANIFEST, stdin=b"y\n")
    assert r.returncode == 0, r.stdout
    assert (ours / last).read_bytes() == (theirs / last).read_bytes()
    backups = [p for p in ours.iterdir() if p.name.startswith(last + ".bak-")]
    assert len(backups) == 1 and backups[0].read_bytes() == damaged
    assert run(cairn_aof, "check", ours).returncode == 0
    again = run(cairn_aof, "fix", ours)
    assert again.returncode == 0 and b"nothing to fix" in again.stdout


def test_fix_refuses_damage_in_the_middle(cairn_aof, tmp_path):
    d = copy_fixture("rdb-base", tmp_path)
    damage_middle(d, -1)
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    out = run(cairn_aof, "fix", d)
    assert out.returncode == 1
    assert {p.name: p.read_bytes() for p in d.iterdir()} == before


# -- truncate-to-timestamp

def timestamped_dir(tmp_path, name):
    """A multi-part dir whose last increment has #TS annotations 100, 200, 300 between commands."""
    d = copy_fixture("rdb-base", tmp_path / name)
    last = d / files_in_order(d)[-1]
    body = b""
    for ts in (100, 200, 300):
        body += f"#TS:{ts}\r\n".encode()
        for i in range(3):
            key = f"k{ts}-{i}".encode()
            body += b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(key), key)
    last.write_bytes(body)
    return d, last.name


@pytest.mark.parametrize("ts", [99, 100, 150, 250, 300, 1000])
def test_truncate_to_timestamp_matches_redis(cairn_aof, redis_check_aof, tmp_path, ts):
    ours, last = timestamped_dir(tmp_path, "ours")
    theirs, _ = timestamped_dir(tmp_path, "theirs")
    a = run(cairn_aof, "truncate-to-timestamp", ours, ts)
    b = run(redis_check_aof, "--truncate-to-timestamp", ts, theirs / MANIFEST)
    assert (a.returncode == 0) == (b.returncode == 0), f"{a.stdout}{a.stderr}\n{b.stdout}"
    assert (ours / last).read_bytes() == (theirs / last).read_bytes()


def test_truncate_to_timestamp_refuses_an_earlier_file(cairn_aof, tmp_path):
    d = copy_fixture("multi-incr", tmp_path)
    first = d / files_in_order(d)[1]
    first.write_bytes(b"#TS:500\r\n" + first.read_bytes())
    data = first.read_bytes()
    out = run(cairn_aof, "truncate-to-timestamp", d, 400)
    assert out.returncode == 1, out.stdout + out.stderr
    assert b"not the" in out.stderr and b"last file" in out.stderr
    assert first.read_bytes() == data


# -- rewrite

@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mode", [["--compression", "lz4"], ["--compression", "lzf"], ["--no-rdb-preamble"]],
                         ids=["lz4", "lzf", "commands"])
def test_rewrite_compacts_and_keeps_content(cairn_aof, tmp_path, name, mode):
    d = copy_fixture(name, tmp_path)
    old = set(files_in_order(d))
    out = run(cairn_aof, "rewrite", d, *mode)
    assert out.returncode == 0, out.stdout + out.stderr
    now = files_in_order(d)
    assert len(now) == 2 and not (set(now) & old)
    assert now[0].endswith(".base.aof" if "--no-rdb-preamble" in mode else ".base.rdb")
    assert (d / now[1]).stat().st_size == 0
    assert sorted(p.name for p in d.iterdir()) == sorted(now + [MANIFEST]), "old files deleted"
    assert "type h" not in (d / MANIFEST).read_text()
    assert run(cairn_aof, "check", d).returncode == 0
    if "lz4" not in mode:
        expected = rdbdump.load(FIXTURES / name / "expected.json")
        assert redis_snapshot(tmp_path, d) == expected


def test_rewrite_refuses_a_torn_tail(cairn_aof, tmp_path):
    d = copy_fixture("rdb-base", tmp_path)
    torn_last(d, 3)
    before = sorted(p.name for p in d.iterdir())
    out = run(cairn_aof, "rewrite", d)
    assert out.returncode == 1
    assert sorted(p.name for p in d.iterdir()) == before


def redis_snapshot(tmp_path, aof_dir):
    """What a real Redis 7.0 serves after loading `aof_dir` as its appendonlydir."""
    kind = ServerKind.named("redis")
    if not kind.available():
        pytest.fail(f"redis-server not found: {kind.binary}", pytrace=False)
    s = ServerProcess(kind, str(tmp_path), ["--appendonly", "yes", "--auto-aof-rewrite-percentage", "0"])
    shutil.copytree(aof_dir, Path(s.dir) / "appendonlydir")
    s.start()
    try:
        c = s.client()
        try:
            return rdbdump.snapshot(c)
        finally:
            c.close()
    finally:
        s.stop()


def test_usage_errors_exit_2(cairn_aof, tmp_path):
    assert run(cairn_aof).returncode == 2
    assert run(cairn_aof, "check").returncode == 2
    assert run(cairn_aof, "rewrite", tmp_path, "--compression", "bogus").returncode == 2
    assert run(cairn_aof, "check", tmp_path / "missing").returncode == 4
