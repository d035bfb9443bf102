"""Keyspace notifications of the type-independent and string commands, compared with a real
redis-server 7.0 (notify.c semantics): the same commands run on both servers, and the events each
command publishes (channel, message, order) must be the same.

Every server of this file is started by it (whatever --both / --against-redis say) and stopped in
a `finally`. Waits poll a condition with a deadline; nothing sleeps a fixed time.

Where an exact per-command comparison is impossible (a key's time running out between two
commands, which key eviction picks) the comparison is over what was published in aggregate; each
such place says why.
"""
import contextlib
import time

import pytest

from keyspace_events import EventRecorder, compare_events, format_differences, start_pair
from resp import Error, encode
from serverproc import ServerProcess, require

POLL_CAP_SECONDS = 30.0

# Fixed in the future / in the past for both servers alike.
FUTURE_S = int(time.time()) + 100_000
FUTURE_MS = FUTURE_S * 1000 + 123
PAST_MS = 1000


def poll(predicate, what, cap=POLL_CAP_SECONDS):
    deadline = time.monotonic() + cap
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    assert predicate(), f"timed out waiting for {what}"


def start_pair_with(tmp_root, flags, *extra):
    """As keyspace_events.start_pair, with extra directives for both servers."""
    servers = [ServerProcess(require(kind), tmp_root, ["--notify-keyspace-events", flags, *extra])
               for kind in ("redis", "cairn")]
    try:
        for s in servers:
            s.start()
    except BaseException:
        for s in servers:
            s.stop()
        raise
    return servers


@contextlib.contextmanager
def pair(tmp_root, flags, deterministic=True):
    """(redis_recorder, cairn_recorder) on a fresh pair of servers started with `flags`.
    `deterministic`: DEBUG SET-ACTIVE-EXPIRE 0 on both, so a key past its time is reclaimed only
    by the command that touches it (lazily) and its "expired" event belongs to that command."""
    if deterministic:
        servers = start_pair_with(tmp_root, flags, "--enable-debug-command", "yes")
    else:
        servers = start_pair(tmp_root, flags)
    recorders = []
    try:
        for s in servers:
            recorders.append(EventRecorder(s))
        if deterministic:
            for rec in recorders:
                reply, _ = rec.run("DEBUG", "SET-ACTIVE-EXPIRE", "0")
                assert reply == "OK", reply
        yield recorders[0], recorders[1]
    finally:
        for rec in recorders:
            rec.close()
        for s in servers:
            s.stop()


def setup(recs, commands):
    """Runs set-up commands on both servers; their events are read and dropped."""
    for rec in recs:
        for cmd in commands:
            reply, _ = rec.run(*cmd)
            assert not isinstance(reply, Error), (cmd, reply)


def assert_same(redis_rec, cairn_rec, commands):
    """Runs `commands` on both; fails on any difference. Returns the events Redis published."""
    published = []
    original = redis_rec.run

    def run(*cmd):
        reply, events = original(*cmd)
        published.extend(events)
        return reply, events
    redis_rec.run = run
    try:
        differences = compare_events(redis_rec, cairn_rec, commands)
    finally:
        del redis_rec.run
    assert not differences, "events differ from Redis:\n" + format_differences(differences)
    return published


def dump_payloads(redis_rec):
    """DUMP payloads made by Redis (Cairn reads them byte for byte): a string and a list."""
    setup([redis_rec], [("SET", "__src_s", "payload"), ("RPUSH", "__src_l", "a", "b")])
    s, _ = redis_rec.run("DUMP", "__src_s")
    l, _ = redis_rec.run("DUMP", "__src_l")
    setup([redis_rec], [("DEL", "__src_s", "__src_l")])
    return s, l


# -- the command lists ---------------------------------------------------------------------------

SET_FAMILY = [
    ("SET", "s1", "v"),                       # new, set
    ("SET", "s1", "v2"),                      # overwrite: set only
    ("SET", "s2", "v", "NX"),
    ("SET", "s2", "v", "NX"),                 # not set: nothing
    ("SET", "s3", "v", "XX"),                 # not set: nothing
    ("SET", "s2", "w", "XX"),
    ("SET", "s4", "v", "GET"),                # keymiss, new, set
    ("SET", "s4", "w", "GET"),
    ("SET", "s4", "x", "NX", "GET"),          # not set
    ("SET", "s5", "v", "EX", "100"),          # new, set, expire
    ("SET", "s5", "v", "PX", "100000"),
    ("SET", "s5", "v", "EXAT", str(FUTURE_S)),
    ("SET", "s5", "v", "PXAT", str(FUTURE_MS)),
    ("SET", "s5", "v2", "KEEPTTL"),           # set only
    ("SET", "s5", "v3"),
    ("SET", "s6", "v", "NX", "GET", "EX", "100"),
    ("SET", "s6", "v", "XX", "GET", "PX", "100000"),
    ("SET", "s7", "v", "PXAT", str(PAST_MS)),  # Redis 7.0 sets it (already past): set, expire
    ("SET", "s5", "v", "EX", "0"),            # errors: nothing
    ("SET", "s5", "v", "EX", "x"),
    ("SET", "s5", "v", "KEEPTTL", "EX", "10"),
    ("SET", "s5", "v", "NX", "XX"),
    ("SETNX", "n1", "v"),
    ("SETNX", "n1", "v"),
    ("SETEX", "x1", "100", "v"),              # new, set, expire
    ("SETEX", "x1", "100", "w"),
    ("PSETEX", "x2", "100000", "v"),
    ("SETEX", "x1", "0", "v"),
    ("PSETEX", "x2", "-5", "v"),
    ("MSET", "m1", "1", "m2", "2", "m1", "3"),
    ("MSETNX", "m3", "1", "m4", "2"),
    ("MSETNX", "m4", "1", "m5", "2"),         # m4 exists: nothing
    ("GETSET", "m1", "9"),
    ("GETSET", "g1", "9"),                    # keymiss, new, set
    ("SET", "x1", "v", "EX", "100"),
    ("GETSET", "x1", "w"),                    # drops the TTL: set only
    ("GETDEL", "m1"),
    ("GETDEL", "m1"),                         # keymiss only
    ("GET", "m1"),
    ("GET", "m2"),
    ("MGET", "m2", "nokey1", "m3", "nokey2"),
]

GETEX_FAMILY = [
    ("SET", "ge", "v"),
    ("GETEX", "ge"),
    ("GETEX", "ge", "EX", "100"),
    ("GETEX", "ge", "PX", "100000"),
    ("GETEX", "ge", "EXAT", str(FUTURE_S)),
    ("GETEX", "ge", "PXAT", str(FUTURE_MS)),
    ("GETEX", "ge", "PERSIST"),
    ("GETEX", "ge", "PERSIST"),               # no TTL to remove: nothing
    ("GETEX", "ge", "EX", "0"),               # error after the read
    ("GETEX", "ge", "EX", "10", "PX", "10"),
    ("GETEX", "ge", "PXAT", str(PAST_MS)),    # already past: del
    ("GETEX", "ge"),
    ("SET", "ge2", "v"),
    ("GETEX", "ge2", "EXAT", "1"),            # del
    ("GETEX", "nokey", "EX", "10"),
    ("GETEX", "nokey", "PERSIST"),
]

COUNTERS_AND_RANGES = [
    ("INCR", "i"),                            # new, incrby
    ("INCR", "i"),
    ("DECR", "i"),                            # incrby (Redis names every one "incrby")
    ("INCRBY", "i", "10"),
    ("DECRBY", "i", "3"),
    ("DECRBY", "d", "3"),
    ("INCRBY", "i", "x"),
    ("INCRBY", "i", str(2 ** 63 - 1)),        # overflow: nothing
    ("DECRBY", "i", str(-2 ** 63)),
    ("INCRBYFLOAT", "i", "1.5"),
    ("INCRBYFLOAT", "f", "2.5"),              # new, incrbyfloat
    ("INCRBYFLOAT", "f", "x"),
    ("INCRBYFLOAT", "f", "inf"),
    ("INCR", "f"),                            # not an integer: nothing
    ("SET", "big", "1"),
    ("INCRBY", "big", "100000"),
    ("APPEND", "ap", "x"),                    # new, append
    ("APPEND", "ap", "y"),
    ("APPEND", "ap", ""),
    ("SETRANGE", "sr", "5", "x"),             # new, setrange
    ("SETRANGE", "sr", "0", "ab"),
    ("SETRANGE", "sr", "0", ""),              # nothing
    ("SETRANGE", "sr2", "3", ""),             # nothing, no key
    ("SETRANGE", "sr", "-1", "x"),
    ("SETRANGE", "i", "0", "9"),
    ("STRLEN", "sr"),
    ("STRLEN", "nokey"),
    ("GETRANGE", "nokey", "0", "1"),
    ("SUBSTR", "sr", "0", "1"),
    ("LCS", "sr", "nokey"),
]

BITS = [
    ("SETBIT", "bt", "7", "1"),               # new, setbit
    ("SETBIT", "bt", "7", "1"),               # unchanged: nothing
    ("SETBIT", "bt", "7", "0"),
    ("SETBIT", "bt", "100", "0"),             # grows: setbit
    ("SETBIT", "bt2", "0", "0"),              # new, setbit
    ("SETBIT", "bt", "1", "2"),
    ("SETBIT", "bt", "-1", "1"),
    ("SET", "bi", "12"),
    ("SETBIT", "bi", "0", "0"),               # int-encoded, bit already 0, same length: nothing
    ("GETBIT", "nokey", "1"),
    ("BITCOUNT", "nokey"),
    ("BITPOS", "nokey", "1"),
    ("BITOP", "AND", "dest", "bt", "bt2"),    # new, set
    ("BITOP", "OR", "dest", "bt", "nokey"),   # keymiss, set
    ("BITOP", "XOR", "dest", "nokey", "nokey2"),  # keymiss x2, del
    ("BITOP", "NOT", "dest", "nokey"),        # keymiss only
    ("BITOP", "NOT", "dest2", "bt"),
    ("BITOP", "NOT", "dest2", "bt", "bt2"),
    ("BITOP", "NAND", "dest2", "bt"),
]

KEYSPACE = [
    ("SET", "k1", "v"),
    ("SET", "k2", "v"),
    ("SET", "k3", "v"),
    ("DEL", "k1", "nokey", "k1", "k2"),
    ("DEL", "nokey"),
    ("UNLINK", "k3", "nokey"),
    ("SET", "k4", "v"),
    ("EXISTS", "k4", "nokey", "k4"),
    ("TYPE", "nokey"),
    ("TYPE", "k4"),
    ("TOUCH", "k4", "nokey"),
    ("OBJECT", "ENCODING", "nokey"),          # LOOKUP_NONOTIFY: no keymiss
    ("OBJECT", "REFCOUNT", "k4"),
    ("TTL", "nokey"),
    ("PTTL", "k4"),
    ("EXPIRETIME", "nokey"),
    ("PEXPIRETIME", "nokey"),
    ("DUMP", "nokey"),
    ("KEYS", "*"),
    ("SCAN", "0", "COUNT", "100"),
    # RENAME / RENAMENX
    ("SET", "r1", "v"),
    ("RENAME", "r1", "r2"),                   # new r2, rename_from r1, rename_to r2
    ("RENAME", "r2", "r2"),                   # same name: nothing
    ("RENAMENX", "r2", "r2"),
    ("RENAME", "nokey", "r9"),
    ("RENAMENX", "nokey", "r9"),
    ("SET", "r3", "v", "EX", "100"),
    ("SET", "r4", "w"),
    ("RENAME", "r3", "r4"),                   # onto an existing key, TTL moves along
    ("TTL", "r4"),
    ("RENAMENX", "r4", "r2"),                 # r2 exists: nothing
    ("RENAMENX", "r4", "r5"),
    # MOVE
    ("SET", "mv", "v", "EX", "100"),
    ("MOVE", "mv", "1"),                      # new in db 1, move_from db 0, move_to db 1
    ("MOVE", "mv", "1"),                      # gone from db 0: nothing
    ("SET", "mv", "v"),
    ("MOVE", "mv", "1"),                      # exists in db 1: nothing
    ("MOVE", "mv", "0"),
    ("MOVE", "mv", "99"),
    ("MOVE", "mv", "x"),
    # COPY
    ("SET", "c1", "v", "EX", "100"),
    ("COPY", "c1", "c2"),                     # new, copy_to
    ("COPY", "c1", "c2"),                     # exists: nothing
    ("COPY", "c1", "c2", "REPLACE"),          # new, copy_to
    ("COPY", "c1", "c3", "DB", "2"),          # in db 2
    ("COPY", "c1", "c3", "DB", "2"),
    ("COPY", "c1", "c3", "DB", "2", "REPLACE"),
    ("COPY", "nokey", "c4"),                  # keymiss (a read of the source)
    ("COPY", "nokey", "c4", "DB", "3"),
    ("COPY", "c1", "c1"),
    ("COPY", "c1", "c5", "DB", "99"),
    ("COPY", "c1", "c5", "BOGUS"),
    ("FLUSHDB",),                             # no events in 7.0
    ("SET", "sw", "v"),
    ("SWAPDB", "0", "1"),                     # no events in 7.0
    ("SWAPDB", "0", "1"),
]

EXPIRE_FAMILY = [
    ("SET", "e1", "v"),
    ("EXPIRE", "e1", "100"),
    ("EXPIRE", "e1", "100", "NX"),            # has a TTL: nothing
    ("EXPIRE", "e1", "200", "XX"),
    ("EXPIRE", "e1", "50", "GT"),             # not greater: nothing
    ("EXPIRE", "e1", "300", "GT"),
    ("EXPIRE", "e1", "400", "LT"),            # not less: nothing
    ("EXPIRE", "e1", "10", "LT"),
    ("PEXPIRE", "e1", "100000"),
    ("EXPIREAT", "e1", str(FUTURE_S)),
    ("PEXPIREAT", "e1", str(FUTURE_MS)),
    ("PEXPIREAT", "e1", str(FUTURE_MS), "XX", "GT"),
    ("PERSIST", "e1"),
    ("PERSIST", "e1"),                        # no TTL: nothing
    ("PERSIST", "nokey"),
    ("EXPIRE", "e1", "100", "XX"),            # no TTL: nothing
    ("EXPIRE", "e1", "100", "GT"),            # no TTL counts as infinite: nothing
    ("EXPIRE", "e1", "100", "LT"),
    ("EXPIRE", "e1", "-1"),                   # in the past: del
    ("EXPIRE", "nokey", "10"),                # write lookups: no keymiss
    ("SET", "e2", "v"),
    ("PEXPIREAT", "e2", "1"),                 # del
    ("SET", "e3", "v"),
    ("EXPIREAT", "e3", "0"),                  # del
    ("SET", "e4", "v"),
    ("EXPIRE", "e4", "0"),                    # del
    ("SET", "e5", "v"),
    ("PEXPIRE", "e5", "-100", "NX"),          # del
    ("SET", "e6", "v", "EX", "100"),
    ("EXPIRE", "e6", "-5", "GT"),             # not greater: nothing
    ("EXPIRE", "e6", "-5", "LT"),             # del
    ("EXPIRE", "e7", "10", "NX", "XX"),
    ("EXPIRE", "e7", "10", "GT", "LT"),
    ("EXPIRE", "e7", "10", "BOGUS"),
    ("EXPIRE", "e7", "x"),
    ("EXPIRE", "e7", str(2 ** 62)),
]


def restore_commands(string_payload, list_payload):
    return [
        ("RESTORE", "dr1", "0", string_payload),                  # new, restore
        ("RESTORE", "dr1", "0", string_payload),                  # BUSYKEY: nothing
        ("RESTORE", "dr1", "0", string_payload, "REPLACE"),       # new, restore
        ("RESTORE", "dr2", "100000", list_payload),               # new, restore (TTL)
        ("TTL", "dr2"),
        ("RESTORE", "dr3", str(FUTURE_MS), string_payload, "ABSTTL"),
        ("RESTORE", "dr1", "1", string_payload, "ABSTTL", "REPLACE"),  # past: del
        ("RESTORE", "dr4", "1", string_payload, "ABSTTL"),        # past, no key: nothing
        ("RESTORE", "dr5", "0", "garbage"),
        ("RESTORE", "dr5", "-1", string_payload),
        ("RESTORE", "dr5", "0", string_payload, "IDLETIME", "10"),
        ("RESTORE", "dr6", "0", string_payload, "FREQ", "5", "REPLACE"),
        ("DUMP", "dr5"),
        ("DUMP", "nokey"),
    ]


def wrong_type_commands():
    return [
        ("GET", "lst"),
        ("SET", "lst", "v", "GET"),
        ("GETSET", "lst", "v"),
        ("GETDEL", "lst"),
        ("GETEX", "lst", "EX", "10"),
        ("INCR", "lst"),
        ("INCRBYFLOAT", "lst", "1"),
        ("APPEND", "lst", "x"),
        ("SETRANGE", "lst", "0", "x"),
        ("SETBIT", "lst", "0", "1"),
        ("BITOP", "AND", "d", "lst"),
        ("STRLEN", "lst"),
        ("MGET", "lst"),
        ("EXPIRE", "lst", "100"),                 # generic commands work on any type
        ("PERSIST", "lst"),
        ("RENAME", "lst", "lst2"),
        ("COPY", "lst2", "lst3"),
        ("MOVE", "lst3", "4"),
        ("SET", "lst2", "v"),                     # overwrite of another type: set only
        ("DEL", "lst2", "lst3"),
    ]


ALL_LISTS = [SET_FAMILY, GETEX_FAMILY, COUNTERS_AND_RANGES, BITS, KEYSPACE, EXPIRE_FAMILY]


def run_everything(redis_rec, cairn_rec):
    """All the lists; returns the set of event names Redis published (one run of each list)."""
    published = []
    for commands in ALL_LISTS:
        published += assert_same(redis_rec, cairn_rec, commands)
    string_payload, list_payload = dump_payloads(redis_rec)
    published += assert_same(redis_rec, cairn_rec, restore_commands(string_payload, list_payload))
    setup([redis_rec, cairn_rec], [("RPUSH", "lst", "a", "b")])
    published += assert_same(redis_rec, cairn_rec, wrong_type_commands())
    return {event_name(channel, message) for channel, message in published}


def event_name(channel, message):
    return message if channel.startswith("__keyspace@") else channel.split("__:", 1)[1]


# What the lists make Redis publish (so a silent server cannot pass): every event of these
# commands and its class letter.
EVENT_CLASSES = {
    "new": "n", "keymiss": "m", "set": "$", "setrange": "$", "incrby": "$", "incrbyfloat": "$",
    "append": "$", "setbit": "$", "del": "g", "expire": "g", "persist": "g", "rename_from": "g",
    "rename_to": "g", "move_from": "g", "move_to": "g", "copy_to": "g", "restore": "g",
    "expired": "x",
}


def expected_events(flags):
    if "K" not in flags and "E" not in flags:
        return set()
    classes = set(flags.replace("A", "g$lshzxetd"))
    # ("expired": SCAN in KEYSPACE reclaims s7, set already past its time by SET_FAMILY)
    return {e for e, c in EVENT_CLASSES.items() if c in classes}


# -- tests ---------------------------------------------------------------------------------------

# Every class plus n (new) and m (keymiss). With A the printed setting is "AKEm" (Redis's
# keyspaceEventsFlagsToString drops n next to A) but n still counts, in Redis as in Cairn.
EVERY_CLASS_WITH_NEW_AND_MISS = "KEAnm"


def test_every_command_with_new_and_keymiss(_tmp_root):
    """Every class plus n (new) and m (keymiss): the most events per command."""
    with pair(_tmp_root, EVERY_CLASS_WITH_NEW_AND_MISS) as (redis_rec, cairn_rec):
        assert run_everything(redis_rec, cairn_rec) == expected_events(EVERY_CLASS_WITH_NEW_AND_MISS)


@pytest.mark.parametrize("flags", ["KEA", "E$", "Kg", "Kx", "En", "Km", "Ee", "", "KEg$xenm"])
def test_flag_combinations(_tmp_root, flags):
    with pair(_tmp_root, flags) as (redis_rec, cairn_rec):
        assert run_everything(redis_rec, cairn_rec) == expected_events(flags)


def test_events_go_to_the_key_database(_tmp_root):
    with pair(_tmp_root, EVERY_CLASS_WITH_NEW_AND_MISS) as (redis_rec, cairn_rec):
        assert_same(redis_rec, cairn_rec, [
            ("SELECT", "5"),
            ("SET", "k", "v", "EX", "100"),
            ("GET", "nokey"),
            ("MOVE", "k", "3"),
            ("SELECT", "3"),
            ("COPY", "k", "k2", "DB", "7"),
            ("RENAME", "k", "k3"),
            ("DEL", "k3"),
            ("SELECT", "7"),
            ("EXPIRE", "k2", "-1"),
        ])


def test_lazy_expiry_on_access(_tmp_root):
    """Keys past their time (active expiry off): the command that touches one reclaims it and
    publishes "expired" (then "keymiss" for a read, "new" for a write that creates it again)."""
    with pair(_tmp_root, EVERY_CLASS_WITH_NEW_AND_MISS) as (redis_rec, cairn_rec):
        names = ["get", "set", "del", "exists", "incr", "rename", "expire", "persist", "ttl", "copy",
                 "setbit", "append", "getex", "touch", "type", "object", "dump", "mget", "scan",
                 "scantype", "randomkey", "renamedst", "copydst", "setnx", "restore",
                 "getset", "bitop"]
        at = int(time.time() * 1000) + 50
        keys = [("SET", f"x:{n}", "v", "PXAT", str(at)) for n in names]
        setup([redis_rec, cairn_rec], keys + [("SET", "live", "v"), ("SELECT", "9")] + [
            ("SET", "x:renamedst", "v", "PXAT", str(at)), ("SELECT", "0")])

        def gone(rec):
            reply, events = rec.run("KEYS", "x:*")  # skips expired keys, never reclaims them
            assert events == []
            return reply == []
        poll(lambda: gone(redis_rec) and gone(cairn_rec), "the keys' time to run out")
        payload, _ = dump_payloads(redis_rec)
        published = assert_same(redis_rec, cairn_rec, [
            ("GET", "x:get"),
            ("SET", "x:set", "w"),
            ("DEL", "x:del"),
            ("EXISTS", "x:exists"),
            ("INCR", "x:incr"),
            ("RENAME", "x:rename", "y"),
            ("EXPIRE", "x:expire", "100"),
            ("PERSIST", "x:persist"),
            ("TTL", "x:ttl"),
            ("COPY", "x:copy", "y2"),
            ("SETBIT", "x:setbit", "3", "1"),
            ("APPEND", "x:append", "z"),
            ("GETEX", "x:getex", "PERSIST"),
            ("TOUCH", "x:touch"),
            ("TYPE", "x:type"),
            ("OBJECT", "ENCODING", "x:object"),
            ("DUMP", "x:dump"),
            ("MGET", "x:mget", "live"),
            ("RENAME", "live", "x:renamedst"),
            ("COPY", "x:renamedst", "x:copydst"),
            ("SETNX", "x:setnx", "v"),
            ("RESTORE", "x:restore", "0", payload),
            ("GETSET", "x:getset", "v"),
            ("BITOP", "AND", "x:bitop", "x:bitop"),
            ("MOVE", "x:renamedst", "9"),     # the expired key in db 9 goes first
        ])
        expired = [m for ch, m in published if ch == "__keyevent@0__:expired"]
        assert len(expired) == 24 and len(set(expired)) == 24, expired  # every x: key touched above
        assert ("__keyevent@9__:expired", "x:renamedst") in published
        # SCAN reclaims the expired keys it returns; with one key left deterministic.
        setup([redis_rec, cairn_rec], [("FLUSHALL",), ("SET", "x:scan", "v", "PXAT", str(PAST_MS))])
        assert_same(redis_rec, cairn_rec, [("SCAN", "0", "COUNT", "100")])
        setup([redis_rec, cairn_rec], [("SET", "x:scantype", "v", "PXAT", str(PAST_MS))])
        assert_same(redis_rec, cairn_rec, [("SCAN", "0", "TYPE", "string")])
        setup([redis_rec, cairn_rec], [("SET", "x:randomkey", "v", "PXAT", str(PAST_MS))])
        assert_same(redis_rec, cairn_rec, [("RANDOMKEY",), ("RANDOMKEY",)])


def collect_until(rec, predicate_cmd, done, what):
    """Runs `predicate_cmd` until `done(reply)`; returns every event published meanwhile."""
    events = []

    def check():
        reply, evs = rec.run(*predicate_cmd)
        events.extend(evs)
        return done(reply)
    poll(check, what)
    return events


@pytest.mark.parametrize("probe", ["EXISTS", "DBSIZE"])
def test_expiry_by_time(_tmp_root, probe):
    """A key given PX 50, polled until gone: with EXISTS the key may be reclaimed by the probe
    (lazily) or by the active cycle, with DBSIZE (no lookup) only by the active cycle. Which
    command's window the event lands in depends on timing, so the events are compared as the
    whole sequence published while polling (flags without m: a lazy reclaim then publishes what
    an active one does)."""
    with pair(_tmp_root, "KEA", deterministic=False) as (redis_rec, cairn_rec):
        results = []
        for rec in (redis_rec, cairn_rec):
            setup([rec], [("SET", "tmp", "v", "PX", "50"), ("SET", "keep", "v")])
            if probe == "EXISTS":
                evs = collect_until(rec, ("EXISTS", "tmp"), lambda r: r == 0, "the key to expire")
            else:
                evs = collect_until(rec, ("DBSIZE",), lambda r: r == 1, "the key to expire")
            results.append(evs)
        expected = [("__keyspace@0__:tmp", "expired"), ("__keyevent@0__:expired", "tmp")]
        assert results[0] == expected, results[0]
        assert results[1] == expected, results[1]


def test_active_expiry_in_other_databases(_tmp_root):
    """The active cycle publishes "expired" for the key's own database (order across keys
    depends on sampling: compared as sets)."""
    with pair(_tmp_root, "Ex", deterministic=False) as (redis_rec, cairn_rec):
        results = []
        for rec in (redis_rec, cairn_rec):
            setup([rec], [("SELECT", "3"), ("SET", "a", "v", "PX", "30"), ("SELECT", "12"),
                          ("SET", "b", "v", "PX", "30"), ("SET", "c", "v", "PX", "30"), ("SELECT", "0")])
            evs = []

            def all_three_published():
                evs.extend(rec.run("PING")[1])  # PING: no lookup, so only the active cycle reclaims
                return len(evs) >= 3
            poll(all_three_published, "active expiry")
            results.append(sorted(evs))
        expected = sorted([("__keyevent@3__:expired", "a"), ("__keyevent@12__:expired", "b"),
                           ("__keyevent@12__:expired", "c")])
        assert results[0] == expected
        assert results[1] == expected


@pytest.mark.parametrize("policy", ["allkeys-random", "allkeys-lru"])
def test_eviction(_tmp_root, policy):
    """Which keys eviction picks differs between the servers, so the comparison is: every event
    is "evicted" (on both channels, keyspace then keyevent per key), for a key that was written,
    one per evicted key (INFO's evicted_keys), and both servers evict some."""
    with pair(_tmp_root, "KEe", deterministic=False) as (redis_rec, cairn_rec):
        for rec in (redis_rec, cairn_rec):
            reply, _ = rec.run("CONFIG", "SET", "maxmemory-policy", policy)
            assert reply == "OK"
            info, _ = rec.run("INFO", "memory")
            used = int(dict(line.split(":", 1) for line in info.decode().split("\r\n")
                            if ":" in line)["used_memory"])
            reply, _ = rec.run("CONFIG", "SET", "maxmemory", str(used + 1024 * 1024))
            assert reply == "OK"
            written = set()
            events = []
            value = "x" * 1000
            for i in range(3000):
                key = f"ev:{i}"
                written.add(key)
                reply, evs = rec.run("SET", key, value)
                assert reply == "OK", reply
                events.extend(evs)
            reply, _ = rec.run("CONFIG", "SET", "maxmemory", "0")
            stats, _ = rec.run("INFO", "stats")
            evicted = int(dict(line.split(":", 1) for line in stats.decode().split("\r\n")
                               if ":" in line)["evicted_keys"])
            assert evicted > 0, rec
            assert len(events) == 2 * evicted
            keys = []
            for j in range(0, len(events), 2):
                (ch1, msg1), (ch2, msg2) = events[j], events[j + 1]
                assert ch1.startswith("__keyspace@0__:") and msg1 == "evicted", events[j]
                key = ch1[len("__keyspace@0__:"):]
                assert (ch2, msg2) == ("__keyevent@0__:evicted", key), events[j + 1]
                assert key in written
                keys.append(key)
            assert len(set(keys)) == len(keys)
            reply, _ = rec.run("EXISTS", *keys[:50])
            assert reply == 0


def test_config_set_changes_classes_at_run_time(_tmp_root):
    with pair(_tmp_root, "") as (redis_rec, cairn_rec):
        assert_same(redis_rec, cairn_rec, [
            ("SET", "k", "v"),
            ("CONFIG", "SET", "notify-keyspace-events", "KEA"),
            ("SET", "k", "v", "EX", "100"),
            ("GET", "nokey"),
            ("CONFIG", "SET", "notify-keyspace-events", "Eg"),
            ("SET", "k", "v", "EX", "100"),
            ("DEL", "k"),
            ("CONFIG", "SET", "notify-keyspace-events", "K$n"),
            ("SET", "k", "v", "EX", "100"),
            ("INCR", "n"),
            ("CONFIG", "SET", "notify-keyspace-events", "Km"),
            ("GET", "nokey"),
            ("CONFIG", "SET", "notify-keyspace-events", "KEAn"),  # printed "AKE": n still counts
            ("SET", "fresh", "v"),
            ("GET", "nokey"),
            ("CONFIG", "SET", "notify-keyspace-events", "g"),  # neither K nor E: nothing
            ("DEL", "k", "n"),
            ("CONFIG", "SET", "notify-keyspace-events", "KEA?"),  # error, unchanged
            ("SET", "k", "v"),
            ("CONFIG", "SET", "notify-keyspace-events", ""),
            ("SET", "k", "v"),
            ("DEL", "k"),
            ("CONFIG", "GET", "notify-keyspace-events"),
        ])
        for flags, printed in (("KEAnm", b"AKEm"), ("g$xn", b"g$xn"), ("Ex", b"xE")):
            for rec in (redis_rec, cairn_rec):
                rec.run("CONFIG", "SET", "notify-keyspace-events", flags)
                reply, _ = rec.run("CONFIG", "GET", "notify-keyspace-events")
                assert reply == [b"notify-keyspace-events", printed], (flags, reply)


def test_inside_multi(_tmp_root):
    """Events of queued commands are published when EXEC runs them, in order (Cairn has no
    scripting, so EVAL is not compared). (The recorder's marker PUBLISH would be queued inside MULTI, so the transaction
    goes through the recorder's driver connection directly and a PING collects its events.)"""
    transaction = [("MULTI",), ("SET", "k", "v"), ("EXPIRE", "k", "100"), ("RENAME", "k", "k2"),
                   ("GET", "nokey"), ("INCR", "k2"), ("DEL", "k2"), ("EXEC",)]
    with pair(_tmp_root, EVERY_CLASS_WITH_NEW_AND_MISS) as (redis_rec, cairn_rec):
        results = []
        for rec in (redis_rec, cairn_rec):
            for cmd in transaction:
                rec.driver.command(*cmd)
            results.append(rec.run("PING")[1])
        assert results[0] == results[1], f"redis: {results[0]}\ncairn: {results[1]}"
        assert len(results[0]) == 16  # new set expire new rename_from rename_to keymiss del, K and E


def test_migrate_deletes_with_del_events(_tmp_root):
    """MIGRATE without COPY publishes "del" for each key the target took; a missing key is a
    read miss ("keymiss")."""
    target = ServerProcess(require("redis"), _tmp_root, [])
    target.start()
    try:
        with pair(_tmp_root, EVERY_CLASS_WITH_NEW_AND_MISS) as (redis_rec, cairn_rec):
            setup([redis_rec, cairn_rec], [("SET", "a", "1"), ("SET", "b", "2"), ("SET", "c", "3", "EX", "100")])
            host, port = "127.0.0.1", str(target.port)

            def commands(db):
                return [("MIGRATE", host, port, "a", db, "5000"),
                        ("MIGRATE", host, port, "nokey", db, "5000"),
                        ("MIGRATE", host, port, "", db, "5000", "COPY", "KEYS", "b", "nokey"),
                        ("MIGRATE", host, port, "", db, "5000", "REPLACE", "KEYS", "b", "c", "nokey"),
                        ("MIGRATE", host, port, "a", db, "5000")]
            # Each server migrates into its own database of the target, so their keys don't collide
            # (the database number is not part of any event of the source).
            differences = []
            for r_cmd, c_cmd in zip(commands("1"), commands("2")):
                r_reply, r_events = redis_rec.run(*r_cmd)
                c_reply, c_events = cairn_rec.run(*c_cmd)
                if r_events != c_events or isinstance(r_reply, Error) != isinstance(c_reply, Error):
                    differences.append((r_cmd, r_reply, r_events, c_reply, c_events))
            assert not differences, "events differ from Redis:\n" + format_differences(differences)
    finally:
        target.stop()


def test_resp3_client_sees_its_own_events_in_redis_order(_tmp_root):
    """A RESP3 client subscribed to the events of the commands it runs gets each push before or
    after the command's reply where Redis puts it (e.g. EXPIRE replies first, INCR publishes
    first, GETSET replies with the old value before publishing)."""
    commands = [
        ("SET", "k", "1"), ("INCR", "k"), ("INCR", "n"), ("APPEND", "k", "0"), ("APPEND", "a", "x"),
        ("EXPIRE", "k", "100"), ("PERSIST", "k"), ("GETSET", "k", "5"), ("GETSET", "g", "5"),
        ("GETEX", "k", "EX", "100"), ("GETEX", "k", "PERSIST"), ("GETDEL", "g"), ("SETRANGE", "k", "3", "x"),
        ("SET", "k", "v", "GET", "EX", "10"), ("INCRBYFLOAT", "f", "1.5"), ("SETBIT", "b", "3", "1"),
        ("BITOP", "OR", "d", "b", "nokey"), ("MSET", "m", "1", "k", "2"), ("COPY", "k", "k2"),
        ("RENAME", "k2", "k3"), ("MOVE", "k3", "1"), ("EXPIRE", "k", "-1"), ("GET", "nokey"),
        ("DEL", "m", "nokey", "a"), ("SETNX", "s", "1"), ("SETEX", "s", "10", "2"),
    ]
    servers = start_pair_with(_tmp_root, EVERY_CLASS_WITH_NEW_AND_MISS)
    conns = []
    try:
        transcripts = []
        for s in servers:
            c = s.raw()
            conns.append(c)
            assert isinstance(c.command("HELLO", "3"), dict)
            c.command("PSUBSCRIBE", "__key*@*__:*")
            transcript = []
            for cmd in commands:
                c.send(encode(*cmd) + encode("PING"))
                items = []
                while True:
                    item = c.read_reply()
                    if item == "PONG":
                        break
                    items.append(("push", [bytes(x) for x in item]) if isinstance(item, list) else
                                 ("reply", "error" if isinstance(item, Error) else "ok"))
                transcript.append((cmd, items))
            transcripts.append(transcript)
        differences = [(r, c) for r, c in zip(*transcripts) if r != c]
        assert not differences, "\n".join(f"redis: {r}\ncairn: {c}" for r, c in differences)
    finally:
        for c in conns:
            c.close()
        for s in servers:
            s.stop()


def replication_offsets_match(master_rec, replica_rec):
    def offset(rec, field):
        text, _ = rec.run("INFO", "replication")
        fields = dict(line.split(":", 1) for line in text.decode().split("\r\n") if ":" in line)
        return fields.get(field)
    # (the recorders' marker PUBLISHes are replicated too: the replica may be ahead of `m`)
    m = offset(master_rec, "master_repl_offset")
    return m is not None and offset(replica_rec, "master_link_status") == "up" and \
        int(offset(replica_rec, "slave_repl_offset")) >= int(m)


def test_replica_events(_tmp_root):
    """On a replica: the master's writes publish as they apply; a key past its time is hidden
    from reads ("keymiss") but not reclaimed, so no "expired"; the master's DEL for it then
    publishes "del" (Redis replicas never publish "expired" for keys the master expires)."""
    at = int(time.time() * 1000) + 50
    transcripts = []
    for kind in ("redis", "cairn"):
        master = ServerProcess(require(kind), _tmp_root, ["--enable-debug-command", "yes",
                                                           "--repl-diskless-sync-delay", "0"])
        replica = None
        recs = []
        try:
            master.start()
            replica = ServerProcess(require(kind), _tmp_root, ["--notify-keyspace-events", "KEg$xnm",
                                                               "--replicaof", "127.0.0.1", str(master.port)])
            replica.start()
            m, r = EventRecorder(master), EventRecorder(replica)
            recs = [m, r]
            setup([m], [("DEBUG", "SET-ACTIVE-EXPIRE", "0")])
            poll(lambda: replication_offsets_match(m, r), "the replica to sync")
            transcript = []

            def replica_events_until(expected_count, what):
                events = []

                def enough():
                    events.extend(r.run("PING")[1])
                    return len(events) >= expected_count
                poll(enough, what)
                transcript.append((what, events))

            setup([m], [("SET", "k", "v", "PXAT", str(at)), ("SET", "keep", "v"), ("INCR", "n")])
            # new set expire (k), new set (keep), new incrby (n): on both channels
            replica_events_until(14, "writes applied")

            def expired_on_replica():
                reply, events = r.run("KEYS", "k")
                assert events == []
                return reply == []
            poll(expired_on_replica, "k's time to run out")
            for cmd in [("GET", "k"), ("EXISTS", "k"), ("TTL", "k"), ("GET", "nokey"), ("DBSIZE",)]:
                transcript.append((cmd,) + r.run(*cmd))
            setup([m], [("GET", "k")])  # the master reclaims it lazily and propagates DEL
            replica_events_until(2, "the master's DEL")
            transcripts.append(transcript)
        finally:
            for rec in recs:
                rec.close()
            if replica is not None:
                replica.stop()
            master.stop()
    assert transcripts[0] == transcripts[1], f"redis: {transcripts[0]}\ncairn: {transcripts[1]}"
    assert ("the master's DEL", [("__keyspace@0__:k", "del"), ("__keyevent@0__:del", "k")]) in transcripts[0]
