"""Every command Cairn implements answers with Redis 7.0's reply SHAPE, in RESP2 and in RESP3
(issue 16, point 8): the type of each reply element (simple string, error, integer, bulk, null,
array, map, set, double, boolean, verbatim, big number, push), the length of every aggregate and
the keys of every map, compared with a real redis-server 7.0 running the same commands on the same
data. Values are not compared here (times, ids and memory figures differ; the differential test
compares data replies byte for byte).

CASES must name every command and subcommand of Cairn's COMMAND LIST: a command added without a
case fails `test_every_command_has_a_case`.
"""
import pytest

from resp import encode

SEED = [
    ["FLUSHALL"],
    ["SET", "s", "value"], ["SET", "n", "10"], ["SET", "bits", "\x0f"],
    ["RPUSH", "l", "a", "b", "c"], ["HSET", "h", "f1", "v1", "f2", "v2"], ["SADD", "st", "a", "b", "c"],
    ["SADD", "st2", "b", "c", "d"], ["ZADD", "z", "1", "a", "2", "b", "3.5", "c"], ["ZADD", "z2", "1", "a", "5", "d"],
    ["SET", "ttl", "v", "EX", "1000"],
]

# (name as COMMAND LIST gives it, [command, ...]): the commands run in order, each reply compared.
CASES = [
    ("acl|cat", [["ACL", "CAT"], ["ACL", "CAT", "string"]]),
    ("acl|deluser", [["ACL", "DELUSER", "nobody"]]),
    ("acl|dryrun", [["ACL", "DRYRUN", "default", "GET", "k"]]),
    ("acl|genpass", [["ACL", "GENPASS"]]),
    ("acl|getuser", [["ACL", "GETUSER", "default"], ["ACL", "GETUSER", "nobody"]]),
    ("acl|help", [["ACL", "HELP"]]),
    ("acl|list", [["ACL", "LIST"]]),
    ("acl|load", [["ACL", "LOAD"]]),
    ("acl|log", [["ACL", "LOG"], ["ACL", "LOG", "RESET"]]),
    ("acl|save", [["ACL", "SAVE"]]),
    ("acl|setuser", [["ACL", "SETUSER", "shapeuser", "on", ">pw", "~*", "+get"]]),
    ("acl|users", [["ACL", "USERS"]]),
    ("acl|whoami", [["ACL", "WHOAMI"]]),
    ("append", [["APPEND", "s", "x"]]),
    ("asking", [["ASKING"]]),
    ("auth", [["AUTH", "wrong"]]),
    ("bgrewriteaof", []),  # asynchronous, its text races with a running save: covered in test_aof.py
    ("bgsave", []),  # idem (test_persistence.py)
    ("bitcount", [["BITCOUNT", "bits"]]),
    ("bitop", [["BITOP", "OR", "bits2", "bits"]]),
    ("bitpos", [["BITPOS", "bits", "1"]]),
    ("blmove", [["BLMOVE", "l", "l", "LEFT", "RIGHT", "0"]]),
    ("blmpop", [["BLMPOP", "0", "1", "l", "LEFT"]]),
    ("blpop", [["BLPOP", "l", "0"]]),
    ("brpop", [["BRPOP", "l", "0"]]),
    ("brpoplpush", [["BRPOPLPUSH", "l", "l", "0"]]),
    ("bzmpop", [["BZMPOP", "0", "1", "z", "MIN"]]),
    ("bzpopmax", [["BZPOPMAX", "z", "0"]]),
    ("bzpopmin", [["BZPOPMIN", "z", "0"]]),
    ("client|caching", [["CLIENT", "CACHING", "YES"]]),
    ("client|getname", [["CLIENT", "GETNAME"]]),
    ("client|getredir", [["CLIENT", "GETREDIR"]]),
    ("client|help", [["CLIENT", "HELP"]]),
    ("client|id", [["CLIENT", "ID"]]),
    ("client|info", [["CLIENT", "INFO"]]),
    ("client|kill", [["CLIENT", "KILL", "ID", "999999"]]),
    ("client|list", [["CLIENT", "LIST"]]),
    ("client|no-evict", [["CLIENT", "NO-EVICT", "off"]]),
    ("client|pause", [["CLIENT", "PAUSE", "1", "WRITE"]]),
    ("client|reply", [["CLIENT", "REPLY", "ON"]]),
    ("client|setinfo", []),  # Redis 7.2's; 7.0 has no reply to compare with
    ("client|setname", [["CLIENT", "SETNAME", "shapes"]]),
    ("client|tracking", [["CLIENT", "TRACKING", "OFF"]]),
    ("client|trackinginfo", [["CLIENT", "TRACKINGINFO"]]),
    ("client|unblock", [["CLIENT", "UNBLOCK", "999999"]]),
    ("client|unpause", [["CLIENT", "UNPAUSE"]]),
    ("cluster|addslots", [["CLUSTER", "ADDSLOTS", "1"]]),
    ("cluster|addslotsrange", [["CLUSTER", "ADDSLOTSRANGE", "1", "2"]]),
    ("cluster|bumpepoch", [["CLUSTER", "BUMPEPOCH"]]),
    ("cluster|count-failure-reports", [["CLUSTER", "COUNT-FAILURE-REPORTS", "x"]]),
    ("cluster|countkeysinslot", [["CLUSTER", "COUNTKEYSINSLOT", "1"]]),
    ("cluster|delslots", [["CLUSTER", "DELSLOTS", "1"]]),
    ("cluster|delslotsrange", [["CLUSTER", "DELSLOTSRANGE", "1", "2"]]),
    ("cluster|failover", [["CLUSTER", "FAILOVER"]]),
    ("cluster|flushslots", [["CLUSTER", "FLUSHSLOTS"]]),
    ("cluster|forget", [["CLUSTER", "FORGET", "x"]]),
    ("cluster|getkeysinslot", [["CLUSTER", "GETKEYSINSLOT", "1", "1"]]),
    ("cluster|info", [["CLUSTER", "INFO"]]),
    ("cluster|keyslot", [["CLUSTER", "KEYSLOT", "k"]]),
    ("cluster|links", [["CLUSTER", "LINKS"]]),
    ("cluster|meet", [["CLUSTER", "MEET", "127.0.0.1", "1"]]),
    ("cluster|myid", [["CLUSTER", "MYID"]]),
    ("cluster|nodes", [["CLUSTER", "NODES"]]),
    ("cluster|replicas", [["CLUSTER", "REPLICAS", "x"]]),
    ("cluster|replicate", [["CLUSTER", "REPLICATE", "x"]]),
    ("cluster|reset", [["CLUSTER", "RESET"]]),
    ("cluster|saveconfig", [["CLUSTER", "SAVECONFIG"]]),
    ("cluster|set-config-epoch", [["CLUSTER", "SET-CONFIG-EPOCH", "1"]]),
    ("cluster|setslot", [["CLUSTER", "SETSLOT", "1", "STABLE"]]),
    ("cluster|shards", [["CLUSTER", "SHARDS"]]),
    ("cluster|slaves", [["CLUSTER", "SLAVES", "x"]]),
    ("cluster|slots", [["CLUSTER", "SLOTS"]]),
    ("command|count", [["COMMAND", "COUNT"]]),
    ("command|docs", [["COMMAND", "DOCS", "nosuchcommand"]]),  # full docs: test_command_docs.py
    ("command|getkeys", [["COMMAND", "GETKEYS", "SET", "a", "b"]]),
    ("command|getkeysandflags", [["COMMAND", "GETKEYSANDFLAGS", "LMOVE", "a", "b", "LEFT", "RIGHT"]]),
    ("command|help", [["COMMAND", "HELP"]]),
    ("command|info", [["COMMAND", "INFO", "get", "set", "nosuch"]]),
    ("command|list", [["COMMAND", "LIST", "FILTERBY", "PATTERN", "zadd"]]),
    ("config|get", [["CONFIG", "GET", "maxmemory"], ["CONFIG", "GET", "nosuch"]]),
    ("config|help", [["CONFIG", "HELP"]]),
    ("config|resetstat", [["CONFIG", "RESETSTAT"]]),
    ("config|rewrite", [["CONFIG", "REWRITE"]]),
    ("config|set", [["CONFIG", "SET", "maxmemory-samples", "5"]]),
    ("copy", [["COPY", "s", "s-copy"]]),
    ("dbsize", [["DBSIZE"]]),
    ("debug", [["DEBUG", "PROTOCOL", "map"], ["DEBUG", "PROTOCOL", "set"], ["DEBUG", "PROTOCOL", "double"],
               ["DEBUG", "PROTOCOL", "bignum"], ["DEBUG", "PROTOCOL", "true"], ["DEBUG", "PROTOCOL", "null"],
               ["DEBUG", "PROTOCOL", "verbatim"], ["DEBUG", "PROTOCOL", "attrib"]]),
    ("decr", [["DECR", "n"]]),
    ("decrby", [["DECRBY", "n", "2"]]),
    ("del", [["DEL", "s-copy", "missing"]]),
    ("discard", [["DISCARD"]]),
    ("dump", [["DUMP", "s"], ["DUMP", "missing"]]),
    ("echo", [["ECHO", "hi"]]),
    ("exec", [["MULTI"], ["GET", "s"], ["ZSCORE", "z", "a"], ["HGETALL", "h"], ["EXEC"], ["EXEC"]]),
    ("exists", [["EXISTS", "s", "missing"]]),
    ("expire", [["EXPIRE", "ttl", "2000"]]),
    ("expireat", [["EXPIREAT", "ttl", "99999999999"]]),
    ("expiretime", [["EXPIRETIME", "ttl"]]),
    ("failover", [["FAILOVER"]]),
    ("flushall", []),  # in every case's seed
    ("flushdb", [["FLUSHDB", "SYNC"], *SEED[1:]]),
    ("get", [["GET", "s"], ["GET", "missing"]]),
    ("getbit", [["GETBIT", "bits", "7"]]),
    ("getdel", [["GETDEL", "missing"]]),
    ("getex", [["GETEX", "s", "PERSIST"]]),
    ("getrange", [["GETRANGE", "s", "0", "2"]]),
    ("getset", [["GETSET", "missing2", "v"]]),
    ("hdel", [["HDEL", "h", "nope"]]),
    ("hello", [["HELLO"]]),
    ("hexists", [["HEXISTS", "h", "f1"]]),
    ("hget", [["HGET", "h", "f1"], ["HGET", "h", "nope"]]),
    ("hgetall", [["HGETALL", "h"], ["HGETALL", "missing"]]),
    ("hincrby", [["HINCRBY", "h", "c", "1"]]),
    ("hincrbyfloat", [["HINCRBYFLOAT", "h", "fl", "1.5"]]),
    ("hkeys", [["HKEYS", "h"]]),
    ("hlen", [["HLEN", "h"]]),
    ("hmget", [["HMGET", "h", "f1", "nope"]]),
    ("hmset", [["HMSET", "h", "f3", "v3"]]),
    ("hrandfield", [["HRANDFIELD", "h"], ["HRANDFIELD", "h", "2", "WITHVALUES"], ["HRANDFIELD", "missing"]]),
    ("hscan", [["HSCAN", "h", "0"]]),
    ("hset", [["HSET", "h", "f4", "v4"]]),
    ("hsetnx", [["HSETNX", "h", "f4", "v"]]),
    ("hstrlen", [["HSTRLEN", "h", "f1"]]),
    ("hvals", [["HVALS", "h"]]),
    ("incr", [["INCR", "n"]]),
    ("incrby", [["INCRBY", "n", "5"]]),
    ("incrbyfloat", [["INCRBYFLOAT", "n", "0.5"]]),
    ("info", [["INFO", "keyspace"]]),
    ("keys", [["KEYS", "s*"]]),
    ("lastsave", [["LASTSAVE"]]),
    ("latency|help", [["LATENCY", "HELP"]]),
    ("latency|history", [["LATENCY", "HISTORY", "command"]]),
    ("latency|latest", [["LATENCY", "LATEST"]]),
    ("latency|reset", [["LATENCY", "RESET"]]),
    ("lcs", [["LCS", "s", "n"], ["LCS", "s", "n", "IDX", "WITHMATCHLEN"]]),
    ("lindex", [["LINDEX", "l", "0"], ["LINDEX", "l", "99"]]),
    ("linsert", [["LINSERT", "l", "BEFORE", "a", "x"]]),
    ("llen", [["LLEN", "l"]]),
    ("lmove", [["LMOVE", "l", "l", "LEFT", "LEFT"]]),
    ("lmpop", [["LMPOP", "1", "l", "RIGHT", "COUNT", "2"], ["LMPOP", "1", "missing", "LEFT"]]),
    ("lpop", [["LPOP", "l"], ["LPOP", "l", "1"], ["LPOP", "missing"], ["LPOP", "missing", "2"]]),
    ("lpos", [["LPOS", "l", "b"], ["LPOS", "l", "b", "COUNT", "0"], ["LPOS", "l", "zz"]]),
    ("lpush", [["LPUSH", "l", "p"]]),
    ("lpushx", [["LPUSHX", "missing", "p"]]),
    ("lrange", [["LRANGE", "l", "0", "-1"]]),
    ("lrem", [["LREM", "l", "0", "zz"]]),
    ("lset", [["LSET", "l", "0", "q"]]),
    ("ltrim", [["LTRIM", "l", "0", "-1"]]),
    ("memory|doctor", [["MEMORY", "DOCTOR"]]),
    ("memory|help", [["MEMORY", "HELP"]]),
    ("memory|malloc-stats", [["MEMORY", "MALLOC-STATS"]]),
    ("memory|purge", [["MEMORY", "PURGE"]]),
    ("memory|stats", [["MEMORY", "STATS"]]),
    ("memory|usage", [["MEMORY", "USAGE", "s"], ["MEMORY", "USAGE", "missing"]]),
    ("mget", [["MGET", "s", "missing"]]),
    ("migrate", [["MIGRATE", "127.0.0.1", "1", "", "0", "10", "KEYS", "missing"]]),
    ("monitor", []),  # turns the connection into a monitor: test_admin.py
    ("move", [["MOVE", "s", "1"]]),
    ("mset", [["MSET", "a1", "1", "a2", "2"]]),
    ("msetnx", [["MSETNX", "a1", "1"]]),
    ("multi", [["MULTI"], ["DISCARD"]]),
    ("object|encoding", [["OBJECT", "ENCODING", "l"]]),
    ("object|freq", [["OBJECT", "FREQ", "s"]]),
    ("object|help", [["OBJECT", "HELP"]]),
    ("object|idletime", [["OBJECT", "IDLETIME", "s"]]),
    ("object|refcount", [["OBJECT", "REFCOUNT", "s"]]),
    ("persist", [["PERSIST", "ttl"]]),
    ("pexpire", [["PEXPIRE", "ttl", "100000"]]),
    ("pexpireat", [["PEXPIREAT", "ttl", "99999999999999"]]),
    ("pexpiretime", [["PEXPIRETIME", "ttl"]]),
    ("ping", [["PING"], ["PING", "x"]]),
    ("psetex", [["PSETEX", "px", "100000", "v"]]),
    ("psubscribe", [["PSUBSCRIBE", "p*"], ["PUNSUBSCRIBE"]]),
    ("psync", []),  # the replication protocol: test_replication.py
    ("pttl", [["PTTL", "ttl"], ["PTTL", "missing"]]),
    ("publish", [["PUBLISH", "ch", "m"]]),
    ("pubsub|channels", [["PUBSUB", "CHANNELS"]]),
    ("pubsub|help", [["PUBSUB", "HELP"]]),
    ("pubsub|numpat", [["PUBSUB", "NUMPAT"]]),
    ("pubsub|numsub", [["PUBSUB", "NUMSUB", "a", "b"]]),
    ("pubsub|shardchannels", [["PUBSUB", "SHARDCHANNELS"]]),
    ("pubsub|shardnumsub", [["PUBSUB", "SHARDNUMSUB", "a"]]),
    ("punsubscribe", [["PUNSUBSCRIBE", "x"]]),
    ("quit", []),  # closes the connection: test_connection.py
    ("randomkey", [["RANDOMKEY"]]),
    ("readonly", [["READONLY"]]),
    ("readwrite", [["READWRITE"]]),
    ("rename", [["RENAME", "a1", "a3"]]),
    ("renamenx", [["RENAMENX", "a3", "a1"]]),
    ("replconf", [["REPLCONF", "listening-port", "1"]]),
    ("replicaof", [["REPLICAOF", "NO", "ONE"]]),
    ("reset", [["RESET"]]),
    ("restore", [["RESTORE", "r1", "0", "bad-payload"]]),
    ("restore-asking", [["RESTORE-ASKING", "r1", "0", "bad-payload"]]),
    ("role", [["ROLE"]]),
    ("rpop", [["RPOP", "l"], ["RPOP", "l", "1"]]),
    ("rpoplpush", [["RPOPLPUSH", "l", "l"]]),
    ("rpush", [["RPUSH", "l", "r"]]),
    ("rpushx", [["RPUSHX", "l", "r"]]),
    ("sadd", [["SADD", "st", "e"]]),
    ("save", []),  # idem bgsave
    ("scan", [["SCAN", "0", "COUNT", "100", "MATCH", "s"]]),
    ("scard", [["SCARD", "st"]]),
    ("sdiff", [["SDIFF", "st", "st2"]]),
    ("sdiffstore", [["SDIFFSTORE", "sd", "st", "st2"]]),
    ("select", [["SELECT", "0"]]),
    ("set", [["SET", "s2", "v"], ["SET", "s2", "w", "GET"], ["SET", "s2", "w", "NX"]]),
    ("setbit", [["SETBIT", "bits", "1", "1"]]),
    ("setex", [["SETEX", "se", "100", "v"]]),
    ("setnx", [["SETNX", "se", "v"]]),
    ("setrange", [["SETRANGE", "s", "1", "zz"]]),
    ("shutdown", []),  # stops the server: test_cli_and_lifecycle.py
    ("sinter", [["SINTER", "st", "st2"]]),
    ("sintercard", [["SINTERCARD", "2", "st", "st2"]]),
    ("sinterstore", [["SINTERSTORE", "si", "st", "st2"]]),
    ("sismember", [["SISMEMBER", "st", "a"]]),
    ("slaveof", [["SLAVEOF", "NO", "ONE"]]),
    ("slowlog|get", [["SLOWLOG", "GET"]]),
    ("slowlog|help", [["SLOWLOG", "HELP"]]),
    ("slowlog|len", [["SLOWLOG", "LEN"]]),
    ("slowlog|reset", [["SLOWLOG", "RESET"]]),
    ("smembers", [["SMEMBERS", "st"]]),
    ("smismember", [["SMISMEMBER", "st", "a", "zz"]]),
    ("smove", [["SMOVE", "st", "st2", "a"]]),
    ("spop", [["SPOP", "st"], ["SPOP", "st", "2"], ["SPOP", "missing"]]),
    ("spublish", [["SPUBLISH", "ch", "m"]]),
    ("srandmember", [["SRANDMEMBER", "st2"], ["SRANDMEMBER", "st2", "2"], ["SRANDMEMBER", "missing"]]),
    ("srem", [["SREM", "st2", "zz"]]),
    ("sscan", [["SSCAN", "st2", "0"]]),
    ("ssubscribe", [["SSUBSCRIBE", "sch"], ["SUNSUBSCRIBE"]]),
    ("strlen", [["STRLEN", "s"]]),
    ("subscribe", [["SUBSCRIBE", "ch1"], ["PING"], ["UNSUBSCRIBE"]]),
    ("substr", [["SUBSTR", "s", "0", "1"]]),
    ("sunion", [["SUNION", "st", "st2"]]),
    ("sunionstore", [["SUNIONSTORE", "su", "st", "st2"]]),
    ("sunsubscribe", [["SUNSUBSCRIBE", "x"]]),
    ("swapdb", [["SWAPDB", "0", "0"]]),
    ("sync", []),  # idem psync
    ("time", [["TIME"]]),
    ("touch", [["TOUCH", "s", "missing"]]),
    ("ttl", [["TTL", "ttl"]]),
    ("type", [["TYPE", "z"]]),
    ("unlink", [["UNLINK", "missing"]]),
    ("unsubscribe", [["UNSUBSCRIBE", "x"]]),
    ("unwatch", [["UNWATCH"]]),
    ("wait", [["WAIT", "0", "0"]]),
    ("watch", [["WATCH", "s"], ["UNWATCH"]]),
    ("zadd", [["ZADD", "z", "4", "e"], ["ZADD", "z", "INCR", "1", "e"], ["ZADD", "z", "NX", "INCR", "1", "e"]]),
    ("zcard", [["ZCARD", "z"]]),
    ("zcount", [["ZCOUNT", "z", "-inf", "+inf"]]),
    ("zdiff", [["ZDIFF", "2", "z", "z2"], ["ZDIFF", "2", "z", "z2", "WITHSCORES"]]),
    ("zdiffstore", [["ZDIFFSTORE", "zd", "2", "z", "z2"]]),
    ("zincrby", [["ZINCRBY", "z", "1.5", "a"]]),
    ("zinter", [["ZINTER", "2", "z", "z2", "WITHSCORES"]]),
    ("zintercard", [["ZINTERCARD", "2", "z", "z2"]]),
    ("zinterstore", [["ZINTERSTORE", "zi", "2", "z", "z2"]]),
    ("zlexcount", [["ZLEXCOUNT", "z", "-", "+"]]),
    ("zmpop", [["ZMPOP", "1", "z", "MAX", "COUNT", "2"], ["ZMPOP", "1", "missing", "MIN"]]),
    ("zmscore", [["ZMSCORE", "z", "a", "zz"]]),
    ("zpopmax", [["ZPOPMAX", "z"], ["ZPOPMAX", "z", "2"], ["ZPOPMAX", "missing"]]),
    ("zpopmin", [["ZPOPMIN", "z"], ["ZPOPMIN", "missing", "2"]]),
    ("zrandmember", [["ZRANDMEMBER", "z2"], ["ZRANDMEMBER", "z2", "2", "WITHSCORES"], ["ZRANDMEMBER", "missing"]]),
    ("zrange", [["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["ZRANGE", "z", "0", "-1"]]),
    ("zrangebylex", [["ZRANGEBYLEX", "z", "-", "+"]]),
    ("zrangebyscore", [["ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES"]]),
    ("zrangestore", [["ZRANGESTORE", "zr", "z", "0", "-1"]]),
    ("zrank", [["ZRANK", "z", "a"], ["ZRANK", "z", "zz"]]),
    ("zrem", [["ZREM", "z", "zz"]]),
    ("zremrangebylex", [["ZREMRANGEBYLEX", "z", "[zz", "+"]]),
    ("zremrangebyrank", [["ZREMRANGEBYRANK", "z", "10", "20"]]),
    ("zremrangebyscore", [["ZREMRANGEBYSCORE", "z", "100", "200"]]),
    ("zrevrange", [["ZREVRANGE", "z", "0", "-1", "WITHSCORES"]]),
    ("zrevrangebylex", [["ZREVRANGEBYLEX", "z", "+", "-"]]),
    ("zrevrangebyscore", [["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES"]]),
    ("zrevrank", [["ZREVRANK", "z", "a"]]),
    ("zscan", [["ZSCAN", "z", "0"]]),
    ("zscore", [["ZSCORE", "z", "a"], ["ZSCORE", "z", "zz"]]),
    ("zunion", [["ZUNION", "2", "z", "z2", "WITHSCORES"]]),
    ("zunionstore", [["ZUNIONSTORE", "zu", "2", "z", "z2"]]),
]
# Containers: their subcommands have the cases.
CONTAINERS = {"acl", "client", "cluster", "command", "config", "latency", "memory", "object", "pubsub", "slowlog"}


class ShapeReader:
    """Reads one reply from a RawConnection's socket as a shape tree: (type, children or None)."""

    def __init__(self, conn):
        self.conn = conn

    def read(self):
        line = self.conn._readline()
        t, rest = chr(line[0]), line[1:]
        if t in "+-:,#(":
            return (t,)
        if t in "$=!":
            n = int(rest)
            if n < 0:
                return ("null-bulk",)
            self.conn._readexact(n + 2)
            return (t,)
        if t == "_":
            return ("_",)
        if t in "*~>":
            n = int(rest)
            if n < 0:
                return ("null-array",)
            return (t, n, tuple(self.read() for _ in range(n)))
        if t == "%":
            n = int(rest)
            entries = []
            for _ in range(n):
                key_line = self.conn._readline()
                assert key_line[:1] in (b"$", b"+"), key_line
                key = self.conn._readexact(int(key_line[1:])) if key_line[:1] == b"$" else key_line[1:]
                if key_line[:1] == b"$":
                    self.conn._readexact(2)
                entries.append((key, self.read()))
            return ("%", tuple(sorted(entries)))
        if t == "|":
            n = int(rest)
            for _ in range(2 * n):
                self.read()
            return ("|", self.read())
        raise AssertionError(f"bad reply line {line!r}")


# Replies whose element COUNT depends on the server's own state, not on the data: only the
# element types are compared for them.
VARIABLE_LENGTH = {"ACL", "CLIENT", "COMMAND", "CONFIG", "MEMORY", "INFO", "HELLO", "LATENCY", "SLOWLOG",
                   "CLUSTER", "ROLE", "KEYS", "SCAN", "HSCAN", "SSCAN", "ZSCAN", "SMEMBERS", "SINTER",
                   "SUNION", "SDIFF", "OBJECT", "DEBUG", "PUBSUB"}


def loosen(shape):
    """Drops aggregate lengths and map keys' order-dependence: types and map keys stay."""
    if shape[0] in ("*", "~", ">"):
        return (shape[0], tuple(sorted({loosen(s) for s in shape[2]})))
    if shape[0] == "%":
        return ("%", tuple((k, loosen(v)) for k, v in shape[1]))
    if shape[0] == "|":
        return ("|", loosen(shape[1]))
    return shape


def test_every_command_has_a_case(pair):
    _, cairn = pair
    with cairn.raw() as c:
        names = {n.decode() for n in c.command("COMMAND", "LIST")}
    covered = {name for name, _ in CASES} | CONTAINERS
    assert names - covered == set(), "commands without a reply-shape case"


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("name,commands", [c for c in CASES if c[1]], ids=[c[0] for c in CASES if c[1]])
def test_reply_shape(pair, protocol, name, commands):
    shapes = []
    for server in pair:
        with server.raw() as conn:
            if protocol == 3:
                conn.command("HELLO", "3")
            for cmd in SEED:
                conn.command(*cmd)
            reader = ShapeReader(conn)
            got = []
            for cmd in commands:
                conn.send(encode(*cmd))
                shape = reader.read()
                got.append(loosen(shape) if cmd[0].upper() in VARIABLE_LENGTH else shape)
            shapes.append(got)
            conn.command("CLIENT", "UNPAUSE") if name == "client|pause" else None
    redis_shapes, cairn_shapes = shapes
    for cmd, want, have in zip(commands, redis_shapes, cairn_shapes):
        assert have == want, f"RESP{protocol} {cmd}:\n  redis: {want}\n  cairn: {have}"
