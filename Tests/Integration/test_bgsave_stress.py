"""BGSAVE under load: 200 background saves in a row while client threads keep writing, each in
transactions that set a:i and b:i to the same fresh value. Every save must succeed, and every
dump must be a point-in-time snapshot: for every i, a:i == b:i (a fork in the middle of a
transaction, or a child that saw memory change under it, would break that).

The dumps are read with `cairn-rdb dump --json` when that tool is there (CAIRN_RDB, or next to
the cairn-server binary); otherwise one verifying server loads each copy in turn with
DEBUG RELOAD NOSAVE."""

import json
import os
import random
import shutil
import subprocess
import threading
import time

import pytest

from resp import RawConnection

SAVES = 200
PAIRS = 500
WRITERS = 3
OVERALL_SECONDS = 240.0
SAVE_SECONDS = 60.0


def info(conn):
    text = conn.command("INFO", "persistence")
    return dict(line.split(":", 1) for line in text.decode().split("\r\n") if line and not line.startswith("#"))


def rdb_tool(server_kind):
    path = os.environ.get("CAIRN_RDB")
    if not path and not server_kind.is_redis:
        path = os.path.join(os.path.dirname(server_kind.binary), "cairn-rdb")
    return path if path and os.access(path, os.X_OK) else None


def pairs_with_tool(tool, path):
    """{key: value} of the a:*/b:* strings in the dump, read by cairn-rdb."""
    out = subprocess.run([tool, "dump", "--json", path], capture_output=True, timeout=120, check=True).stdout
    found = {}
    for line in out.decode().splitlines():
        entry = json.loads(line)
        if entry["db"] == 0 and entry["key"][:2] in ("a:", "b:"):
            found[entry["key"]] = entry["value"]
    return found


def pairs_with_server(conn, name):
    """{key: value} of the a:*/b:* strings in dump file `name`, loaded into a verifying server."""
    assert conn.command("CONFIG", "SET", "dbfilename", name) == "OK"
    assert conn.command("DEBUG", "RELOAD", "NOSAVE") == "OK"
    keys = [f"{p}:{i}" for p in "ab" for i in range(PAIRS)]
    values = conn.command("MGET", *keys)
    return {k: v.decode("latin-1") for k, v in zip(keys, values) if v is not None}


def writer(port, seed, stop, errors, counts):
    rnd = random.Random(seed)
    try:
        with RawConnection(port, timeout=30) as c:
            n = 0
            while not stop.is_set() and n < 100_000:
                i = rnd.randrange(PAIRS)
                v = f"{seed}-{n}-{rnd.random()}"
                assert c.command("MULTI") == "OK"
                c.command("SET", f"a:{i}", v)
                c.command("SET", f"b:{i}", v)
                c.command("INCR", f"counter:{seed}")
                reply = c.command("EXEC")
                assert reply == ["OK", "OK", n + 1], reply
                c.command("LPUSH", f"list:{seed}", v)
                c.command("LTRIM", f"list:{seed}", 0, 99)
                c.command("HSET", f"hash:{seed}", f"f{i}", v)
                n += 1
            counts[seed] = n
    except Exception as e:  # reported by the main thread
        errors.append(f"writer {seed}: {e!r}")


@pytest.mark.slow
def test_bgsave_snapshots_are_point_in_time(server_factory, server_kind, tmp_path):
    s = server_factory("--hz", "100", "--enable-debug-command", "yes", "--enable-protected-configs", "yes")
    copies = tmp_path / "copies"
    copies.mkdir()
    started = time.monotonic()
    stop = threading.Event()
    errors, counts = [], {}
    threads = [threading.Thread(target=writer, args=(s.port, seed, stop, errors, counts), daemon=True)
               for seed in range(WRITERS)]
    with RawConnection(s.port, timeout=30) as c:
        # Every pair exists from the start, so that every dump holds all of them.
        c.command("MSET", *[x for i in range(PAIRS) for x in (f"a:{i}", "init", f"b:{i}", "init")])
        for t in threads:
            t.start()
        try:
            for n in range(SAVES):
                assert not errors, errors
                assert time.monotonic() - started < OVERALL_SECONDS, f"only {n} saves in {OVERALL_SECONDS}s"
                assert c.command("BGSAVE") == "Background saving started", n
                deadline = time.monotonic() + SAVE_SECONDS
                while True:
                    fields = info(c)
                    if fields["rdb_bgsave_in_progress"] == "0":
                        break
                    assert time.monotonic() < deadline, f"save {n} still running after {SAVE_SECONDS}s"
                    time.sleep(0.01)
                assert fields["rdb_last_bgsave_status"] == "ok", f"save {n} failed:\n{s.log()[-2000:]}"
                shutil.copyfile(os.path.join(s.dir, "dump.rdb"), copies / f"dump-{n}.rdb")
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
    assert not errors, errors
    assert len(counts) == WRITERS and all(n > 0 for n in counts.values()), counts

    tool = rdb_tool(server_kind)
    verifier = None
    if tool is None:
        verifier = server_factory("--enable-debug-command", "yes", "--enable-protected-configs", "yes",
                                  "--dir", str(copies))
    torn, changed = [], 0
    try:
        conn = verifier.raw(timeout=60) if verifier else None
        for n in range(SAVES):
            name = f"dump-{n}.rdb"
            found = pairs_with_tool(tool, str(copies / name)) if tool else pairs_with_server(conn, name)
            assert len(found) == 2 * PAIRS, f"{name} holds {len(found)} of the {2 * PAIRS} pair keys"
            torn += [(name, i) for i in range(PAIRS) if found[f"a:{i}"] != found[f"b:{i}"]]
            changed = sum(1 for i in range(PAIRS) if found[f"a:{i}"] != "init")
        if conn:
            conn.close()
    finally:
        if verifier:
            verifier.stop()
    assert torn == [], f"{len(torn)} torn pairs, first {torn[:5]}"
    assert changed > 0, "the writers' transactions never reached a dump"
