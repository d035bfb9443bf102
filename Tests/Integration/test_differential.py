"""Differential test: seeded random command sequences over every implemented type, sent to a real
redis-server 7.0 and to cairn-server; replies compared byte for byte (see differential.py for what
is normalised and why). A mismatch fails with the seed, the command and both replies.
Environment: CAIRN_DIFF_SEEDS (default 20), CAIRN_DIFF_COMMANDS (default 2000),
CAIRN_DIFF_KINDS (e.g. "string,list": only those command groups)."""
import os

import pytest

from differential import Generator, compare, exchange


SEEDS = int(os.environ.get("CAIRN_DIFF_SEEDS", "20"))
COMMANDS = int(os.environ.get("CAIRN_DIFF_COMMANDS", "2000"))
# Comma-separated subset of Generator.KINDS, for debugging one area; default: all.
KINDS = [k for k in os.environ.get("CAIRN_DIFF_KINDS", "").split(",") if k]


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("seed", range(SEEDS))
def test_random_sequence_matches_redis(pair, seed, protocol):
    """Under RESP2 and under RESP3 (HELLO 3): every reply shape (maps, sets, doubles, nulls,
    booleans) must be Redis's, byte for byte."""
    redis, cairn = pair
    with redis.raw() as rc, cairn.raw() as cc:
        for c in (rc, cc):
            if protocol == 3:
                assert exchange(c, ["HELLO", "3"])[1][b"proto"] == 3
            assert exchange(c, ["FLUSHALL"])[1] == "OK"
        gen = Generator(seed, KINDS)
        for step in range(COMMANDS):
            cmd = gen.command()
            if cmd[0] == "__tx__":
                seq = [["MULTI"]] + cmd[1] + [["EXEC"]]
                if cmd[1] and cmd[1][0][0] == "WATCH":
                    seq = [cmd[1][0], ["MULTI"]] + cmd[1][1:] + [["EXEC"]]
            else:
                seq = [cmd]
            for c in seq:
                diff = compare(c, rc, cc)
                if diff is not None:
                    pytest.fail(f"RESP{protocol} seed {seed}, command #{step} {c!r}:\n  redis: {diff[0]!r}\n  cairn: {diff[1]!r}")
