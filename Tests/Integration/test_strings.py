"""String commands (Redis 7.0 t_string.c / bitops.c): replies, options and exact error texts."""

import time

import pytest
import redis

from resp import Error

NOT_INT = Error("ERR value is not an integer or out of range")
NOT_FLOAT = Error("ERR value is not a valid float")
SYNTAX = Error("ERR syntax error")
OVERFLOW = Error("ERR increment or decrement would overflow")
LLONG_MAX = 9223372036854775807
LLONG_MIN = -9223372036854775808


def arity(cmd):
    return Error(f"ERR wrong number of arguments for '{cmd}' command")


# -- GET / SET


def test_set_get_roundtrip(r):
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.get("missing") is None
    assert r.set("k", "") is True
    assert r.get("k") == b""


def test_get_arity_errors(raw):
    assert raw.command("GET") == arity("get")
    assert raw.command("GET", "a", "b") == arity("get")
    assert raw.command("SET", "k") == arity("set")
    assert raw.command("get") == arity("get")


def test_set_nx_xx(r):
    assert r.set("k", "1", nx=True) is True
    assert r.set("k", "2", nx=True) is None
    assert r.get("k") == b"1"
    assert r.set("k", "3", xx=True) is True
    assert r.get("k") == b"3"
    assert r.set("other", "x", xx=True) is None
    assert r.exists("other") == 0


def test_set_get_option(raw):
    assert raw.command("SET", "k", "new", "GET") is None
    assert raw.command("SET", "k", "newer", "GET") == b"new"
    assert raw.command("GET", "k") == b"newer"
    # NX together with GET is allowed since 7.0: the old value comes back, nothing is written.
    assert raw.command("SET", "k", "x", "NX", "GET") == b"newer"
    assert raw.command("GET", "k") == b"newer"
    assert raw.command("SET", "k2", "x", "NX", "GET") is None
    assert raw.command("GET", "k2") == b"x"
    assert raw.command("SET", "k", "y", "XX", "GET") == b"newer"


def test_set_expire_options(r):
    assert r.set("k", "v", ex=100) is True
    assert 0 < r.ttl("k") <= 100
    assert r.set("k", "v", px=100000) is True
    assert 0 < r.pttl("k") <= 100000
    assert r.set("k", "v", exat=int(time.time()) + 100) is True
    assert 0 < r.ttl("k") <= 100
    assert r.set("k", "v", pxat=int(time.time() * 1000) + 100000) is True
    assert 0 < r.ttl("k") <= 100
    # A plain SET clears the TTL; KEEPTTL keeps it.
    assert r.set("k", "v2", keepttl=True) is True
    assert 0 < r.ttl("k") <= 100
    assert r.set("k", "v3") is True
    assert r.ttl("k") == -1


def test_set_expire_in_the_past_deletes(raw):
    assert raw.command("SET", "k", "v", "EXAT", "1") == "OK"
    assert raw.command("GET", "k") is None
    assert raw.command("SET", "k", "v", "PXAT", "1") == "OK"
    assert raw.command("EXISTS", "k") == 0


@pytest.mark.parametrize("opt,value", [
    ("EX", "0"), ("EX", "-1"), ("PX", "0"), ("PX", "-5"), ("EXAT", "0"), ("PXAT", "-1"),
    ("EX", str(LLONG_MAX)), ("EX", str(LLONG_MAX // 1000 + 1)),
])
def test_set_invalid_expire_time(raw, opt, value):
    assert raw.command("SET", "k", "v", opt, value) == Error("ERR invalid expire time in 'set' command")
    assert raw.command("EXISTS", "k") == 0


def test_set_expire_not_integer(raw):
    assert raw.command("SET", "k", "v", "EX", "abc") == NOT_INT
    assert raw.command("SET", "k", "v", "PX", "1.5") == NOT_INT
    assert raw.command("SET", "k", "v", "EX", "99999999999999999999") == NOT_INT


@pytest.mark.parametrize("args", [
    ["NX", "XX"], ["EX", "10", "PX", "100"], ["EX", "10", "KEEPTTL"], ["KEEPTTL", "PX", "5"],
    ["EX"], ["FOO"], ["EXAT", "10", "PXAT", "10"], ["NX", "GET", "XX"],
])
def test_set_syntax_errors(raw, args):
    assert raw.command("SET", "k", "v", *args) == SYNTAX


def test_set_repeated_option_last_wins(raw):
    assert raw.command("SET", "k", "v", "EX", "10", "EX", "1000") == "OK"
    assert 10 < raw.command("TTL", "k") <= 1000
    assert raw.command("SET", "k", "v", "NX", "NX") is None


def test_set_options_case_insensitive(raw):
    assert raw.command("set", "k", "v", "ex", "100", "nx") == "OK"
    assert raw.command("SeT", "k", "w", "Xx", "KeepTtl", "gEt") == b"v"


def test_legacy_set_variants(raw):
    assert raw.command("SETNX", "k", "a") == 1
    assert raw.command("SETNX", "k", "b") == 0
    assert raw.command("GETSET", "k", "c") == b"a"
    assert raw.command("GETSET", "new", "x") is None
    assert raw.command("SETEX", "e", "100", "v") == "OK"
    assert 0 < raw.command("TTL", "e") <= 100
    assert raw.command("PSETEX", "p", "100000", "v") == "OK"
    assert 0 < raw.command("PTTL", "p") <= 100000
    assert raw.command("SETEX", "e", "0", "v") == Error("ERR invalid expire time in 'setex' command")
    assert raw.command("PSETEX", "p", "-1", "v") == Error("ERR invalid expire time in 'psetex' command")
    assert raw.command("SETEX", "e", "x", "v") == NOT_INT
    assert raw.command("STRLEN", "k") == 1
    assert raw.command("STRLEN", "missing") == 0


# -- INCR family


def test_incr_decr(r):
    assert r.incr("n") == 1
    assert r.incr("n") == 2
    assert r.incrby("n", 10) == 12
    assert r.decr("n") == 11
    assert r.decrby("n", 20) == -9
    assert r.incrby("n", -1) == -10
    assert r.get("n") == b"-10"
    assert r.decr("fresh") == -1


def test_incr_keeps_ttl(r):
    r.set("n", "5", ex=100)
    assert r.incr("n") == 6
    assert 0 < r.ttl("n") <= 100


@pytest.mark.parametrize("value", ["abc", " 1", "1 ", "1.0", "", "0x10", "+1", "99999999999999999999", "01a"])
def test_incr_on_non_integer(raw, value):
    raw.command("SET", "n", value)
    assert raw.command("INCR", "n") == NOT_INT
    assert raw.command("GET", "n") == value.encode()


def test_incr_argument_errors(raw):
    assert raw.command("INCRBY", "n", "abc") == NOT_INT
    assert raw.command("INCRBY", "n", "1.5") == NOT_INT
    assert raw.command("DECRBY", "n", "") == NOT_INT
    assert raw.command("INCR") == arity("incr")
    assert raw.command("INCRBY", "n") == arity("incrby")


def test_incr_overflow(raw):
    raw.command("SET", "n", str(LLONG_MAX))
    assert raw.command("INCR", "n") == OVERFLOW
    assert raw.command("INCRBY", "n", "1") == OVERFLOW
    assert raw.command("GET", "n") == str(LLONG_MAX).encode()
    raw.command("SET", "n", str(LLONG_MIN))
    assert raw.command("DECR", "n") == OVERFLOW
    assert raw.command("DECRBY", "n", "1") == OVERFLOW
    assert raw.command("INCRBY", "n", str(LLONG_MAX)) == -1
    raw.command("SET", "n", "0")
    assert raw.command("DECRBY", "n", str(LLONG_MIN)) == Error("ERR decrement would overflow")
    assert raw.command("INCRBY", "n", str(LLONG_MIN)) == LLONG_MIN


def test_incrbyfloat(raw):
    assert raw.command("SET", "f", "10.50") == "OK"
    assert raw.command("INCRBYFLOAT", "f", "0.1") == b"10.6"
    assert raw.command("INCRBYFLOAT", "f", "-5") == b"5.6"
    raw.command("SET", "f", "5.0e3")
    assert raw.command("INCRBYFLOAT", "f", "2.0e2") == b"5200"
    assert raw.command("INCRBYFLOAT", "new", "3") == b"3"
    assert raw.command("INCRBYFLOAT", "new", "1.5") == b"4.5"
    raw.command("SET", "i", "17")
    assert raw.command("INCRBYFLOAT", "i", "0") == b"17"


def test_incrbyfloat_errors(raw):
    raw.command("SET", "s", "abc")
    assert raw.command("INCRBYFLOAT", "s", "1") == NOT_FLOAT
    assert raw.command("INCRBYFLOAT", "f", "abc") == NOT_FLOAT
    assert raw.command("INCRBYFLOAT", "f", "inf") == Error("ERR increment would produce NaN or Infinity")
    assert raw.command("INCRBYFLOAT", "f", "1e4933") == NOT_FLOAT
    raw.command("SET", "big", "1e4932")
    assert raw.command("INCRBYFLOAT", "big", "1e4932") == Error("ERR increment would produce NaN or Infinity")
    assert raw.command("GET", "big") == b"1e4932"


def test_incrbyfloat_uses_long_double(raw):
    # Redis computes in long double: 1.7e308 + 1.7e308 does not overflow, and the reply is the
    # full decimal expansion, no exponent.
    raw.command("SET", "big", "1.7e308")
    value = raw.command("INCRBYFLOAT", "big", "1.7e308")
    assert isinstance(value, bytes) and len(value) == 309, value
    assert value.startswith(b"340000000000000000006273556") and value.isdigit()


# -- APPEND / STRLEN / GETRANGE / SETRANGE


def test_append(r):
    assert r.append("k", "Hello") == 5
    assert r.append("k", " World") == 11
    assert r.get("k") == b"Hello World"
    r.set("n", 12)
    assert r.append("n", 3) == 3
    assert r.get("n") == b"123"
    assert r.strlen("k") == 11


@pytest.mark.parametrize("start,end,expected", [
    (0, 3, b"This"), (-3, -1, b"ing"), (0, -1, b"This is a string"), (10, 100, b"string"),
    (5, 3, b""), (-100, 3, b"This"), (100, 200, b""), (-1, -5, b""), (0, 0, b"T"), (15, 15, b"g"),
])
def test_getrange(r, start, end, expected):
    r.set("k", "This is a string")
    assert r.getrange("k", start, end) == expected


def test_getrange_missing_and_errors(raw):
    assert raw.command("GETRANGE", "missing", "0", "-1") == b""
    assert raw.command("SUBSTR", "missing", "0", "-1") == b""
    raw.command("SET", "k", "hello")
    assert raw.command("GETRANGE", "k", "a", "1") == NOT_INT
    assert raw.command("GETRANGE", "k", "0") == arity("getrange")
    raw.command("SET", "n", "12345")
    assert raw.command("GETRANGE", "n", "1", "2") == b"23"


def test_setrange(r):
    r.set("k", "Hello World")
    assert r.setrange("k", 6, "Redis") == 11
    assert r.get("k") == b"Hello Redis"
    assert r.setrange("pad", 5, "x") == 6
    assert r.get("pad") == b"\x00\x00\x00\x00\x00x"
    assert r.setrange("k", 11, "!") == 12
    assert r.get("k") == b"Hello Redis!"


def test_setrange_edge_cases(raw):
    # An empty value on a missing key creates nothing.
    assert raw.command("SETRANGE", "k", "10", "") == 0
    assert raw.command("EXISTS", "k") == 0
    raw.command("SET", "k", "abc")
    assert raw.command("SETRANGE", "k", "10", "") == 3
    assert raw.command("SETRANGE", "k", "-1", "x") == Error("ERR offset is out of range")
    assert raw.command("SETRANGE", "k", "x", "x") == NOT_INT
    assert raw.command("SETRANGE", "k", str(512 * 1024 * 1024), "x") == \
        Error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    raw.command("SET", "n", "1234")
    assert raw.command("SETRANGE", "n", "1", "X") == 4
    assert raw.command("GET", "n") == b"1X34"


# -- MGET / MSET / MSETNX / GETDEL / GETEX


def test_mset_mget(r):
    assert r.mset({"a": "1", "b": "2", "c": "3"}) is True
    assert r.mget("a", "b", "missing", "c") == [b"1", b"2", None, b"3"]
    # The last value of a repeated key wins.
    r.execute_command("MSET", "d", "x", "d", "y")
    assert r.get("d") == b"y"


def test_mset_arity(raw):
    assert raw.command("MSET", "a") == arity("mset")
    assert raw.command("MSET", "a", "1", "b") == arity("mset")
    assert raw.command("MSETNX", "a", "1", "b") == arity("msetnx")
    assert raw.command("MGET") == arity("mget")


def test_msetnx(r):
    assert r.msetnx({"a": "1", "b": "2"}) is True
    assert r.msetnx({"b": "x", "c": "3"}) is False
    assert r.mget("a", "b", "c") == [b"1", b"2", None]


def test_getdel(r):
    r.set("k", "v", ex=100)
    assert r.getdel("k") == b"v"
    assert r.exists("k") == 0
    assert r.getdel("k") is None


def test_getex(raw):
    raw.command("SET", "k", "v")
    assert raw.command("GETEX", "k") == b"v"
    assert raw.command("TTL", "k") == -1
    assert raw.command("GETEX", "k", "EX", "100") == b"v"
    assert 0 < raw.command("TTL", "k") <= 100
    assert raw.command("GETEX", "k", "PX", "200000") == b"v"
    assert 100 < raw.command("TTL", "k") <= 200
    assert raw.command("GETEX", "k", "PERSIST") == b"v"
    assert raw.command("TTL", "k") == -1
    assert raw.command("GETEX", "k", "EXAT", str(int(time.time()) + 100)) == b"v"
    assert 0 < raw.command("TTL", "k") <= 100
    assert raw.command("GETEX", "missing", "EX", "10") is None
    assert raw.command("GETEX", "k", "PXAT", "1") == b"v"
    assert raw.command("EXISTS", "k") == 0


def test_getex_errors(raw):
    raw.command("SET", "k", "v")
    assert raw.command("GETEX", "k", "EX", "0") == Error("ERR invalid expire time in 'getex' command")
    assert raw.command("GETEX", "k", "PX", "-10") == Error("ERR invalid expire time in 'getex' command")
    assert raw.command("GETEX", "k", "EX", "10", "PX", "10") == SYNTAX
    assert raw.command("GETEX", "k", "PERSIST", "EX", "10") == SYNTAX
    assert raw.command("GETEX", "k", "KEEPTTL") == SYNTAX
    assert raw.command("GETEX", "k", "EX", "ten") == NOT_INT
    assert raw.command("GETEX") == arity("getex")


# -- LCS


def test_lcs(raw):
    raw.command("MSET", "key1", "ohmytext", "key2", "mynewtext")
    assert raw.command("LCS", "key1", "key2") == b"mytext"
    assert raw.command("LCS", "key1", "key2", "LEN") == 6
    assert raw.command("LCS", "key1", "key2", "IDX") == [
        b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
    assert raw.command("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4") == [
        b"matches", [[[4, 7], [5, 8]]], b"len", 6]
    assert raw.command("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == [
        b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
    assert raw.command("LCS", "key1", "missing") == b""
    assert raw.command("LCS", "key1", "key2", "LEN", "IDX") == \
        Error("ERR If you want both the length and indexes, please just use IDX.")
    assert raw.command("LCS", "key1", "key2", "FOO") == SYNTAX


# -- bits


def test_setbit_getbit(r):
    assert r.setbit("b", 7, 1) == 0
    assert r.setbit("b", 7, 0) == 1
    assert r.setbit("b", 7, 1) == 0
    assert r.get("b") == b"\x01"
    assert r.getbit("b", 7) == 1
    assert r.getbit("b", 0) == 0
    assert r.getbit("b", 1000) == 0
    assert r.getbit("missing", 0) == 0
    assert r.setbit("c", 100, 1) == 0
    assert r.strlen("c") == 13


def test_setbit_errors(raw):
    assert raw.command("SETBIT", "b", "0", "2") == Error("ERR bit is not an integer or out of range")
    assert raw.command("SETBIT", "b", "-1", "1") == Error("ERR bit offset is not an integer or out of range")
    assert raw.command("SETBIT", "b", str(4 * 1024 * 1024 * 1024), "1") == \
        Error("ERR bit offset is not an integer or out of range")
    assert raw.command("GETBIT", "b", "x") == Error("ERR bit offset is not an integer or out of range")


def test_bitcount(raw):
    raw.command("SET", "k", "foobar")
    assert raw.command("BITCOUNT", "k") == 26
    assert raw.command("BITCOUNT", "k", "0", "0") == 4
    assert raw.command("BITCOUNT", "k", "1", "1") == 6
    assert raw.command("BITCOUNT", "k", "1", "1", "BYTE") == 6
    assert raw.command("BITCOUNT", "k", "5", "30", "BIT") == 17
    assert raw.command("BITCOUNT", "k", "-2", "-1") == 7
    assert raw.command("BITCOUNT", "missing") == 0
    assert raw.command("BITCOUNT", "k", "0") == SYNTAX
    assert raw.command("BITCOUNT", "k", "0", "1", "WORD") == SYNTAX


def test_bitpos(raw):
    raw.command("SET", "k", b"\xff\xf0\x00")
    assert raw.command("BITPOS", "k", "0") == 12
    raw.command("SET", "k", b"\x00\xff\xf0")
    assert raw.command("BITPOS", "k", "1", "0") == 8
    assert raw.command("BITPOS", "k", "1", "2") == 16
    assert raw.command("BITPOS", "k", "1", "2", "-1", "BYTE") == 16
    assert raw.command("BITPOS", "k", "1", "7", "15", "BIT") == 8
    raw.command("SET", "k", b"\x00\x00\x00")
    assert raw.command("BITPOS", "k", "1") == -1
    assert raw.command("BITPOS", "k", "1", "7", "-3", "BIT") == -1
    raw.command("SET", "k", b"\xff\xff\xff")
    assert raw.command("BITPOS", "k", "0") == 24
    assert raw.command("BITPOS", "k", "0", "0", "-1") == -1
    assert raw.command("BITPOS", "missing", "0") == 0
    assert raw.command("BITPOS", "missing", "1") == -1
    assert raw.command("BITPOS", "k", "2") == Error("ERR The bit argument must be 1 or 0.")


def test_bitop(raw):
    raw.command("MSET", "a", "foobar", "b", "abcdef")
    assert raw.command("BITOP", "AND", "d", "a", "b") == 6
    assert raw.command("GET", "d") == b"`bc`ab"
    assert raw.command("BITOP", "OR", "d", "a", "b") == 6
    assert raw.command("GET", "d") == b"goofev"
    assert raw.command("BITOP", "XOR", "d", "a", "b") == 6
    assert raw.command("GET", "d") == b"\x07\x0d\x0c\x06\x04\x14"
    assert raw.command("BITOP", "NOT", "d", "a") == 6
    assert raw.command("GET", "d") == bytes(255 - c for c in b"foobar")
    raw.command("SET", "short", "\xff")
    assert raw.command("BITOP", "AND", "d", "a", "missing") == 6
    assert raw.command("GET", "d") == b"\x00" * 6
    # Every source missing: the destination is deleted and the length is 0.
    assert raw.command("BITOP", "OR", "d", "missing1", "missing2") == 0
    assert raw.command("EXISTS", "d") == 0
    assert raw.command("BITOP", "NOT", "d", "a", "b") == \
        Error("ERR BITOP NOT must be called with a single source key.")
    assert raw.command("BITOP", "NAND", "d", "a") == SYNTAX


# -- OBJECT ENCODING for strings


@pytest.mark.parametrize("value,encoding", [
    ("12345", b"int"), ("-7", b"int"), ("0", b"int"), (str(LLONG_MAX), b"int"), (str(LLONG_MIN), b"int"),
    ("hello", b"embstr"), ("012", b"embstr"), ("1.5", b"embstr"), ("99999999999999999999", b"embstr"),
    ("x" * 44, b"embstr"), ("x" * 45, b"raw"), (" 1", b"embstr"), ("", b"embstr"),
])
def test_object_encoding_after_set(raw, value, encoding):
    raw.command("SET", "k", value)
    assert raw.command("OBJECT", "ENCODING", "k") == encoding


def test_object_encoding_after_modification(raw):
    raw.command("SET", "k", "abc")
    raw.command("APPEND", "k", "def")
    assert raw.command("OBJECT", "ENCODING", "k") == b"raw"
    raw.command("INCR", "n")
    assert raw.command("OBJECT", "ENCODING", "n") == b"int"
    raw.command("SET", "s", "x")
    raw.command("SETRANGE", "s", "3", "y")
    assert raw.command("OBJECT", "ENCODING", "s") == b"raw"
    raw.command("SET", "f", "1.5")
    raw.command("INCRBYFLOAT", "f", "1.5")
    assert raw.command("GET", "f") == b"3"
    assert raw.command("OBJECT", "ENCODING", "f") in (b"embstr", b"int")
    assert raw.command("OBJECT", "ENCODING", "missing") is None


def test_unknown_command_text(raw):
    assert raw.command("foo", "a", "b") == \
        Error("ERR unknown command 'foo', with args beginning with: 'a' 'b' ")
    assert raw.command("FOOBAR") == Error("ERR unknown command 'FOOBAR', with args beginning with: ")


def test_errors_reach_redis_py_as_response_error(r):
    # Errors reach redis-py as ResponseError with Redis's text after the code.
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.incrby("k", "x")
