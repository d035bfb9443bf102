"""Keyspace notifications of the list, hash, set and sorted-set commands, compared event by event
(channel, message, order) with a real redis-server 7.0 started with the same
`notify-keyspace-events` flags (keyspace_events.py).

Every scenario runs the same commands on both servers, each on its own connections. Replies are
compared as error-or-not only (compare_events), so commands with a random outcome (SPOP,
SRANDMEMBER, ...) are used only where what follows does not depend on which members they chose.
Setup commands are list/hash/set/zset commands too, never strings or generic ones, so that these
tests depend on this group of commands alone ("new" events excepted, see test_new_event_order).

Blocking commands: a second raw connection blocks (checked by polling INFO clients
blocked_clients, never by sleeping), the driver then runs the command that serves it, and the
events published by both (the served pop is published as the non-blocking form) are compared.
"""
import time
from contextlib import contextmanager

import pytest

from keyspace_events import EventRecorder, format_differences, normalise, start_pair
from resp import encode


# -- scenarios ---------------------------------------------------------------------------------

# Keys of another type for WRONGTYPE checks, made with commands of this group.
WRONGTYPE_SETUP = [
    ("HSET", "wt:hash", "f", "v"),
    ("RPUSH", "wt:list", "a"),
    ("SADD", "wt:set", "a"),
    ("ZADD", "wt:zset", "1", "a"),
]

LIST_COMMANDS = [
    # Pushes: one event however many elements; the X forms publish nothing for a missing key.
    ("RPUSH", "l", "a", "b", "c"),
    ("LPUSH", "l", "z"),
    ("LPUSH", "l", "y", "x"),
    ("LPUSHX", "l", "w"),
    ("RPUSHX", "l", "d", "e"),
    ("LPUSHX", "l:none", "x"),
    ("RPUSHX", "l:none", "x"),
    # Pops, with and without a count; count 0 and missing keys publish nothing.
    ("LPOP", "l"),
    ("RPOP", "l"),
    ("LPOP", "l", "2"),
    ("RPOP", "l", "2"),
    ("LPOP", "l", "0"),
    ("RPOP", "l", "0"),
    ("LPOP", "l:none"),
    ("RPOP", "l:none", "3"),
    ("LPOP", "l", "-1"),
    ("LPOP", "l", "10"),            # empties it: lpop, then del
    ("RPUSH", "l2", "x"),
    ("RPOP", "l2"),                 # rpop, del
    ("RPUSH", "l2", "x", "y"),
    ("RPOP", "l2", "5"),            # rpop, del
    # LREM: nothing removed publishes nothing; the last match deletes the key.
    ("RPUSH", "l3", "a", "b", "a", "c", "a", "a"),
    ("LREM", "l3", "0", "zz"),
    ("LREM", "l3", "1", "a"),
    ("LREM", "l3", "-1", "a"),
    ("LREM", "l3", "0", "a"),
    ("LREM", "l3", "0", "b"),
    ("LREM", "l3", "5", "c"),       # lrem, del
    ("LREM", "l:none", "0", "a"),
    ("LREM", "l3", "x", "a"),
    # LSET / LINSERT.
    ("RPUSH", "l4", "a", "b", "c", "d"),
    ("LSET", "l4", "0", "A"),
    ("LSET", "l4", "-1", "D"),
    ("LSET", "l4", "10", "x"),
    ("LSET", "l:none", "0", "x"),
    ("LSET", "l4", "notanumber", "x"),
    ("LINSERT", "l4", "BEFORE", "b", "B"),
    ("LINSERT", "l4", "after", "c", "C"),
    ("LINSERT", "l4", "AFTER", "zz", "x"),
    ("LINSERT", "l:none", "AFTER", "a", "b"),
    ("LINSERT", "l4", "MIDDLE", "a", "b"),
    # LTRIM publishes ltrim even when it removes nothing; an emptied list also del.
    ("LTRIM", "l4", "0", "-1"),
    ("LTRIM", "l4", "1", "3"),
    ("LTRIM", "l:none", "0", "1"),
    ("LTRIM", "l4", "x", "1"),
    ("LTRIM", "l4", "5", "1"),      # ltrim, del
    # Reads publish nothing.
    ("RPUSH", "l5", "a", "b", "c", "b"),
    ("LRANGE", "l5", "0", "-1"),
    ("LINDEX", "l5", "1"),
    ("LLEN", "l5"),
    ("LPOS", "l5", "b", "COUNT", "0"),
    ("LRANGE", "l:none", "0", "-1"),
    # LMOVE / RPOPLPUSH: push on the destination, then pop (and del) on the source.
    ("RPUSH", "src", "1", "2", "3"),
    ("LMOVE", "src", "dst", "LEFT", "RIGHT"),
    ("LMOVE", "src", "dst", "RIGHT", "LEFT"),
    ("LMOVE", "src", "src", "LEFT", "RIGHT"),
    ("LMOVE", "src", "src", "RIGHT", "LEFT"),
    ("RPOPLPUSH", "src", "dst"),    # lpush dst, rpop src, del src
    ("RPOPLPUSH", "src", "dst"),
    ("LMOVE", "src:none", "dst", "LEFT", "LEFT"),
    ("LMOVE", "dst", "dst2", "UP", "LEFT"),
    ("RPUSH", "one", "x"),
    ("LMOVE", "one", "one", "LEFT", "LEFT"),   # a rotation of one element: no del
    ("RPOPLPUSH", "one", "one"),
    ("LMOVE", "dst", "wt:hash", "LEFT", "LEFT"),
    ("LMOVE", "wt:hash", "dst", "LEFT", "LEFT"),
    ("RPOPLPUSH", "dst", "wt:set"),
    # LMPOP.
    ("LMPOP", "2", "l:none", "dst", "LEFT"),
    ("LMPOP", "1", "l:none", "RIGHT"),
    ("LMPOP", "2", "l:none", "dst", "RIGHT", "COUNT", "10"),   # rpop, del
    ("LMPOP", "2", "wt:hash", "dst", "LEFT"),
    ("LMPOP", "0", "dst", "LEFT"),
    ("LMPOP", "1", "dst", "LEFT", "COUNT", "0"),
    # Blocking forms that find an element at once, or time out.
    ("RPUSH", "bl", "a", "b", "c", "d", "e"),
    ("BLPOP", "l:none", "bl", "0"),
    ("BRPOP", "bl", "0"),
    ("BLMOVE", "bl", "bl2", "LEFT", "LEFT", "0"),
    ("BRPOPLPUSH", "bl", "bl2", "0"),
    ("BLMPOP", "0", "2", "l:none", "bl", "LEFT", "COUNT", "5"),   # lpop, del
    ("BLMPOP", "0", "1", "bl2", "RIGHT"),
    ("BLPOP", "l:none", "0.01"),
    ("BRPOPLPUSH", "l:none", "bl3", "0.01"),
    ("BLMPOP", "0.01", "1", "l:none", "LEFT"),
    ("BLPOP", "wt:zset", "0"),
    # WRONGTYPE publishes nothing.
    ("LPUSH", "wt:hash", "x"),
    ("RPUSHX", "wt:hash", "x"),
    ("LPOP", "wt:hash"),
    ("RPOP", "wt:set", "2"),
    ("LSET", "wt:hash", "0", "x"),
    ("LTRIM", "wt:hash", "0", "1"),
    ("LREM", "wt:hash", "0", "x"),
    ("LINSERT", "wt:hash", "BEFORE", "a", "b"),
    ("LRANGE", "wt:hash", "0", "-1"),
    # A long list (many quicklist nodes).
    ("RPUSH", "big", *[f"element-{i}" for i in range(300)]),
    ("LTRIM", "big", "10", "-10"),
    ("LREM", "big", "0", "element-100"),
    ("LPOP", "big", "100"),
    ("RPOP", "big", "500"),         # rpop, del
    # In MULTI: each command publishes when EXEC runs it; a blocking pop does not wait there.
    ("MULTI",),
    ("RPUSH", "tx", "a", "b"),
    ("LPOP", "tx"),
    ("BLPOP", "tx:none", "0"),
    ("BRPOP", "tx", "0"),
    ("EXEC",),
]

HASH_COMMANDS = [
    ("HSET", "h", "f1", "v1", "f2", "v2"),
    ("HSET", "h", "f1", "v1"),      # nothing changed, still hset
    ("HMSET", "h", "f3", "v3"),
    ("HSET", "h", "f1"),
    ("HSETNX", "h", "f1", "x"),     # exists: nothing
    ("HSETNX", "h", "f4", "v4"),
    ("HSETNX", "h:new", "f", "v"),
    ("HGET", "h", "f1"),
    ("HMGET", "h", "f1", "nope"),
    ("HGETALL", "h"),
    ("HKEYS", "h"),
    ("HVALS", "h"),
    ("HLEN", "h"),
    ("HEXISTS", "h", "f1"),
    ("HSTRLEN", "h", "f1"),
    ("HRANDFIELD", "h", "-3", "WITHVALUES"),
    ("HSCAN", "h", "0"),
    ("HGET", "h:none", "f"),
    # HDEL: nothing deleted publishes nothing; the last field also del.
    ("HDEL", "h", "nope"),
    ("HDEL", "h", "f1", "f2", "nope"),
    ("HDEL", "h:none", "f"),
    ("HDEL", "h", "f3", "f4", "nope"),   # hdel, del
    ("HDEL", "h:new", "f"),              # hdel, del
    # HINCRBY / HINCRBYFLOAT, errors publish nothing.
    ("HINCRBY", "hc", "n", "5"),
    ("HINCRBY", "hc", "n", "-2"),
    ("HINCRBY", "hc", "n", "x"),
    ("HINCRBY", "hc", "n", "9223372036854775807"),
    ("HSET", "hc", "s", "abc"),
    ("HINCRBY", "hc", "s", "1"),
    ("HINCRBYFLOAT", "hc", "f", "1.5"),
    ("HINCRBYFLOAT", "hc", "f", "-0.25"),
    ("HINCRBYFLOAT", "hc", "n", "1"),
    ("HINCRBYFLOAT", "hc", "s", "1"),
    ("HINCRBYFLOAT", "hc", "f", "x"),
    ("HINCRBYFLOAT", "hc", "f", "inf"),
    ("HINCRBYFLOAT", "hc", "f", "1e308"),
    ("HINCRBYFLOAT", "hc", "f", "1.7976931348623157e308"),
    ("HINCRBYFLOAT", "hc:new", "f", "2.5"),
    ("HINCRBY", "hc:new2", "n", "-7"),
    # WRONGTYPE.
    ("HSET", "wt:list", "f", "v"),
    ("HMSET", "wt:list", "f", "v"),
    ("HSETNX", "wt:list", "f", "v"),
    ("HDEL", "wt:list", "f"),
    ("HINCRBY", "wt:set", "f", "1"),
    ("HINCRBYFLOAT", "wt:zset", "f", "1"),
    ("HGETALL", "wt:list"),
    # A hash converted to a hashtable, then emptied.
    ("HSET", "hbig", *[x for i in range(200) for x in (f"field-{i}", f"value-{i}")]),
    ("HSET", "hbig", "field-0", "x" * 100),
    ("HDEL", "hbig", *[f"field-{i}" for i in range(150)]),
    ("HDEL", "hbig", *[f"field-{i}" for i in range(140, 210)]),   # hdel, del
    ("HSET", "hlong", "f", "x" * 100),
    ("HDEL", "hlong", "f"),
    ("MULTI",),
    ("HSET", "htx", "a", "1"),
    ("HINCRBY", "htx", "a", "1"),
    ("HDEL", "htx", "a"),
    ("EXEC",),
]

SET_COMMANDS = [
    ("SADD", "s", "a", "b", "c"),
    ("SADD", "s", "a"),             # nothing added: nothing published
    ("SADD", "s", "a", "d"),
    ("SADD", "si", "1", "2", "3"),  # an intset
    ("SADD", "si", "2"),
    ("SISMEMBER", "s", "a"),
    ("SMISMEMBER", "s", "a", "z"),
    ("SMEMBERS", "s"),
    ("SCARD", "s"),
    ("SRANDMEMBER", "s", "-5"),
    ("SSCAN", "s", "0"),
    # SREM.
    ("SREM", "s", "zz"),
    ("SREM", "s", "a", "b", "zz"),
    ("SREM", "s:none", "a"),
    ("SREM", "s", "c", "d", "zz"),  # srem, del
    # SPOP: count 0 and missing keys publish nothing; popping the rest also del.
    ("SPOP", "s:none"),
    ("SPOP", "s:none", "3"),
    ("SPOP", "si", "0"),
    ("SPOP", "si"),
    ("SPOP", "si", "1"),
    ("SPOP", "si", "-1"),
    ("SPOP", "si", "5"),            # spop, del
    ("SADD", "sp", *[str(i) for i in range(20)]),
    ("SPOP", "sp", "17"),           # few survivors (Redis's move strategy)
    ("SPOP", "sp", "1"),
    ("SPOP", "sp"),
    ("SPOP", "sp"),                 # spop, del
    ("SADD", "sp2", *[f"m{i}" for i in range(20)]),
    ("SPOP", "sp2", "3"),
    ("SPOP", "sp2", "17"),          # spop, del
    ("SPOP", "sp2", "1", "2"),
    # SMOVE: srem on the source (del if emptied), sadd on the destination if it was not there.
    ("SADD", "m1", "a", "b"),
    ("SADD", "m2", "c"),
    ("SMOVE", "m1", "m2", "a"),
    ("SMOVE", "m1", "m2", "zz"),
    ("SMOVE", "m1", "m1", "b"),     # same set: nothing
    ("SMOVE", "m1", "m1", "zz"),
    ("SADD", "m2", "b"),
    ("SMOVE", "m1", "m2", "b"),     # srem, del; b already in m2: no sadd
    ("SMOVE", "m2", "m:new", "c"),  # srem; sadd on a new set
    ("SMOVE", "s:none", "m2", "a"),
    ("SMOVE", "m2", "wt:list", "a"),
    ("SMOVE", "wt:list", "m2", "a"),
    ("SMOVE", "m2", "s:none2", "zz"),
    # STORE forms: the event on a result, del on an empty one only if the destination existed.
    ("SADD", "x1", "a", "b", "c"),
    ("SADD", "x2", "b", "c", "d"),
    ("SADD", "x3", "z"),
    ("SINTERSTORE", "d1", "x1", "x2"),
    ("SINTERSTORE", "d1", "x1", "x2"),
    ("SINTERSTORE", "d1", "x1", "s:none"),   # a missing input: del
    ("SINTERSTORE", "d1", "x1", "s:none"),   # nothing to delete: nothing
    ("SINTERSTORE", "d1", "x1", "x2"),
    ("SINTERSTORE", "d1", "x1", "x3"),       # empty result: del
    ("SINTERSTORE", "d1", "x1", "x3"),
    ("SINTERSTORE", "d1", "x1", "wt:hash"),
    ("SINTERSTORE", "d1", "x1"),
    ("SUNIONSTORE", "d2", "x1", "x2"),
    ("SUNIONSTORE", "d2", "s:none", "s:none2"),   # del
    ("SUNIONSTORE", "d2", "s:none"),
    ("SUNIONSTORE", "d2", "x1", "wt:list"),
    ("SDIFFSTORE", "d3", "x1", "x2"),
    ("SDIFFSTORE", "d3", "x1", "x1"),        # del
    ("SDIFFSTORE", "d3", "x1", "x1"),
    ("SDIFFSTORE", "d3", "s:none", "x1"),
    ("SUNIONSTORE", "x1", "x1", "x2"),       # the destination is an input
    ("SUNIONSTORE", "wt:list2", "x1"),
    ("RPUSH", "lover", "a"),
    ("SINTERSTORE", "lover", "x1", "x2"),    # replaces a list
    ("SINTER", "x1", "x2"),
    ("SUNION", "x1", "x2"),
    ("SDIFF", "x1", "x2"),
    ("SINTERCARD", "2", "x1", "x2"),
    # WRONGTYPE.
    ("SADD", "wt:hash", "a"),
    ("SREM", "wt:hash", "a"),
    ("SPOP", "wt:hash"),
    ("SPOP", "wt:hash", "2"),
    # A large set (a hashtable), emptied by SREM.
    ("SADD", "sbig", *[f"member-{i}" for i in range(600)]),
    ("SREM", "sbig", *[f"member-{i}" for i in range(599)]),
    ("SREM", "sbig", "member-599"),          # srem, del
    ("MULTI",),
    ("SADD", "stx", "a"),
    ("SPOP", "stx"),
    ("EXEC",),
]

ZSET_COMMANDS = [
    # ZADD and its options: an event only when something was added or changed.
    ("ZADD", "z", "1", "a", "2", "b"),
    ("ZADD", "z", "1", "a"),
    ("ZADD", "z", "NX", "5", "a"),
    ("ZADD", "z", "NX", "3", "c"),
    ("ZADD", "z", "XX", "10", "a"),
    ("ZADD", "z", "XX", "1", "zz"),
    ("ZADD", "z:none", "XX", "1", "a"),
    ("ZADD", "z", "GT", "5", "a"),
    ("ZADD", "z", "GT", "20", "a"),
    ("ZADD", "z", "LT", "30", "a"),
    ("ZADD", "z", "LT", "1", "a"),
    ("ZADD", "z", "GT", "CH", "1", "d"),
    ("ZADD", "z", "CH", "1", "a"),
    ("ZADD", "z", "CH", "2", "a", "7", "e"),
    ("ZADD", "z", "XX", "CH", "GT", "3", "a", "1", "b"),
    ("ZADD", "z", "INCR", "5", "b"),          # zincr
    ("ZADD", "z", "INCR", "0", "b"),          # unchanged: nothing
    ("ZADD", "z", "XX", "INCR", "1", "nope"),
    ("ZADD", "z", "NX", "INCR", "1", "b"),
    ("ZADD", "z", "GT", "INCR", "-1", "b"),
    ("ZADD", "z", "LT", "INCR", "-1", "b"),
    ("ZADD", "z", "INCR", "1", "a", "2", "b"),
    ("ZADD", "z", "NX", "XX", "1", "a"),
    ("ZADD", "z", "GT", "LT", "1", "a"),
    ("ZADD", "z", "1"),
    ("ZADD", "z", "nan", "a"),
    ("ZADD", "z", "x", "a"),
    ("ZINCRBY", "z", "2", "b"),               # zincr
    ("ZINCRBY", "z", "0", "b"),
    ("ZINCRBY", "z:new", "3", "m"),
    ("ZINCRBY", "z", "x", "b"),
    ("ZADD", "zinf", "+inf", "m"),
    ("ZINCRBY", "zinf", "-inf", "m"),         # NaN: error, nothing
    ("ZADD", "zinf", "INCR", "-inf", "m"),
    ("ZSCORE", "z", "a"),
    ("ZMSCORE", "z", "a", "nope"),
    ("ZRANK", "z", "a"),
    ("ZREVRANK", "z", "a"),
    ("ZCARD", "z"),
    ("ZCOUNT", "z", "-inf", "+inf"),
    ("ZLEXCOUNT", "z", "-", "+"),
    ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ("ZRANGEBYSCORE", "z", "-inf", "+inf"),
    ("ZREVRANGE", "z", "0", "-1"),
    ("ZRANDMEMBER", "z", "-3"),
    ("ZSCAN", "z", "0"),
    # ZREM.
    ("ZREM", "z", "nope"),
    ("ZREM", "z", "a", "nope"),
    ("ZREM", "z:none", "a"),
    ("ZREM", "z", "b", "c", "d", "e", "nope"),   # zrem, del
    ("ZREM", "z:new", "m", "m"),                 # zrem, del
    # ZREMRANGEBY*: nothing removed publishes nothing.
    ("ZADD", "zr", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f"),
    ("ZREMRANGEBYRANK", "zr", "0", "1"),
    ("ZREMRANGEBYRANK", "zr", "10", "20"),
    ("ZREMRANGEBYRANK", "zr", "x", "1"),
    ("ZREMRANGEBYSCORE", "zr", "3", "4"),
    ("ZREMRANGEBYSCORE", "zr", "(100", "+inf"),
    ("ZREMRANGEBYSCORE", "zr", "x", "y"),
    ("ZREMRANGEBYSCORE", "zr", "-inf", "+inf"),  # zremrangebyscore, del
    ("ZADD", "zl", "0", "a", "0", "b", "0", "c"),
    ("ZREMRANGEBYLEX", "zl", "[a", "[b"),
    ("ZREMRANGEBYLEX", "zl", "(x", "+"),
    ("ZREMRANGEBYLEX", "zl", "a", "b"),
    ("ZREMRANGEBYLEX", "zl", "-", "+"),          # zremrangebylex, del
    ("ZADD", "zr2", "1", "a"),
    ("ZREMRANGEBYRANK", "zr2", "0", "-1"),       # zremrangebyrank, del
    ("ZREMRANGEBYRANK", "z:none", "0", "-1"),
    ("ZREMRANGEBYSCORE", "z:none", "0", "1"),
    ("ZREMRANGEBYLEX", "z:none", "-", "+"),
    # Pops: one event however many, then del when emptied.
    ("ZADD", "zp", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"),
    ("ZPOPMIN", "zp"),
    ("ZPOPMAX", "zp"),
    ("ZPOPMIN", "zp", "2"),
    ("ZPOPMAX", "zp", "0"),
    ("ZPOPMIN", "zp", "-1"),
    ("ZPOPMIN", "z:none"),
    ("ZPOPMAX", "z:none", "2"),
    ("ZPOPMAX", "zp", "10"),                     # zpopmax, del
    ("ZADD", "zp2", "1", "a", "2", "b", "3", "c"),
    ("ZMPOP", "2", "z:none", "zp2", "MIN"),
    ("ZMPOP", "1", "z:none", "MAX"),
    ("ZMPOP", "2", "wt:list", "zp2", "MIN"),
    ("ZMPOP", "2", "z:none", "zp2", "MAX", "COUNT", "10"),   # zpopmax, del
    ("ZMPOP", "0", "zp2", "MIN"),
    ("ZMPOP", "1", "zp2", "MIN", "COUNT", "0"),
    ("ZADD", "zp3", "1", "a", "2", "b", "3", "c", "4", "d"),
    ("BZPOPMIN", "z:none", "zp3", "0"),
    ("BZPOPMAX", "zp3", "0"),
    ("BZMPOP", "0", "2", "z:none", "zp3", "MIN", "COUNT", "5"),   # zpopmin, del
    ("BZPOPMIN", "z:none", "0.01"),
    ("BZMPOP", "0.01", "1", "z:none", "MAX"),
    ("BZPOPMAX", "wt:list", "0"),
    # STORE forms.
    ("ZADD", "za", "1", "a", "2", "b", "3", "c"),
    ("ZADD", "zb", "2", "b", "4", "d"),
    ("SADD", "zs:set", "a", "x"),
    ("ZUNIONSTORE", "zu", "2", "za", "zb"),
    ("ZUNIONSTORE", "zu", "2", "za", "zb", "WEIGHTS", "1", "2", "AGGREGATE", "MAX"),
    ("ZUNIONSTORE", "zu", "2", "za", "zs:set"),
    ("ZUNIONSTORE", "zu", "1", "z:none"),       # del
    ("ZUNIONSTORE", "zu", "1", "z:none"),
    ("ZUNIONSTORE", "zu", "2", "za", "wt:list"),
    ("ZUNIONSTORE", "zu", "0", "za"),
    ("ZINTERSTORE", "zi", "2", "za", "zb"),
    ("ZINTERSTORE", "zi", "2", "za", "z:none"),  # del
    ("ZINTERSTORE", "zi", "2", "za", "z:none"),
    ("ZINTERSTORE", "zi", "2", "za", "zs:set", "AGGREGATE", "MIN"),
    ("ZDIFFSTORE", "zd", "2", "za", "zb"),
    ("ZDIFFSTORE", "zd", "2", "za", "za"),       # del
    ("ZDIFFSTORE", "zd", "2", "za", "za"),
    ("ZDIFFSTORE", "zd", "1", "z:none"),
    ("ZUNIONSTORE", "za2", "1", "za"),
    ("ZINTERSTORE", "za2", "2", "za2", "zb"),    # the destination is an input
    ("ZRANGESTORE", "zrs", "za", "0", "1"),
    ("ZRANGESTORE", "zrs", "za", "5", "10"),     # del
    ("ZRANGESTORE", "zrs", "za", "5", "10"),
    ("ZRANGESTORE", "zrs", "z:none", "0", "-1"),
    ("ZRANGESTORE", "zrs", "za", "(1", "+inf", "BYSCORE"),
    ("ZRANGESTORE", "zrs", "za", "[a", "[b", "BYLEX"),
    ("ZRANGESTORE", "zrs", "za", "+", "-", "BYLEX", "REV", "LIMIT", "0", "1"),
    ("ZRANGESTORE", "zrs", "za", "0", "-1", "WITHSCORES"),
    ("ZRANGESTORE", "zrs", "wt:list", "0", "-1"),
    ("ZRANGESTORE", "zrs", "z:none", "0", "-1"),  # del
    ("RPUSH", "zover", "a"),
    ("ZUNIONSTORE", "zover", "1", "za"),          # replaces a list
    ("ZUNION", "2", "za", "zb"),
    ("ZINTER", "2", "za", "zb", "WITHSCORES"),
    ("ZDIFF", "2", "za", "zb"),
    ("ZINTERCARD", "2", "za", "zb"),
    # WRONGTYPE.
    ("ZADD", "wt:list", "1", "a"),
    ("ZINCRBY", "wt:list", "1", "a"),
    ("ZREM", "wt:list", "a"),
    ("ZREMRANGEBYRANK", "wt:list", "0", "1"),
    ("ZPOPMIN", "wt:hash"),
    ("ZPOPMAX", "wt:hash", "3"),
    # A large sorted set (a skiplist).
    ("ZADD", "zbig", *[x for i in range(300) for x in (str(i), f"member-{i}")]),
    ("ZPOPMIN", "zbig", "5"),
    ("ZREMRANGEBYSCORE", "zbig", "100", "199"),
    ("ZREM", "zbig", "member-250", "nope"),
    ("ZREMRANGEBYRANK", "zbig", "0", "-1"),      # zremrangebyrank, del
    ("MULTI",),
    ("ZADD", "ztx", "1", "a"),
    ("ZINCRBY", "ztx", "1", "a"),
    ("ZPOPMIN", "ztx"),
    ("EXEC",),
]

ALL_COMMANDS = WRONGTYPE_SETUP + LIST_COMMANDS + HASH_COMMANDS + SET_COMMANDS + ZSET_COMMANDS


# -- harness -----------------------------------------------------------------------------------

@contextmanager
def recorders(tmp_root, flags):
    """((redis, redis_recorder), (cairn, cairn_recorder)) for servers started with `flags`."""
    servers = []
    recs = []
    try:
        servers = start_pair(tmp_root, flags)
        recs = [EventRecorder(s) for s in servers]
        yield list(zip(servers, recs))
    finally:
        for r in recs:
            r.close()
        for s in servers:
            s.stop()


def steps(commands):
    """The commands with each MULTI ... EXEC gathered into one list (a transaction step)."""
    out, tx = [], None
    for cmd in commands:
        if cmd[0] == "MULTI":
            tx = []
        elif cmd[0] == "EXEC":
            out.append(tx)
            tx = None
        elif tx is not None:
            tx.append(cmd)
        else:
            out.append(cmd)
    assert tx is None, "MULTI without EXEC"
    return out


def run_step(rec, step):
    """(reply, events) of one command, or of a transaction: MULTI and the queued commands go on
    the driver directly (the recorder's marker PUBLISH would be queued too), EXEC through the
    recorder, so the events are those EXEC published."""
    if isinstance(step, list):
        assert rec.driver.command("MULTI") == "OK"
        for cmd in step:
            assert rec.driver.command(*cmd) == "QUEUED", cmd
        return rec.run("EXEC")
    return rec.run(*step)


def compare(r_rec, c_rec, commands):
    """compare_events (keyspace_events.py), transactions included."""
    differences = []
    for step in steps(commands):
        r_reply, r_events = run_step(r_rec, step)
        c_reply, c_events = run_step(c_rec, step)
        if r_events != c_events or normalise(r_reply) != normalise(c_reply):
            differences.append((step, r_reply, r_events, c_reply, c_events))
    return differences


def assert_same_events(tmp_root, flags, commands, db=None):
    with recorders(tmp_root, flags) as ((_, r_rec), (_, c_rec)):
        if db is not None:
            for rec in (r_rec, c_rec):
                assert rec.driver.command("SELECT", str(db)) == "OK"
        differences = compare(r_rec, c_rec, commands)
        assert not differences, "events differ from Redis:\n" + format_differences(differences)


def test_list_events(_tmp_root):
    assert_same_events(_tmp_root, "KEA", WRONGTYPE_SETUP + LIST_COMMANDS)


def test_hash_events(_tmp_root):
    assert_same_events(_tmp_root, "KEA", WRONGTYPE_SETUP + HASH_COMMANDS)


def test_set_events(_tmp_root):
    assert_same_events(_tmp_root, "KEA", WRONGTYPE_SETUP + SET_COMMANDS)


def test_zset_events(_tmp_root):
    assert_same_events(_tmp_root, "KEA", WRONGTYPE_SETUP + ZSET_COMMANDS)


@pytest.mark.parametrize("flags", ["KEA", "El", "Kh", "Ez", "Ks", "Kg", "Kl$", "Eshz", "KElg"])
def test_flags_matrix(_tmp_root, flags):
    """Each class alone, on one channel kind or the other: only its events, in Redis's order."""
    assert_same_events(_tmp_root, flags, ALL_COMMANDS)


def test_events_name_the_database(_tmp_root):
    """Channels carry the client's database number."""
    assert_same_events(_tmp_root, "KEA", WRONGTYPE_SETUP + LIST_COMMANDS[:20] + SET_COMMANDS[:20], db=5)


def test_no_events_when_off(_tmp_root):
    """With notify-keyspace-events "" (the default) nothing is published; with only K or E (no
    class) nothing either."""
    for flags in ("", "K", "E", "KE"):
        assert_same_events(_tmp_root, flags, WRONGTYPE_SETUP + ZSET_COMMANDS[:30] + LIST_COMMANDS[:20])


def test_new_event_order(_tmp_root):
    """With class n, "new" comes where Redis's dbAdd publishes it: before the command's own event
    (LPUSH, SADD, ZADD, HSET...) and a STORE command's; LMOVE: new and lpush/rpush on the
    destination, then the source's pop (and del); SMOVE: srem (and del) on the source, then new
    and sadd on the destination. The "new" event itself is Database.swift's."""
    # Every class this group publishes, spelled out: with "A", Cairn's CONFIG value drops the n
    # (Redis prints "AKE" for "KEAn" too, but keeps the class in its flags).
    with recorders(_tmp_root, "KEglshzn") as ((_, r_rec), (_, c_rec)):
        differences = compare(r_rec, c_rec, ALL_COMMANDS)
        assert not differences, "events differ from Redis:\n" + format_differences(differences)


# -- blocking commands -------------------------------------------------------------------------

def blocked_clients(conn):
    info = conn.command("INFO", "clients").decode()
    for line in info.split("\r\n"):
        if line.startswith("blocked_clients:"):
            return int(line.split(":")[1])
    raise AssertionError("no blocked_clients in INFO clients")


def wait_blocked(conn, n, cap=10.0):
    deadline = time.monotonic() + cap
    while time.monotonic() < deadline:
        if blocked_clients(conn) == n:
            return
        time.sleep(0.01)
    raise AssertionError(f"never saw {n} blocked clients")


def run_blocking(server, rec, setup, blockers, triggers):
    """Runs `setup` through the recorder, blocks one new connection per command of `blockers` (in
    order), then runs `triggers`. Returns (events of setup and triggers, the blockers' replies)."""
    results = [run_step(rec, step) for step in steps(setup)]
    conns = []
    try:
        for cmd in blockers:
            conn = server.raw()
            conns.append(conn)
            conn.send(encode(*cmd))
            wait_blocked(rec.driver, len(conns))
        results += [run_step(rec, step) for step in steps(triggers)]
        replies = [conn.read_reply() for conn in conns]
        wait_blocked(rec.driver, 0)
    finally:
        for conn in conns:
            conn.close()
    events = [events for _, events in results]
    shapes = [normalise(r) for r, _ in results]
    return events, shapes, replies


BLOCKING_SCENARIOS = [
    # (name, setup, blocking commands, commands that serve them)
    ("blpop-emptied", [], [("BLPOP", "b1", "0")], [("RPUSH", "b1", "a")]),
    ("blpop-remaining", [], [("BLPOP", "b2", "other", "0")], [("RPUSH", "b2", "a", "b")]),
    ("brpop", [], [("BRPOP", "b3", "0")], [("LPUSH", "b3", "a")]),
    ("brpop-two-keys", [], [("BRPOP", "b3a", "b3b", "0")], [("LPUSH", "b3b", "a", "b")]),
    ("blmove", [], [("BLMOVE", "b4", "b4dst", "RIGHT", "LEFT", "0")], [("RPUSH", "b4", "x")]),
    ("blmove-existing-dst", [("RPUSH", "b4dst2", "y")],
     [("BLMOVE", "b4s", "b4dst2", "LEFT", "RIGHT", "0")], [("RPUSH", "b4s", "x", "z")]),
    ("blmove-same-key", [], [("BLMOVE", "b4r", "b4r", "LEFT", "RIGHT", "0")], [("RPUSH", "b4r", "x")]),
    ("blmove-dst-wrongtype", [("HSET", "b4wt", "f", "v")],
     [("BLMOVE", "b4w", "b4wt", "LEFT", "LEFT", "0")], [("RPUSH", "b4w", "x"), ("LPOP", "b4w")]),
    ("brpoplpush", [], [("BRPOPLPUSH", "b5", "b5dst", "0")], [("RPUSH", "b5", "x", "y")]),
    ("blmpop-count", [], [("BLMPOP", "0", "2", "b6", "b7", "LEFT", "COUNT", "2")], [("RPUSH", "b7", "a", "b", "c")]),
    ("blmpop-emptied", [], [("BLMPOP", "0", "1", "b8", "RIGHT", "COUNT", "5")], [("RPUSH", "b8", "a", "b")]),
    ("blmpop-one", [], [("BLMPOP", "0", "1", "b8a", "RIGHT")], [("LPUSH", "b8a", "a")]),
    ("two-waiters", [], [("BLPOP", "b9", "0"), ("BRPOP", "b9", "0")], [("RPUSH", "b9", "a", "b", "c")]),
    ("two-waiters-one-element", [], [("BLPOP", "b9a", "0"), ("BLPOP", "b9a", "0")],
     [("RPUSH", "b9a", "a"), ("RPUSH", "b9a", "b")]),
    ("chain", [], [("BLMOVE", "c1", "c2", "LEFT", "RIGHT", "0"), ("BLPOP", "c2", "0")], [("RPUSH", "c1", "x")]),
    ("served-by-lmove", [("RPUSH", "srcx", "a")], [("BLPOP", "dstx", "0")], [("LMOVE", "srcx", "dstx", "LEFT", "RIGHT")]),
    ("served-by-lmpop-moves", [("RPUSH", "srcy", "a", "b")], [("BRPOP", "dsty", "0")],
     [("RPOPLPUSH", "srcy", "dsty")]),
    ("served-after-exec", [], [("BLPOP", "b10", "0")],
     [("MULTI",), ("RPUSH", "b10", "a"), ("RPUSH", "b10", "b"), ("LPOP", "b10"), ("EXEC",)]),
    ("served-after-exec-emptied", [], [("BLPOP", "b10a", "0")],
     [("MULTI",), ("RPUSH", "b10a", "a"), ("LPUSH", "b10a", "b"), ("RPOP", "b10a"), ("EXEC",)]),
    ("wrong-type-then-list", [], [("BLPOP", "b11", "b11l", "0")], [("SADD", "b11", "x"), ("RPUSH", "b11l", "y")]),
    # Served from the key that became ready first, not the first key named.
    ("ready-order", [], [("BLPOP", "b12a", "b12b", "0")],
     [("MULTI",), ("RPUSH", "b12b", "x"), ("RPUSH", "b12a", "y"), ("EXEC",), ("LPOP", "b12a")]),
    ("ready-order-blmpop", [], [("BLMPOP", "0", "2", "b13a", "b13b", "RIGHT", "COUNT", "3")],
     [("MULTI",), ("RPUSH", "b13b", "x", "y"), ("RPUSH", "b13a", "z"), ("EXEC",), ("RPOP", "b13a")]),
    ("bzpopmin", [], [("BZPOPMIN", "z1", "0")], [("ZADD", "z1", "1", "a")]),
    ("bzpopmax-remaining", [], [("BZPOPMAX", "z2", "0")], [("ZADD", "z2", "1", "a", "2", "b")]),
    ("bzpopmin-zincrby", [], [("BZPOPMIN", "z2a", "0")], [("ZINCRBY", "z2a", "1", "a")]),
    ("bzmpop-count", [], [("BZMPOP", "0", "2", "z3", "z4", "MIN", "COUNT", "2")], [("ZADD", "z4", "1", "a", "2", "b", "3", "c")]),
    ("bzmpop-emptied", [], [("BZMPOP", "0", "1", "z5", "MAX", "COUNT", "9")], [("ZADD", "z5", "1", "a", "2", "b")]),
    ("bzpop-two-waiters", [], [("BZPOPMIN", "z6", "0"), ("BZPOPMAX", "z6", "0")], [("ZADD", "z6", "1", "a", "2", "b", "3", "c")]),
    ("bzpop-served-by-zunionstore", [("ZADD", "z7src", "1", "a", "2", "b")], [("BZPOPMIN", "z7", "0")],
     [("ZUNIONSTORE", "z7", "1", "z7src")]),
    ("bzpop-served-by-zrangestore", [("ZADD", "z8src", "1", "a")], [("BZPOPMAX", "z8", "0")],
     [("ZRANGESTORE", "z8", "z8src", "0", "-1")]),
    ("bzpop-served-after-exec", [], [("BZPOPMIN", "z9", "0")],
     [("MULTI",), ("ZADD", "z9", "1", "a"), ("ZADD", "z9", "2", "b"), ("ZREM", "z9", "a"), ("EXEC",)]),
    ("bzpop-wrong-type-then-zset", [], [("BZPOPMIN", "z10", "z10b", "0")],
     [("RPUSH", "z10", "x"), ("ZADD", "z10b", "1", "a")]),
    ("bzpop-ready-order", [], [("BZPOPMAX", "z11a", "z11b", "0")],
     [("MULTI",), ("ZADD", "z11b", "1", "x"), ("ZADD", "z11a", "2", "y"), ("EXEC",), ("ZPOPMIN", "z11a")]),
    ("bzmpop-ready-order", [], [("BZMPOP", "0", "2", "z12a", "z12b", "MIN", "COUNT", "2")],
     [("MULTI",), ("ZADD", "z12b", "1", "x"), ("ZADD", "z12a", "2", "y"), ("EXEC",), ("ZPOPMIN", "z12a")]),
    # The list waiter stays blocked while the key holds a sorted set.
    ("list-and-zset-waiters", [], [("BLPOP", "mix", "0"), ("BZPOPMIN", "mix", "0")],
     [("ZADD", "mix", "1", "a"), ("RPUSH", "mix", "x")]),
]


@pytest.mark.parametrize("flags", ["KEA", "El", "Kz", "Kg", "KEglshzn"])
def test_blocking_served_events(_tmp_root, flags):
    """A blocked pop served later publishes the non-blocking form's events (BLPOP: lpop, BLMOVE:
    lpush/rpush then lpop/rpop, BZPOPMIN: zpopmin, ...) after the events of the command that made
    the key ready, then del for an emptied key."""
    failures = []
    with recorders(_tmp_root, flags) as ((redis, r_rec), (cairn, c_rec)):
        for name, setup, blockers, triggers in BLOCKING_SCENARIOS:
            try:
                r = run_blocking(redis, r_rec, setup, blockers, triggers)
                c = run_blocking(cairn, c_rec, setup, blockers, triggers)
            except Exception as e:
                raise AssertionError(f"scenario {name}: {e!r}") from e
            if r != c:
                failures.append(f"{name}:\n   redis: {r}\n   cairn: {c}")
    assert not failures, "blocking events differ from Redis:\n" + "\n".join(failures)
