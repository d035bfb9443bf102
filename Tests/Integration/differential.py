"""A seeded generator of random command sequences, and a runner that sends each command to a
real redis-server and to cairn-server and compares the replies byte for byte.

Normalised (and why), everything else must match exactly:
- unordered replies (SMEMBERS, SINTER/SUNION/SDIFF, HKEYS/HVALS/HGETALL, KEYS) are compared
  sorted: hash-table iteration order is an implementation detail;
- random replies (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, RANDOMKEY, SPOP) are checked for shape and
  membership instead: same count, every element a member of the collection both servers hold;
- SCAN/HSCAN/SSCAN/ZSCAN are run to completion on each server and the sets of results compared:
  cursor values depend on the table layout;
- TTL/PTTL are compared with one second / 1000 ms of slack: the servers answer microseconds apart.
Excluded commands: INFO, TIME, CLIENT LIST/INFO, OBJECT IDLETIME/FREQ, DEBUG, MEMORY USAGE and
LASTSAVE (they report time, memory or identity, not data), blocking commands (they would block a
sequential driver; their non-blocking cores are the same functions as LPOP/LMOVE/ZPOPMIN, which
are covered), and commands not implemented yet.
"""
import random

from resp import Error, encode

KEYS = {
    "s": ["s1", "s2", "s3"], "l": ["l1", "l2", "l3"], "h": ["h1", "h2"],
    "t": ["t1", "t2", "t3"], "z": ["z1", "z2", "z3"],
}
ALL_KEYS = [k for ks in KEYS.values() for k in ks] + ["missing"]
VALUES = ["a", "b", "c", "0", "1", "-1", "10", "3.5", "", "hello world", "x" * 70, "\x00\r\n", "007", "9223372036854775807"]
FIELDS = ["f1", "f2", "f3", "f4", "n"]
MEMBERS = ["a", "b", "c", "d", "1", "2", "30", "-5"]
SCORES = ["0", "1", "2.5", "-1", "+inf", "-inf", "1e3", "abc", "(1"]
INDEXES = ["0", "1", "-1", "2", "-3", "100", "x"]


class Generator:
    KINDS = ["string", "string", "list", "list", "hash", "set", "zset", "keyspace", "tx"]

    def __init__(self, seed, kinds=None):
        self.r = random.Random(seed)
        self.kinds = [k for k in self.KINDS if not kinds or k in kinds]

    def key(self, kind=None):
        # Mostly the kind's own keys, sometimes any key: WRONGTYPE paths get exercised.
        if kind and self.r.random() < 0.85:
            return self.r.choice(KEYS[kind])
        return self.r.choice(ALL_KEYS)

    def pick(self, seq):
        return self.r.choice(seq)

    def some(self, seq, lo=1, hi=4):
        return [self.r.choice(seq) for _ in range(self.r.randint(lo, hi))]

    def command(self):
        kind = self.r.choice(self.kinds)
        return getattr(self, "gen_" + kind)()

    def gen_string(self):
        k, v = self.key("s"), self.pick(VALUES)
        return self.pick([
            ["SET", k, v], ["SET", k, v, "NX"], ["SET", k, v, "XX", "GET"], ["GET", k], ["GETSET", k, v],
            ["APPEND", k, v], ["STRLEN", k], ["INCR", k], ["DECRBY", k, self.pick(INDEXES)],
            ["INCRBYFLOAT", k, self.pick(SCORES)], ["GETRANGE", k, self.pick(INDEXES), self.pick(INDEXES)],
            ["SETRANGE", k, self.pick(["0", "3", "-1"]), v], ["MSET", k, v, self.key("s"), self.pick(VALUES)],
            ["MGET", k, self.key(), "missing"], ["SETNX", k, v], ["GETDEL", k], ["OBJECT", "ENCODING", k],
            ["SETBIT", k, self.pick(["0", "7", "100"]), self.pick(["0", "1"])], ["GETBIT", k, "7"],
            ["BITCOUNT", k], ["BITPOS", k, "1"], ["LCS", k, self.key("s")],
        ])

    def gen_list(self):
        k = self.key("l")
        return self.pick([
            ["LPUSH", k] + self.some(VALUES), ["RPUSH", k] + self.some(VALUES), ["LPUSHX", k, "v"],
            ["LPOP", k], ["RPOP", k, self.pick(["1", "2", "0"])], ["LLEN", k],
            ["LRANGE", k, self.pick(INDEXES), self.pick(INDEXES)], ["LINDEX", k, self.pick(INDEXES)],
            ["LSET", k, self.pick(INDEXES), "new"], ["LINSERT", k, self.pick(["BEFORE", "AFTER"]), self.pick(VALUES), "ins"],
            ["LREM", k, self.pick(["0", "1", "-2"]), self.pick(VALUES)], ["LTRIM", k, self.pick(INDEXES), self.pick(INDEXES)],
            ["LPOS", k, self.pick(VALUES)], ["LPOS", k, self.pick(VALUES), "RANK", "-1", "COUNT", "0"],
            ["LMOVE", k, self.key("l"), self.pick(["LEFT", "RIGHT"]), self.pick(["LEFT", "RIGHT"])],
            ["RPOPLPUSH", k, self.key("l")], ["LMPOP", "2", k, self.key("l"), "LEFT", "COUNT", "2"],
            ["OBJECT", "ENCODING", k],
        ])

    def gen_hash(self):
        k = self.key("h")
        pairs = []
        for f in self.some(FIELDS):
            pairs += [f, self.pick(VALUES)]
        return self.pick([
            ["HSET", k] + pairs, ["HSETNX", k, self.pick(FIELDS), "v"], ["HGET", k, self.pick(FIELDS)],
            ["HMGET", k] + self.some(FIELDS), ["HDEL", k] + self.some(FIELDS), ["HLEN", k],
            ["HEXISTS", k, self.pick(FIELDS)], ["HSTRLEN", k, self.pick(FIELDS)], ["HGETALL", k],
            ["HKEYS", k], ["HVALS", k], ["HINCRBY", k, self.pick(FIELDS), self.pick(INDEXES)],
            ["HINCRBYFLOAT", k, self.pick(FIELDS), self.pick(SCORES)], ["HRANDFIELD", k, self.pick(["2", "-3", "10"])],
            ["HSCAN", k, "0"], ["OBJECT", "ENCODING", k],
        ])

    def gen_set(self):
        k = self.key("t")
        return self.pick([
            ["SADD", k] + self.some(MEMBERS), ["SREM", k] + self.some(MEMBERS), ["SMEMBERS", k], ["SCARD", k],
            ["SISMEMBER", k, self.pick(MEMBERS)], ["SMISMEMBER", k] + self.some(MEMBERS),
            ["SINTER", k, self.key("t")], ["SUNION", k, self.key("t")], ["SDIFF", k, self.key("t")],
            ["SINTERSTORE", self.key("t"), k, self.key("t")], ["SUNIONSTORE", self.key("t"), k, self.key("t")],
            ["SDIFFSTORE", self.key("t"), k, self.key("t")], ["SINTERCARD", "2", k, self.key("t")],
            ["SMOVE", k, self.key("t"), self.pick(MEMBERS)], ["SRANDMEMBER", k, self.pick(["2", "-3", "20"])],
            ["SPOP", k, "100"], ["SSCAN", k, "0"], ["OBJECT", "ENCODING", k],
        ])

    def gen_zset(self):
        k = self.key("z")
        pairs = []
        for m in self.some(MEMBERS):
            pairs += [self.pick(SCORES[:7]), m]
        lo, hi = self.pick(SCORES), self.pick(SCORES)
        return self.pick([
            ["ZADD", k] + pairs, ["ZADD", k, self.pick(["NX", "XX", "GT", "LT", "CH"])] + pairs,
            ["ZADD", k, "INCR", self.pick(SCORES), self.pick(MEMBERS)], ["ZINCRBY", k, self.pick(SCORES), self.pick(MEMBERS)],
            ["ZREM", k] + self.some(MEMBERS), ["ZSCORE", k, self.pick(MEMBERS)], ["ZMSCORE", k] + self.some(MEMBERS),
            ["ZCARD", k], ["ZCOUNT", k, lo, hi], ["ZRANGE", k, self.pick(INDEXES), self.pick(INDEXES), "WITHSCORES"],
            ["ZRANGE", k, lo, hi, "BYSCORE", "LIMIT", "0", "3"], ["ZRANGE", k, "[a", "+", "BYLEX"],
            ["ZREVRANGE", k, "0", "-1"], ["ZRANGEBYSCORE", k, lo, hi], ["ZRANK", k, self.pick(MEMBERS)],
            ["ZREVRANK", k, self.pick(MEMBERS)], ["ZREMRANGEBYRANK", k, "0", "0"], ["ZREMRANGEBYSCORE", k, lo, hi],
            ["ZPOPMIN", k], ["ZPOPMAX", k, "2"], ["ZUNIONSTORE", self.key("z"), "2", k, self.key("z")],
            ["ZINTER", "2", k, self.key("z"), "WITHSCORES"], ["ZDIFF", "2", k, self.key("z")],
            ["ZRANDMEMBER", k, self.pick(["2", "-2", "30"])], ["ZSCAN", k, "0"], ["ZLEXCOUNT", k, "-", "+"],
            ["OBJECT", "ENCODING", k],
        ])

    def gen_keyspace(self):
        k = self.key()
        return self.pick([
            ["DEL", k, self.key()], ["EXISTS", k, self.key()], ["TYPE", k], ["RENAME", k, self.key()],
            ["RENAMENX", k, self.key()], ["COPY", k, self.key(), "REPLACE"], ["TOUCH", k],
            ["EXPIREAT", k, "4102444800"], ["PEXPIREAT", k, "4102444800123", self.pick(["NX", "XX", "GT", "LT"])],
            ["EXPIRETIME", k], ["PERSIST", k], ["TTL", k], ["EXPIRE", k, "1000", "GT"], ["DBSIZE"],
            ["KEYS", "*1"], ["SCAN", "0"], ["RANDOMKEY"], ["MOVE", k, "1"], ["SELECT", "0"],
            ["EXPIRE", k, "-1"] if self.r.random() < 0.05 else ["PING"],
        ])

    def gen_tx(self):
        body = [self.gen_string() for _ in range(self.r.randint(0, 3))]
        if self.r.random() < 0.3:
            body.insert(0, ["WATCH", self.key("s")])
        return ["__tx__", body]


UNORDERED = {"SMEMBERS", "SINTER", "SUNION", "SDIFF", "HKEYS", "HVALS", "KEYS"}
RANDOM = {"SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER", "RANDOMKEY", "SPOP"}
SCANS = {"SCAN", "HSCAN", "SSCAN", "ZSCAN"}


def exchange(conn, cmd):
    """Sends one command; returns (raw reply bytes, parsed reply)."""
    conn.send(encode(*cmd))
    conn._consumed = []
    value = conn.read_reply()
    return b"".join(conn._consumed), value


def full_scan(conn, cmd):
    cursor, items = "0", []
    for _ in range(10000):
        _, reply = exchange(conn, [cmd[0]] + ([cmd[1]] if cmd[0] != "SCAN" else []) + [cursor, "COUNT", "3"])
        if isinstance(reply, Error):
            return reply
        cursor, page = reply[0].decode(), reply[1]
        items += page
        if cursor == "0":
            break
    if cmd[0] in ("HSCAN", "ZSCAN"):
        return sorted(zip(items[0::2], items[1::2]))
    return sorted(items)


def sortable(v):
    return sorted(v, key=repr) if isinstance(v, list) else v


def compare(cmd, redis_conn, cairn_conn):
    """Runs `cmd` on both servers; returns None if they agree, else a description."""
    name = cmd[0].upper()
    if name in SCANS:
        a, b = full_scan(redis_conn, cmd), full_scan(cairn_conn, cmd)
        return None if a == b else (a, b)
    ra, va = exchange(redis_conn, cmd)
    rb, vb = exchange(cairn_conn, cmd)
    if name == "HGETALL" and isinstance(va, dict):
        return None if va == vb else (ra, rb)  # RESP3 map: the same pairs, in hash-table order
    if name in UNORDERED or (name == "HGETALL" and isinstance(va, list)):
        if name == "HGETALL":
            va, vb = sorted(zip(va[0::2], va[1::2])), sorted(zip(vb[0::2], vb[1::2])) if isinstance(vb, list) else vb
        return None if sortable(va) == sortable(vb) else (ra, rb)
    if name in RANDOM:
        return None if random_reply_ok(va, vb) else (ra, rb)
    if name in ("TTL", "PTTL") and isinstance(va, int) and isinstance(vb, int):
        slack = 1 if name == "TTL" else 1000
        return None if abs(va - vb) <= slack else (ra, rb)
    return None if ra == rb else (ra, rb)


def random_reply_ok(a, b):
    """Same shape (error text, nil, count); members may differ (checked against the data by the
    sequence continuing identically)."""
    if isinstance(a, Error) or isinstance(b, Error) or a is None or b is None:
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b)
    return type(a) == type(b)
