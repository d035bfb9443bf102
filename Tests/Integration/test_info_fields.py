"""INFO prints every field Redis 7.0 prints, section by section and in Redis's order (issue 16,
point 7); INFO latencystats has Redis's per-command percentile lines. Runs a real redis-server
7.0 and cairn-server side by side (both started here, whatever --both / --against-redis say).

Fields Cairn adds: `cairn_version` (Server). Sections whose field NAMES depend on what ran
(Commandstats, Errorstats, Latencystats, Keyspace) are compared for the commands both servers ran.
"""
import re



CAIRN_ONLY = {"Server": {"cairn_version"}}
DYNAMIC = {"Commandstats", "Errorstats", "Latencystats", "Keyspace"}


def sections(conn, which="everything"):
    text = conn.command("INFO", which)
    text = text.decode() if isinstance(text, bytes) else str(text)
    out, current = {}, None
    for line in text.split("\r\n"):
        if line.startswith("# "):
            current = line[2:]
            out[current] = {}
        elif line:
            name, _, value = line.partition(":")
            out[current][name] = value
    return out


def run_workload(conn):
    conn.command("SET", "k", "v")
    conn.command("GET", "k")
    conn.command("LPUSH", "l", "a", "b")
    conn.command("CONFIG", "GET", "maxmemory")
    conn.command("GET", "l")  # a WRONGTYPE error for errorstats


def test_every_section_and_field_in_redis_order(pair):
    red, cairn = pair
    with red.raw() as r, cairn.raw() as c:
        run_workload(r)
        run_workload(c)
        expected, got = sections(r), sections(c)
    assert list(got) == list(expected), "section names and order"
    for name, fields in expected.items():
        if name in DYNAMIC:
            continue
        ours = [f for f in got[name] if f not in CAIRN_ONLY.get(name, set())]
        assert ours == list(fields), f"INFO {name}: missing {set(fields) - set(ours)}, extra {set(ours) - set(fields)}"


def test_dynamic_sections_name_the_same_things(pair):
    red, cairn = pair
    with red.raw() as r, cairn.raw() as c:
        run_workload(r)
        run_workload(c)
        expected, got = sections(r), sections(c)
    for name in ("cmdstat_set", "cmdstat_get", "cmdstat_lpush", "cmdstat_config|get"):
        assert name in got["Commandstats"] and name in expected["Commandstats"]
        assert set(re.findall(r"(\w+)=", got["Commandstats"][name])) == \
            set(re.findall(r"(\w+)=", expected["Commandstats"][name]))
    assert "errorstat_WRONGTYPE" in got["Errorstats"]
    assert got["Keyspace"]["db0"].startswith("keys=2,expires=0")


def test_latencystats_lines(pair):
    red, cairn = pair
    with red.raw() as r, cairn.raw() as c:
        for conn in (r, c):
            run_workload(conn)
            conn.command("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99.9 100")
        expected, got = sections(r, "latencystats"), sections(c, "latencystats")
        shape = re.compile(r"^p50=\d+\.\d{3},p99\.9=\d+\.\d{3},p100=\d+\.\d{3}$")
        for name in ("latency_percentiles_usec_set", "latency_percentiles_usec_get",
                     "latency_percentiles_usec_config|get"):
            assert shape.match(expected["Latencystats"][name]), expected["Latencystats"][name]
            assert shape.match(got["Latencystats"][name]), got["Latencystats"][name]
        # latency-tracking no: the section stays, empty; CONFIG RESETSTAT empties it too.
        for conn in (r, c):
            conn.command("CONFIG", "SET", "latency-tracking", "no")
        assert sections(c, "latencystats") == {"Latencystats": {}} == sections(r, "latencystats")
        for conn in (r, c):
            conn.command("CONFIG", "SET", "latency-tracking", "yes")
            conn.command("CONFIG", "RESETSTAT")
        assert set(sections(c, "latencystats")["Latencystats"]) <= {"latency_percentiles_usec_config|resetstat"}
        assert set(sections(r, "latencystats")["Latencystats"]) <= {"latency_percentiles_usec_config|resetstat"}
        for conn in (r, c):
            conn.command("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9")


def test_counters_move(pair):
    _, cairn = pair
    with cairn.raw() as c:
        before = sections(c, "stats")["Stats"]
        c.command("SET", "big", "x" * 100_000)
        c.command("GET", "big")  # a reply larger than the retained reply buffer
        after = sections(c, "stats")["Stats"]
    assert int(after["total_reads_processed"]) > int(before["total_reads_processed"])
    assert int(after["total_writes_processed"]) > int(before["total_writes_processed"])
    assert int(after["reply_buffer_expands"]) > int(before["reply_buffer_expands"])
    assert int(after["reply_buffer_shrinks"]) > int(before["reply_buffer_shrinks"])
