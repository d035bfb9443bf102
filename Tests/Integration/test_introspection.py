"""Server introspection: CONFIG GET/SET/RESETSTAT/REWRITE, INFO sections, COMMAND COUNT/INFO/
DOCS/LIST/GETKEYS (key positions as redis-py and cluster clients read them)."""

import os

import pytest

from resp import Error


def config_set_failed(name, reason):
    return Error(f"ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")


def as_dict(flat):
    return dict(zip(flat[0::2], flat[1::2]))


# -- CONFIG


def test_config_get(raw, server):
    assert raw.command("CONFIG", "GET", "maxclients") == [b"maxclients", b"10000"]
    assert raw.command("CONFIG", "GET", "port") == [b"port", str(server.port).encode()]
    assert raw.command("CONFIG", "GET", "bind") == [b"bind", b"127.0.0.1"]
    assert raw.command("CONFIG", "GET", "dir") == [b"dir", os.path.realpath(server.dir).encode()]
    assert raw.command("CONFIG", "GET", "nosuch") == []
    assert raw.command("CONFIG", "GET", "*max*bulk*") == [b"proto-max-bulk-len", b"536870912"]
    got = as_dict(raw.command("CONFIG", "GET", "maxclients", "hz", "nosuch", "databases"))
    assert got == {b"maxclients": b"10000", b"hz": b"10", b"databases": b"16"}
    assert raw.command("CONFIG", "GET") == Error("ERR wrong number of arguments for 'config|get' command")


@pytest.mark.parametrize("name,default", [
    ("protected-mode", b"yes"), ("dbfilename", b"dump.rdb"), ("timeout", b"0"), ("tcp-keepalive", b"300"),
    ("tcp-backlog", b"511"), ("requirepass", b""), ("client-query-buffer-limit", b"1073741824"),
    ("loglevel", b"notice"), ("logfile", b""), ("daemonize", b"no"), ("active-expire-effort", b"1"),
    ("databases", b"16"), ("hz", b"10"),
])
def test_config_defaults(raw, name, default):
    assert raw.command("CONFIG", "GET", name) == [name.encode(), default]


def test_config_set_and_get_back(raw):
    try:
        assert raw.command("CONFIG", "SET", "hz", "20", "timeout", "7") == "OK"
        assert as_dict(raw.command("CONFIG", "GET", "hz", "timeout")) == {b"hz": b"20", b"timeout": b"7"}
        assert raw.command("CONFIG", "SET", "hz", "1000") == "OK"  # clamped, not refused
        assert raw.command("CONFIG", "GET", "hz") == [b"hz", b"500"]
        assert raw.command("CONFIG", "SET", "proto-max-bulk-len", "2mb") == "OK"
        assert raw.command("CONFIG", "GET", "proto-max-bulk-len") == [b"proto-max-bulk-len", b"2097152"]
        assert raw.command("CONFIG", "SET", "MAXCLIENTS", "500") == "OK"  # names are case-insensitive
        assert raw.command("CONFIG", "GET", "maxclients") == [b"maxclients", b"500"]
        assert raw.command("CONFIG", "SET", "loglevel", "warning") == "OK"
        assert raw.command("CONFIG", "SET", "active-expire-effort", "5") == "OK"
    finally:
        raw.command("CONFIG", "SET", "hz", "10", "timeout", "0", "proto-max-bulk-len", "512mb",
                    "maxclients", "10000", "loglevel", "notice", "active-expire-effort", "1")
    assert as_dict(raw.command("CONFIG", "GET", "hz", "timeout", "maxclients")) == \
        {b"hz": b"10", b"timeout": b"0", b"maxclients": b"10000"}


@pytest.mark.parametrize("args,error", [
    (["timeout", "abc"], config_set_failed("timeout", "argument couldn't be parsed into an integer")),
    (["maxclients", "0"], config_set_failed("maxclients", "argument must be between 1 and 4294967295 inclusive")),
    (["loglevel", "chatty"], config_set_failed(
        "loglevel", "argument(s) must be one of the following: debug, verbose, notice, warning")),
    (["protected-mode", "maybe"], config_set_failed("protected-mode", "argument must be 'yes' or 'no'")),
    (["proto-max-bulk-len", "1000"], config_set_failed(
        "proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive")),
    (["active-expire-effort", "11"], config_set_failed(
        "active-expire-effort", "argument must be between 1 and 10 inclusive")),
    (["databases", "3"], config_set_failed("databases", "can't set immutable config")),
    (["daemonize", "yes"], config_set_failed("daemonize", "can't set immutable config")),
    (["dbfilename", "other.rdb"], config_set_failed("dbfilename", "can't set protected config")),
    (["hz", "20", "hz", "30"], config_set_failed("hz", "duplicate parameter")),
    (["nosuch", "1"], Error("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")),
    (["hz", "20", "maxclients"], Error("ERR syntax error")),
    (["hz"], Error("ERR wrong number of arguments for 'config|set' command")),
])
def test_config_set_errors(raw, args, error):
    assert raw.command("CONFIG", "SET", *args) == error
    assert raw.command("CONFIG", "GET", "hz") == [b"hz", b"10"]  # a failed SET changes nothing


def test_config_set_timeout_closes_idle_clients(server_factory):
    s = server_factory()
    with s.raw() as admin:
        assert admin.command("CONFIG", "SET", "timeout", "1") == "OK"
    with s.raw() as idle:
        assert idle.command("PING") == "PONG"
        assert idle.is_closed(timeout=30)
    with s.raw() as c:
        assert c.command("CONFIG", "SET", "timeout", "0") == "OK"


def test_config_resetstat(raw):
    raw.command("GET", "missing")
    assert raw.command("CONFIG", "RESETSTAT") == "OK"
    stats = info_fields(raw.command("INFO", "stats"))
    assert stats["keyspace_misses"] == "0"
    assert stats["keyspace_hits"] == "0"


def test_config_rewrite_without_file(raw):
    assert raw.command("CONFIG", "REWRITE") == Error("ERR The server is running without a config file")


def test_config_file_and_rewrite(server_factory):
    s = server_factory(config_text="# test config\nhz 15\ntimeout 42\n")
    with s.raw() as c:
        assert c.command("CONFIG", "GET", "hz") == [b"hz", b"15"]
        assert c.command("CONFIG", "GET", "timeout") == [b"timeout", b"42"]
        assert c.command("CONFIG", "SET", "hz", "25") == "OK"
        assert c.command("CONFIG", "REWRITE") == "OK"
    text = open(os.path.join(s.dir, "server.conf")).read()
    lines = [ln.strip() for ln in text.splitlines()]
    assert "hz 25" in lines
    assert "timeout 42" in lines
    assert "hz 15" not in lines


def test_bad_config_refuses_to_start(server_factory):
    with pytest.raises(RuntimeError, match="exited with status 1"):
        server_factory("--hz", "abc")
    with pytest.raises(RuntimeError, match="exited with status 1"):
        server_factory("--no-such-directive", "1")


# -- INFO


def info_fields(text):
    if isinstance(text, bytes):
        text = text.decode()
    fields = {}
    for line in text.split("\r\n"):
        if line and not line.startswith("#"):
            k, _, v = line.partition(":")
            fields[k] = v
    return fields


def info_sections(text):
    return [ln[2:] for ln in text.decode().split("\r\n") if ln.startswith("# ")]


def test_info_lines_end_in_crlf(raw):
    text = raw.command("INFO", "everything")
    assert text.endswith(b"\r\n")
    assert b"\n" not in text.replace(b"\r\n", b"")
    for line in text.split(b"\r\n"):
        assert line == b"" or line.startswith(b"# ") or b":" in line, line


def test_info_default_sections(raw):
    sections = info_sections(raw.command("INFO"))
    for name in ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Keyspace"]:
        assert name in sections
    assert "Commandstats" not in sections
    every = info_sections(raw.command("INFO", "everything"))
    assert "Commandstats" in every
    assert "Commandstats" in info_sections(raw.command("INFO", "all"))


def test_info_server_fields(raw, server):
    f = info_fields(raw.command("INFO", "server"))
    assert f["redis_version"].count(".") == 2
    assert f["redis_mode"] == "standalone"
    assert f["tcp_port"] == str(server.port)
    assert f["process_id"] == str(server.pid)
    assert len(f["run_id"]) == 40
    assert int(f["uptime_in_seconds"]) >= 0
    assert f["hz"] == "10"
    assert f["arch_bits"] == "64"
    assert "config_file" in f


def test_info_other_sections(raw):
    clients = info_fields(raw.command("INFO", "clients"))
    assert int(clients["connected_clients"]) >= 1
    assert clients["maxclients"] == "10000"
    assert "blocked_clients" in clients
    memory = info_fields(raw.command("INFO", "memory"))
    assert int(memory["used_memory"]) > 0
    assert "used_memory_human" in memory and "maxmemory" in memory and "maxmemory_policy" in memory
    persistence = info_fields(raw.command("INFO", "persistence"))
    assert persistence["loading"] == "0"
    stats = info_fields(raw.command("INFO", "stats"))
    for k in ["total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec",
              "rejected_connections", "expired_keys", "evicted_keys", "keyspace_hits", "keyspace_misses"]:
        assert k in stats, k
    assert info_fields(raw.command("INFO", "replication"))["role"] == "master"
    cpu = info_fields(raw.command("INFO", "cpu"))
    assert float(cpu["used_cpu_sys"]) >= 0 and float(cpu["used_cpu_user"]) >= 0
    assert info_fields(raw.command("INFO", "cluster"))["cluster_enabled"] == "0"


def test_info_multiple_and_unknown_sections(raw):
    assert info_sections(raw.command("INFO", "server", "clients")) == ["Server", "Clients"]
    assert info_sections(raw.command("INFO", "CLIENTS")) == ["Clients"]
    assert raw.command("INFO", "nosuchsection") == b""


def test_info_keyspace(raw):
    assert raw.command("INFO", "keyspace") == b"# Keyspace\r\n"
    raw.command("MSET", "a", "1", "b", "2")
    raw.command("SELECT", "3")
    raw.command("SET", "c", "3", "EX", "1000")
    f = info_fields(raw.command("INFO", "keyspace"))
    assert f["db0"] == "keys=2,expires=0,avg_ttl=0"
    assert f["db3"].startswith("keys=1,expires=1,avg_ttl=")
    assert "db1" not in f


def test_info_hits_misses_and_commandstats(raw):
    raw.command("CONFIG", "RESETSTAT")
    raw.command("SET", "k", "v")
    raw.command("GET", "k")
    raw.command("GET", "k")
    raw.command("GET", "missing")
    stats = info_fields(raw.command("INFO", "stats"))
    assert stats["keyspace_hits"] == "2"
    assert stats["keyspace_misses"] == "1"
    cmdstats = info_fields(raw.command("INFO", "commandstats"))
    get = dict(kv.split("=") for kv in cmdstats["cmdstat_get"].split(","))
    assert get["calls"] == "3"
    assert {"usec", "usec_per_call", "rejected_calls", "failed_calls"} <= set(get)
    raw.command("INCR", "k")  # fails: not an integer
    raw.command("NOSUCH")
    errs = info_fields(raw.command("INFO", "errorstats"))
    assert errs["errorstat_ERR"] == "count=2"
    cmdstats = info_fields(raw.command("INFO", "commandstats"))
    incr = dict(kv.split("=") for kv in cmdstats["cmdstat_incr"].split(","))
    assert incr["failed_calls"] == "1"


def test_redis_py_info(r):
    info = r.info()
    assert info["redis_mode"] == "standalone"
    assert r.info("server")["tcp_port"] == r.connection_pool.connection_kwargs["port"]


# -- COMMAND

# name, arity, flags, first key, last key, step, ACL categories: Redis 7.0's values.
COMMAND_INFO = [
    ['get', 2, ['readonly', 'fast'], 1, 1, 1, ['@read', '@string', '@fast']],
    ['set', -3, ['write', 'denyoom'], 1, 1, 1, ['@write', '@string', '@slow']],
    ['setex', 4, ['write', 'denyoom'], 1, 1, 1, ['@write', '@string', '@slow']],
    ['getex', -2, ['write', 'fast'], 1, 1, 1, ['@write', '@string', '@fast']],
    ['getdel', 2, ['write', 'fast'], 1, 1, 1, ['@write', '@string', '@fast']],
    ['mset', -3, ['write', 'denyoom'], 1, -1, 2, ['@write', '@string', '@slow']],
    ['msetnx', -3, ['write', 'denyoom'], 1, -1, 2, ['@write', '@string', '@slow']],
    ['mget', -2, ['readonly', 'fast'], 1, -1, 1, ['@read', '@string', '@fast']],
    ['del', -2, ['write'], 1, -1, 1, ['@keyspace', '@write', '@slow']],
    ['unlink', -2, ['write', 'fast'], 1, -1, 1, ['@keyspace', '@write', '@fast']],
    ['exists', -2, ['readonly', 'fast'], 1, -1, 1, ['@keyspace', '@read', '@fast']],
    ['type', 2, ['readonly', 'fast'], 1, 1, 1, ['@keyspace', '@read', '@fast']],
    ['rename', 3, ['write'], 1, 2, 1, ['@keyspace', '@write', '@slow']],
    ['renamenx', 3, ['write', 'fast'], 1, 2, 1, ['@keyspace', '@write', '@fast']],
    ['copy', -3, ['write', 'denyoom'], 1, 2, 1, ['@keyspace', '@write', '@slow']],
    ['move', 3, ['write', 'fast'], 1, 1, 1, ['@keyspace', '@write', '@fast']],
    ['keys', 2, ['readonly'], 0, 0, 0, ['@keyspace', '@read', '@slow', '@dangerous']],
    ['scan', -2, ['readonly'], 0, 0, 0, ['@keyspace', '@read', '@slow']],
    ['randomkey', 1, ['readonly'], 0, 0, 0, ['@keyspace', '@read', '@slow']],
    ['touch', -2, ['readonly', 'fast'], 1, -1, 1, ['@keyspace', '@read', '@fast']],
    ['object|encoding', 3, ['readonly'], 2, 2, 1, ['@keyspace', '@read', '@slow']],
    ['expire', -3, ['write', 'fast'], 1, 1, 1, ['@keyspace', '@write', '@fast']],
    ['pexpireat', -3, ['write', 'fast'], 1, 1, 1, ['@keyspace', '@write', '@fast']],
    ['ttl', 2, ['readonly', 'fast'], 1, 1, 1, ['@keyspace', '@read', '@fast']],
    ['persist', 2, ['write', 'fast'], 1, 1, 1, ['@keyspace', '@write', '@fast']],
    ['expiretime', 2, ['readonly', 'fast'], 1, 1, 1, ['@keyspace', '@read', '@fast']],
    ['incr', 2, ['write', 'denyoom', 'fast'], 1, 1, 1, ['@write', '@string', '@fast']],
    ['incrbyfloat', 3, ['write', 'denyoom', 'fast'], 1, 1, 1, ['@write', '@string', '@fast']],
    ['append', 3, ['write', 'denyoom', 'fast'], 1, 1, 1, ['@write', '@string', '@fast']],
    ['getrange', 4, ['readonly'], 1, 1, 1, ['@read', '@string', '@slow']],
    ['setrange', 4, ['write', 'denyoom'], 1, 1, 1, ['@write', '@string', '@slow']],
    ['lcs', -3, ['readonly'], 1, 2, 1, ['@read', '@string', '@slow']],
    ['setbit', 4, ['write', 'denyoom'], 1, 1, 1, ['@write', '@bitmap', '@slow']],
    ['getbit', 3, ['readonly', 'fast'], 1, 1, 1, ['@read', '@bitmap', '@fast']],
    ['bitcount', -2, ['readonly'], 1, 1, 1, ['@read', '@bitmap', '@slow']],
    ['bitpos', -3, ['readonly'], 1, 1, 1, ['@read', '@bitmap', '@slow']],
    ['bitop', -4, ['write', 'denyoom'], 2, -1, 1, ['@write', '@bitmap', '@slow']],
    ['strlen', 2, ['readonly', 'fast'], 1, 1, 1, ['@read', '@string', '@fast']],
    ['select', 2, ['loading', 'stale', 'fast'], 0, 0, 0, ['@fast', '@connection']],
    ['swapdb', 3, ['write', 'fast'], 0, 0, 0, ['@keyspace', '@write', '@fast', '@dangerous']],
    ['dbsize', 1, ['readonly', 'fast'], 0, 0, 0, ['@keyspace', '@read', '@fast']],
    ['flushall', -1, ['write'], 0, 0, 0, ['@keyspace', '@write', '@slow', '@dangerous']],
    ['ping', -1, ['fast'], 0, 0, 0, ['@fast', '@connection']],
    ['echo', 2, ['loading', 'stale', 'fast'], 0, 0, 0, ['@fast', '@connection']],
    ['hello', -1, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], 0, 0, 0,
     ['@fast', '@connection']],
    ['auth', -2, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], 0, 0, 0,
     ['@fast', '@connection']],
    ['client|list', -2, ['admin', 'noscript', 'loading', 'stale'], 0, 0, 0,
     ['@admin', '@slow', '@dangerous', '@connection']],
    ['config|get', -3, ['admin', 'noscript', 'loading', 'stale'], 0, 0, 0, ['@admin', '@slow', '@dangerous']],
    ['info', -1, ['loading', 'stale'], 0, 0, 0, ['@slow', '@dangerous']],
    ['command|getkeys', -4, ['loading', 'stale'], 0, 0, 0, ['@slow', '@connection']],
]


def _text(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, list):
        return [_text(x) for x in v]
    return v


@pytest.mark.parametrize("expected", COMMAND_INFO, ids=[e[0] for e in COMMAND_INFO])
def test_command_info(raw, expected):
    reply = raw.command("COMMAND", "INFO", expected[0])
    assert len(reply) == 1 and isinstance(reply[0], list)
    info = _text(reply[0])
    assert info[:7] == expected
    assert len(info) == 10  # + tips, key specs, subcommands


def test_command_info_unknown_and_many(raw):
    assert raw.command("COMMAND", "INFO", "nosuch") == [None]
    reply = raw.command("COMMAND", "INFO", "get", "nosuch", "set")
    assert [r[0] if r else None for r in reply] == [b"get", None, b"set"]


def test_command_count_and_list(raw):
    count = raw.command("COMMAND", "COUNT")
    assert isinstance(count, int) and count > 20
    everything = raw.command("COMMAND")
    assert len(everything) == count
    names = {_text(c[0]) for c in everything}
    assert {"get", "set", "ping", "command", "config", "client"} <= names
    listed = {_text(n) for n in raw.command("COMMAND", "LIST")}
    assert names <= listed
    assert set(_text(raw.command("COMMAND", "LIST", "FILTERBY", "PATTERN", "getd*"))) == {"getdel"}


def test_command_docs(raw):
    docs = raw.command("COMMAND", "DOCS", "get")
    assert docs[0] == b"get"
    fields = as_dict(docs[1])
    assert fields[b"summary"]
    assert fields[b"group"] == b"string"
    assert fields[b"since"] == b"1.0.0"
    assert raw.command("COMMAND", "DOCS", "nosuch") == []


@pytest.mark.parametrize("args,keys", [
    (["get", "k"], ["k"]),
    (["set", "k", "v", "GET"], ["k"]),
    (["mset", "a", "1", "b", "2"], ["a", "b"]),
    (["mget", "a", "b", "c"], ["a", "b", "c"]),
    (["lcs", "a", "b"], ["a", "b"]),
    (["bitop", "and", "d", "a", "b"], ["d", "a", "b"]),
    (["copy", "a", "b", "db", "1"], ["a", "b"]),
    (["rename", "a", "b"], ["a", "b"]),
    (["getex", "k", "ex", "1"], ["k"]),
    (["object", "encoding", "k"], ["k"]),
    (["expire", "k", "10"], ["k"]),
    (["exists", "a", "b", "c"], ["a", "b", "c"]),
    (["del", "x"], ["x"]),
])
def test_command_getkeys(raw, args, keys):
    assert _text(raw.command("COMMAND", "GETKEYS", *args)) == keys


def test_command_getkeys_errors(raw):
    assert raw.command("COMMAND", "GETKEYS", "ping", "x") == Error("ERR The command has no key arguments")
    assert raw.command("COMMAND", "GETKEYS", "foo", "x") == Error("ERR Invalid command specified")
    assert raw.command("COMMAND", "GETKEYS", "set", "k") == \
        Error("ERR Invalid number of arguments specified for command")
    assert raw.command("COMMAND", "GETKEYS", "get") == \
        Error("ERR wrong number of arguments for 'command|getkeys' command")
    assert raw.command("COMMAND", "FOO") == Error("ERR unknown subcommand 'FOO'. Try COMMAND HELP.")
