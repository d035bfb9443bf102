"""Expiry (Redis 7.0 expire.c): the EXPIRE family with NX/XX/GT/LT, TTL/PTTL, EXPIRETIME,
PERSIST, and keys going away lazily (on access) and actively (untouched).

Nothing here asserts timing: waits poll with a generous cap and only fail when it runs out."""

import time

import pytest

from resp import Error

NOT_INT = Error("ERR value is not an integer or out of range")
POLL_CAP_SECONDS = 30.0


def poll(predicate, cap=POLL_CAP_SECONDS, interval=0.05):
    deadline = time.monotonic() + cap
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def test_ttl_of_missing_and_persistent_keys(raw):
    assert raw.command("TTL", "missing") == -2
    assert raw.command("PTTL", "missing") == -2
    assert raw.command("EXPIRETIME", "missing") == -2
    assert raw.command("PEXPIRETIME", "missing") == -2
    raw.command("SET", "k", "v")
    assert raw.command("TTL", "k") == -1
    assert raw.command("PTTL", "k") == -1
    assert raw.command("EXPIRETIME", "k") == -1
    assert raw.command("PEXPIRETIME", "k") == -1


def test_expire_family(raw):
    raw.command("SET", "k", "v")
    assert raw.command("EXPIRE", "k", "100") == 1
    assert 0 < raw.command("TTL", "k") <= 100
    assert 0 < raw.command("PTTL", "k") <= 100000
    assert raw.command("PEXPIRE", "k", "200000") == 1
    assert 100 < raw.command("TTL", "k") <= 200
    at = int(time.time()) + 300
    assert raw.command("EXPIREAT", "k", str(at)) == 1
    assert raw.command("EXPIRETIME", "k") == at
    assert raw.command("PEXPIRETIME", "k") == at * 1000
    pat = int(time.time() * 1000) + 400000
    assert raw.command("PEXPIREAT", "k", str(pat)) == 1
    assert raw.command("PEXPIRETIME", "k") == pat
    assert raw.command("EXPIRETIME", "k") == (pat + 500) // 1000
    assert raw.command("EXPIRE", "missing", "100") == 0
    assert raw.command("PEXPIRE", "missing", "100") == 0


def test_persist(raw):
    raw.command("SET", "k", "v", "EX", "100")
    assert raw.command("PERSIST", "k") == 1
    assert raw.command("TTL", "k") == -1
    assert raw.command("PERSIST", "k") == 0
    assert raw.command("PERSIST", "missing") == 0


def test_expire_in_the_past_deletes(raw):
    raw.command("SET", "k", "v")
    assert raw.command("EXPIRE", "k", "-1") == 1
    assert raw.command("EXISTS", "k") == 0
    raw.command("SET", "k", "v")
    assert raw.command("EXPIREAT", "k", "1") == 1
    assert raw.command("EXISTS", "k") == 0
    raw.command("SET", "k", "v")
    assert raw.command("PEXPIRE", "k", "0") == 1
    assert raw.command("GET", "k") is None


def test_expire_options_nx_xx(raw):
    raw.command("SET", "k", "v")
    assert raw.command("EXPIRE", "k", "100", "XX") == 0
    assert raw.command("TTL", "k") == -1
    assert raw.command("EXPIRE", "k", "100", "NX") == 1
    assert raw.command("EXPIRE", "k", "200", "NX") == 0
    assert 0 < raw.command("TTL", "k") <= 100
    assert raw.command("EXPIRE", "k", "200", "XX") == 1
    assert 100 < raw.command("TTL", "k") <= 200


def test_expire_options_gt_lt(raw):
    raw.command("SET", "k", "v")
    # A key without TTL counts as an infinite TTL: GT never applies, LT always does.
    assert raw.command("EXPIRE", "k", "100", "GT") == 0
    assert raw.command("TTL", "k") == -1
    assert raw.command("EXPIRE", "k", "100", "LT") == 1
    assert raw.command("EXPIRE", "k", "50", "GT") == 0
    assert raw.command("EXPIRE", "k", "200", "GT") == 1
    assert 100 < raw.command("TTL", "k") <= 200
    assert raw.command("EXPIRE", "k", "300", "LT") == 0
    assert raw.command("EXPIRE", "k", "50", "LT") == 1
    assert 0 < raw.command("TTL", "k") <= 50
    assert raw.command("PEXPIRE", "k", "10000000", "XX", "GT") == 1
    assert raw.command("EXPIRE", "k", "100", "gt") == 0  # options are case-insensitive


@pytest.mark.parametrize("opts,message", [
    (["NX", "XX"], "ERR NX and XX, GT or LT options at the same time are not compatible"),
    (["NX", "GT"], "ERR NX and XX, GT or LT options at the same time are not compatible"),
    (["NX", "LT"], "ERR NX and XX, GT or LT options at the same time are not compatible"),
    (["GT", "LT"], "ERR GT and LT options at the same time are not compatible"),
    (["FOO"], "ERR Unsupported option FOO"),
])
def test_expire_option_errors(raw, opts, message):
    raw.command("SET", "k", "v")
    assert raw.command("EXPIRE", "k", "100", *opts) == Error(message)


def test_expire_argument_errors(raw):
    raw.command("SET", "k", "v")
    assert raw.command("EXPIRE", "k", "abc") == NOT_INT
    assert raw.command("EXPIRE", "k", "1.5") == NOT_INT
    assert raw.command("EXPIRE", "k", "9223372036854775807") == \
        Error("ERR invalid expire time in 'expire' command")
    assert raw.command("EXPIRE", "k", "9223372036854775") == \
        Error("ERR invalid expire time in 'expire' command")
    assert raw.command("PEXPIRE", "k", "9223372036854775807") == \
        Error("ERR invalid expire time in 'pexpire' command")
    assert raw.command("EXPIRE", "k", "-9223372036854775808") == \
        Error("ERR invalid expire time in 'expire' command")
    assert raw.command("EXISTS", "k") == 1
    # The largest absolute time in milliseconds is accepted as is.
    assert raw.command("PEXPIREAT", "k", "9223372036854775807") == 1
    assert raw.command("PEXPIRETIME", "k") == 9223372036854775807
    assert raw.command("EXPIREAT", "k", "9223372036854775807") == \
        Error("ERR invalid expire time in 'expireat' command")
    assert raw.command("EXPIRE", "k") == Error("ERR wrong number of arguments for 'expire' command")
    assert raw.command("TTL") == Error("ERR wrong number of arguments for 'ttl' command")


def test_overwrite_clears_ttl_but_not_modifications(raw):
    raw.command("SET", "k", "v", "EX", "100")
    raw.command("APPEND", "k", "x")
    raw.command("SETRANGE", "k", "0", "y")
    assert 0 < raw.command("TTL", "k") <= 100
    raw.command("SET", "n", "1", "EX", "100")
    raw.command("INCRBY", "n", "5")
    assert 0 < raw.command("TTL", "n") <= 100
    raw.command("GETSET", "n", "2")
    assert raw.command("TTL", "n") == -1
    raw.command("SET", "k", "v", "EX", "100")
    raw.command("MSET", "k", "w")
    assert raw.command("TTL", "k") == -1


def test_lazy_expiry_on_access(raw):
    raw.command("SET", "k", "v", "PX", "50")
    raw.command("SET", "other", "v", "PX", "50")
    assert poll(lambda: raw.command("GET", "k") is None)
    assert raw.command("EXISTS", "other") == 0
    assert raw.command("TTL", "other") == -2


def test_active_expiry_reclaims_untouched_keys(server):
    """Keys that nobody reads must still go away: DBSIZE counts unreclaimed keys, so it reaching
    zero proves the background cycle deleted them."""
    r = server.client()
    with r.pipeline(transaction=False) as p:
        for i in range(500):
            p.set(f"volatile:{i}", "x", px=100 + i % 50)
        for i in range(10):
            p.set(f"persistent:{i}", "x")
        p.execute()
    assert poll(lambda: r.dbsize() == 10), f"dbsize stayed at {r.dbsize()}"
    info = r.info("keyspace")
    assert info.get("db0", {}).get("keys") == 10
    assert info.get("db0", {}).get("expires") == 0
    r.close()


def test_active_expiry_in_other_databases(server):
    r = server.client(db=3)
    for i in range(50):
        r.set(f"k{i}", "x", px=50)
    assert poll(lambda: r.dbsize() == 0)
    r.close()


def test_expired_keys_are_counted_in_info_stats(server):
    r = server.client()
    before = r.info("stats")["expired_keys"]
    for i in range(20):
        r.set(f"k{i}", "x", px=20)
    assert poll(lambda: r.info("stats")["expired_keys"] >= before + 20)
    r.close()


def test_keyspace_info_counts_expires(raw):
    raw.command("SET", "a", "1", "EX", "1000")
    raw.command("SET", "b", "2")
    info = raw.command("INFO", "keyspace").decode()
    line = [ln for ln in info.split("\r\n") if ln.startswith("db0:")][0]
    assert line.startswith("db0:keys=2,expires=1,avg_ttl=")
