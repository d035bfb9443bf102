"""Keyspace notifications compared with a real redis-server 7.0 (issue 16, point 5).

`EventRecorder` subscribes to every keyspace and keyevent channel of one server and collects the
messages a command publishes: after each command the driver PUBLISHes a marker on a channel of its
own, and since a command's events are published while it runs, every event it caused arrives
before the marker. `compare_events` runs the same commands on both servers and returns the
commands whose replies or events differ.
"""
from resp import Error
from serverproc import start_redis_and_cairn

MARKER = "__events_test_marker__"


def start_pair(tmp_root, flags="KEA"):
    """(redis, cairn), each started with `notify-keyspace-events <flags>`."""
    return start_redis_and_cairn(tmp_root, ["--notify-keyspace-events", flags])


class EventRecorder:
    def __init__(self, server):
        self.driver = server.raw()
        self.sub = server.raw()
        self.sub.command("PSUBSCRIBE", "__key*@*__:*")
        self.sub.command("SUBSCRIBE", MARKER)
        self.count = 0

    def close(self):
        self.driver.close()
        self.sub.close()

    def run(self, *cmd):
        """(reply, [(channel, message), ...]): the command's reply and the events it published."""
        reply = self.driver.command(*cmd)
        self.count += 1
        self.driver.command("PUBLISH", MARKER, str(self.count))
        events = []
        while True:
            msg = self.sub.read_reply()
            if msg[0] == b"message" and msg[1] == MARKER.encode():
                if msg[2] == str(self.count).encode():
                    return reply, events
                continue
            assert msg[0] == b"pmessage", msg
            events.append((msg[2].decode("latin-1"), msg[3].decode("latin-1")))


def normalise(reply):
    """Replies compared loosely where Redis itself is nondeterministic (random members, ordering)."""
    if isinstance(reply, Error):
        return ("error", str(reply).split(" ")[0])
    return "reply"


def compare_events(redis_rec, cairn_rec, commands):
    """Runs each command on both servers; returns [(cmd, redis_events, cairn_events)] that differ
    (events compared in order; replies only as error-or-not with the error code)."""
    differences = []
    for cmd in commands:
        r_reply, r_events = redis_rec.run(*cmd)
        c_reply, c_events = cairn_rec.run(*cmd)
        if r_events != c_events or normalise(r_reply) != normalise(c_reply):
            differences.append((cmd, r_reply, r_events, c_reply, c_events))
    return differences


def format_differences(differences):
    lines = []
    for cmd, r_reply, r_events, c_reply, c_events in differences:
        lines.append(f"{cmd!r}\n   redis: {r_reply!r} {r_events}\n   cairn: {c_reply!r} {c_events}")
    return "\n".join(lines)
