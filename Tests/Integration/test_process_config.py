"""Process-level directives as Redis 7.0 has them: the stock /etc/redis/redis.conf starts the
server, `include`, `daemonize yes`, `supervised systemd`, `logfile` (and logrotate moving it),
`syslog-enabled`, and what SIGTERM / SIGINT do under `shutdown-on-sigterm` / `shutdown-on-sigint`.

Each test launches its own process (a config file of its own, a free port, a private dir) and runs
against cairn-server, or redis-server with --against-redis / --both. Processes are stopped by the
PID the test knows (SHUTDOWN NOSAVE NOW or a signal, then SIGKILL), and every wait polls a deadline.
"""

import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis

from resp import RawConnection, encode
from serverproc import free_port, wait_for

STOCK_CONFIG = "/etc/redis/redis.conf"
DEADLINE = 60.0


# -- helpers


def ping(port):
    try:
        with RawConnection(port, timeout=2.0) as c:
            return c.command("PING") == "PONG"
    except (OSError, ConnectionError):
        return False


def _text(reply):
    if isinstance(reply, bytes):
        return reply.decode()
    if isinstance(reply, list):
        return [_text(x) for x in reply]
    return reply


def command(port, *args):
    """One command on a fresh connection; bulk strings decoded to str."""
    with RawConnection(port, timeout=10.0) as c:
        return _text(c.command(*args))


def pid_gone(pid):
    """True once `pid` no longer runs (a zombie nobody reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True


class Launched:
    """One server process started by the test, from a config file and/or arguments."""

    def __init__(self, kind, workdir, argv_tail, env=None):
        self.kind = kind
        self.dir = workdir
        self.output_path = os.path.join(workdir, "stdout.txt")
        full_env = dict(os.environ)
        full_env.pop("NOTIFY_SOCKET", None)
        full_env.pop("UPSTART_JOB", None)
        full_env.update(env or {})
        with open(self.output_path, "ab") as out:
            self.proc = subprocess.Popen([kind.binary, *map(str, argv_tail)], stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=workdir, env=full_env)

    def output(self):
        with open(self.output_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_exit(self, timeout=DEADLINE):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def wait_ready(self, port):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.kind.name} exited with {self.proc.returncode}:\n{self.output()[-3000:]}")
            if ping(port):
                return
            time.sleep(0.05)
        raise AssertionError(f"{self.kind.name} did not answer PING:\n{self.output()[-3000:]}")

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def stop_pid(pid, port=None):
    """SHUTDOWN NOSAVE NOW (when the port is known), then SIGKILL `pid` if it lingers."""
    if port is not None:
        try:
            with RawConnection(port, timeout=2.0) as c:
                c.send(encode("SHUTDOWN", "NOSAVE", "NOW"))
                c.is_closed(timeout=2.0)
        except (OSError, ConnectionError):
            pass
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not pid_gone(pid):
        time.sleep(0.05)
    if not pid_gone(pid):
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: pid_gone(pid), f"pid {pid} to end after SIGKILL")


@pytest.fixture
def launched(server_kind):
    """Launches server processes for a test and makes sure every one has ended afterwards."""
    procs = []

    def launch(workdir, *argv_tail, env=None):
        p = Launched(server_kind, workdir, argv_tail, env=env)
        procs.append(p)
        return p

    yield launch
    for p in procs:
        p.kill()


@pytest.fixture
def workdir(_tmp_root, server_kind):
    return tempfile.mkdtemp(prefix=f"proc-{server_kind.name}-", dir=_tmp_root)


def stock_config(changes):
    """/etc/redis/redis.conf with only the directives in `changes` set differently."""
    lines = []
    seen = set()
    with open(STOCK_CONFIG) as f:
        for line in f.read().split("\n"):
            words = line.split()
            if words and words[0] in changes and not line.lstrip().startswith("#"):
                line = f"{words[0]} {changes[words[0]]}"
                seen.add(words[0])
            lines.append(line)
    assert seen == set(changes), f"the stock file lacks {set(changes) - seen}"
    return "\n".join(lines)


def base_conf(port, directory, *lines):
    """A minimal config: loopback, the port, the dir, no save points, and `lines`."""
    return "\n".join([f"port {port}", "bind 127.0.0.1", f'dir "{directory}"', 'save ""', "appendonly no", *lines]) + "\n"


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


# -- the stock config file


@pytest.mark.skipif(not os.path.exists(STOCK_CONFIG), reason="no /etc/redis/redis.conf")
def test_stock_config_starts_and_serves(launched, workdir):
    port = free_port()
    logfile = os.path.join(workdir, "server.log")
    pidfile = os.path.join(workdir, "server.pid")
    conf = write(os.path.join(workdir, "redis.conf"), stock_config({
        "daemonize": "no", "dir": workdir, "port": port, "logfile": logfile, "pidfile": pidfile}))
    p = launched(workdir, conf)
    p.wait_ready(port)
    assert command(port, "SET", "k", "v") == "OK"
    assert command(port, "GET", "k") == "v"
    assert command(port, "CONFIG", "GET", "port") == ["port", str(port)]
    assert command(port, "CONFIG", "GET", "logfile") == ["logfile", logfile]
    assert command(port, "CONFIG", "GET", "daemonize") == ["daemonize", "no"]
    wait_for(lambda: os.path.exists(pidfile), "the pidfile")
    assert int(open(pidfile).read().strip()) == p.proc.pid
    wait_for(lambda: os.path.exists(logfile) and "Ready to accept connections" in open(logfile).read(),
             "the log file")
    stop_pid(p.proc.pid, port)
    assert p.wait_exit() == 0
    assert not os.path.exists(pidfile)


# -- include


def test_include_relative_absolute_nested(launched, workdir):
    port = free_port()
    sub = os.path.join(workdir, "conf.d")
    os.mkdir(sub)
    # Nested: absolute a.conf includes nested.conf by absolute path.
    write(os.path.join(sub, "nested.conf"), "timeout 77\n")
    write(os.path.join(sub, "a.conf"), f"hz 20\ninclude {os.path.join(sub, 'nested.conf')}\n")
    # Relative: resolved against the process's working directory.
    write(os.path.join(workdir, "rel.conf"), "slowlog-max-len 99\nmaxclients 321\n")
    # Globs: every match, in order; a pattern with no match is skipped.
    write(os.path.join(sub, "g1.conf"), "latency-monitor-threshold 5\n")
    conf = write(os.path.join(workdir, "main.conf"), base_conf(
        port, workdir,
        f"include {os.path.join(sub, 'a.conf')}",
        "include rel.conf",
        f"include {os.path.join(sub, 'g*.conf')}",
        f"include {os.path.join(sub, 'none-*.conf')}",
        # A later line overrides an included one.
        "maxclients 123"))
    p = launched(workdir, conf)
    p.wait_ready(port)
    assert command(port, "CONFIG", "GET", "hz") == ["hz", "20"]
    assert command(port, "CONFIG", "GET", "timeout") == ["timeout", "77"]
    assert command(port, "CONFIG", "GET", "slowlog-max-len") == ["slowlog-max-len", "99"]
    assert command(port, "CONFIG", "GET", "latency-monitor-threshold") == ["latency-monitor-threshold", "5"]
    assert command(port, "CONFIG", "GET", "maxclients") == ["maxclients", "123"]
    stop_pid(p.proc.pid, port)
    assert p.wait_exit() == 0


def test_include_relative_to_a_dir_read_before(launched, workdir):
    """Redis changes directory at a `dir` line: a relative include after it is read from there."""
    port = free_port()
    os.mkdir(os.path.join(workdir, "data"))
    write(os.path.join(workdir, "data", "rel.conf"), "hz 33\n")
    conf = write(os.path.join(workdir, "main.conf"),
                 f"port {port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndir data\ninclude rel.conf\n")
    p = launched(workdir, conf)
    p.wait_ready(port)
    assert command(port, "CONFIG", "GET", "hz") == ["hz", "33"]
    assert command(port, "CONFIG", "GET", "dir") == ["dir", os.path.realpath(os.path.join(workdir, "data"))]
    stop_pid(p.proc.pid, port)
    assert p.wait_exit() == 0


def test_include_missing_file_is_fatal(launched, workdir):
    missing = os.path.join(workdir, "missing.conf")
    conf = write(os.path.join(workdir, "main.conf"), base_conf(free_port(), workdir, f"include {missing}"))
    p = launched(workdir, conf)
    assert p.wait_exit() == 1
    assert f"Fatal error, can't open config file '{missing}': No such file or directory" in p.output()


def test_error_in_included_file_names_its_line(launched, workdir):
    write(os.path.join(workdir, "bad.conf"), "# a comment\nhz 200x\n")
    conf = write(os.path.join(workdir, "main.conf"), base_conf(free_port(), workdir, "include bad.conf"))
    p = launched(workdir, conf)
    assert p.wait_exit() == 1
    out = p.output()
    assert "*** FATAL CONFIG FILE ERROR" in out
    assert "Reading the configuration file, at line 2\n>>> 'hz 200x'\nargument couldn't be parsed into an integer" in out


# -- daemonize


def test_daemonize_yes_detaches(launched, workdir):
    port = free_port()
    pidfile = os.path.join(workdir, "daemon.pid")
    logfile = os.path.join(workdir, "daemon.log")
    conf = write(os.path.join(workdir, "main.conf"), base_conf(
        port, workdir, "daemonize yes", f"pidfile {pidfile}", f"logfile {logfile}"))
    p = launched(workdir, conf)
    # The launched process is the parent: it exits 0 once it has forked.
    assert p.wait_exit() == 0
    wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip().isdigit(), "the daemon's pidfile")
    daemon = int(open(pidfile).read().strip())
    try:
        assert daemon != p.proc.pid
        wait_for(lambda: ping(port), "the daemon to answer PING", cap=DEADLINE)
        assert command(port, "CONFIG", "GET", "daemonize") == ["daemonize", "yes"]
        assert command(port, "INFO", "server").count(f"process_id:{daemon}") == 1
        # A new session, detached from the test's terminal and process group.
        assert os.getsid(daemon) == daemon
        # Standard streams on /dev/null; the log goes to the log file.
        for fd in (0, 1, 2):
            assert os.readlink(f"/proc/{daemon}/fd/{fd}") == "/dev/null"
        wait_for(lambda: os.path.exists(logfile) and "Ready to accept connections" in open(logfile).read(),
                 "the daemon's log")
        ready = [l for l in open(logfile).read().splitlines() if "Ready to accept connections" in l][0]
        assert ready.startswith(f"{daemon}:M "), ready
        assert p.output() == ""
        os.kill(daemon, signal.SIGTERM)
        wait_for(lambda: pid_gone(daemon), "the daemon to exit on SIGTERM")
        wait_for(lambda: not os.path.exists(pidfile), "the pidfile to be removed")
    finally:
        if not pid_gone(daemon):
            os.kill(daemon, signal.SIGKILL)


# -- supervised


def _notify_socket(workdir):
    path = os.path.join(workdir, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    return s, path


def _receive_until(sock, wanted, cap=DEADLINE):
    got = []
    deadline = time.monotonic() + cap
    while time.monotonic() < deadline:
        try:
            got.append(sock.recv(4096).decode())
        except socket.timeout:
            continue
        if any(wanted in m for m in got):
            return got
    raise AssertionError(f"no {wanted!r} notification; got {got}")


def _skip_without_systemd_support(server_kind, p):
    if server_kind.is_redis and "compiled without libsystemd support" in p.output():
        pytest.skip("this redis-server was built without libsystemd")


@pytest.mark.parametrize("mode", ["systemd", "auto"])
def test_supervised_systemd_notifies_ready(launched, workdir, server_kind, mode):
    port = free_port()
    sock, path = _notify_socket(workdir)
    try:
        conf = write(os.path.join(workdir, "main.conf"), base_conf(port, workdir, f"supervised {mode}",
                                                                  "loglevel verbose"))
        p = launched(workdir, conf, env={"NOTIFY_SOCKET": path})
        p.wait_ready(port)
        _skip_without_systemd_support(server_kind, p)
        got = _receive_until(sock, "READY=1")
        assert any(m.startswith("STATUS=") for m in got), got
        assert "READY=1\n" in got
        assert "process_supervised:systemd" in command(port, "INFO", "server")
        p.proc.send_signal(signal.SIGTERM)
        _receive_until(sock, "STOPPING=1")
        assert p.wait_exit() == 0
    finally:
        sock.close()


def test_supervised_no_sends_nothing(launched, workdir):
    port = free_port()
    sock, path = _notify_socket(workdir)
    try:
        conf = write(os.path.join(workdir, "main.conf"), base_conf(port, workdir, "supervised no"))
        p = launched(workdir, conf, env={"NOTIFY_SOCKET": path})
        p.wait_ready(port)
        assert "process_supervised:no" in command(port, "INFO", "server")
        with pytest.raises(socket.timeout):
            sock.settimeout(1.0)
            sock.recv(4096)
        stop_pid(p.proc.pid, port)
        assert p.wait_exit() == 0
    finally:
        sock.close()


def test_supervised_systemd_wins_over_daemonize(launched, workdir, server_kind):
    """Supervised, the process stays in the foreground even with daemonize yes (Redis's rule)."""
    port = free_port()
    sock, path = _notify_socket(workdir)
    pidfile = os.path.join(workdir, "p.pid")
    try:
        conf = write(os.path.join(workdir, "main.conf"), base_conf(
            port, workdir, "supervised systemd", "daemonize yes", f"pidfile {pidfile}"))
        p = launched(workdir, conf, env={"NOTIFY_SOCKET": path})
        p.wait_ready(port)
        _skip_without_systemd_support(server_kind, p)
        _receive_until(sock, "READY=1")
        wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip().isdigit(), "the pidfile")
        assert int(open(pidfile).read()) == p.proc.pid
        stop_pid(p.proc.pid, port)
        assert p.wait_exit() == 0
    finally:
        sock.close()


def test_supervised_upstart_stops_itself(launched, workdir):
    port = free_port()
    conf = write(os.path.join(workdir, "main.conf"), base_conf(port, workdir, "supervised upstart"))
    p = launched(workdir, conf, env={"UPSTART_JOB": "test"})

    def stopped():
        try:
            with open(f"/proc/{p.proc.pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "T"
        except FileNotFoundError:
            return False
    wait_for(stopped, "the server to raise SIGSTOP", cap=DEADLINE)
    os.kill(p.proc.pid, signal.SIGCONT)
    p.wait_ready(port)
    assert "process_supervised:upstart" in command(port, "INFO", "server")
    stop_pid(p.proc.pid, port)
    assert p.wait_exit() == 0


# -- logfile and syslog


def test_logfile_survives_rotation(launched, workdir):
    port = free_port()
    logfile = os.path.join(workdir, "server.log")
    conf = write(os.path.join(workdir, "main.conf"), base_conf(port, workdir, f"logfile {logfile}"))
    p = launched(workdir, conf)
    p.wait_ready(port)
    wait_for(lambda: os.path.exists(logfile) and "Ready to accept connections" in open(logfile).read(),
             "the log file")
    assert "Ready to accept connections" not in p.output()
    # logrotate without copytruncate: the file is moved away; the next line starts a new one.
    os.rename(logfile, logfile + ".1")
    assert command(port, "SAVE") == "OK"
    wait_for(lambda: os.path.exists(logfile) and "DB saved on disk" in open(logfile).read(),
             "the log line in a new file at the path")
    assert "DB saved on disk" not in open(logfile + ".1").read()
    # Redis's line format: pid:role dd Mon yyyy hh:mm:ss.mmm <level> message.
    line = [l for l in open(logfile).read().splitlines() if "DB saved on disk" in l][0]
    assert re.match(rf"^{p.proc.pid}:M \d\d \w{{3}} \d{{4}} \d\d:\d\d:\d\d\.\d{{3}} \* DB saved on disk$", line), line
    stop_pid(p.proc.pid, port)
    assert p.wait_exit() == 0


def test_logfile_that_cannot_be_opened_is_fatal(launched, workdir):
    conf = base_conf_file(workdir, free_port(), f"logfile {os.path.join(workdir, 'no', 'such', 'dir.log')}")
    p = launched(workdir, conf)
    assert p.wait_exit() == 1
    out = p.output()
    assert "*** FATAL CONFIG FILE ERROR" in out
    assert "Can't open the log file: No such file or directory" in out


def test_syslog(launched, workdir):
    """syslog-enabled yes: lines reach /dev/log with syslog-ident and syslog-facility. Without a
    syslog daemon, the test listens on /dev/log itself (root only, and only if it is free)."""
    if os.path.exists("/dev/log"):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            probe.connect("/dev/log")
            pytest.skip("a syslog daemon owns /dev/log: its output is not the test's to read")
        except ConnectionRefusedError:
            os.unlink("/dev/log")  # left behind by an interrupted run of this test
        finally:
            probe.close()
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind("/dev/log")
    except OSError as e:
        pytest.skip(f"can't listen on /dev/log: {e}")
    sock.settimeout(0.2)
    try:
        port = free_port()
        conf = write(os.path.join(workdir, "main.conf"), base_conf(
            port, workdir, "syslog-enabled yes", "syslog-ident cairntest", "syslog-facility local3"))
        p = launched(workdir, conf)
        p.wait_ready(port)
        assert command(port, "CONFIG", "GET", "syslog-ident") == ["syslog-ident", "cairntest"]
        assert command(port, "CONFIG", "GET", "syslog-facility") == ["syslog-facility", "local3"]
        assert command(port, "SAVE") == "OK"
        got = []
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline and not any("DB saved on disk" in m for m in got):
            try:
                got.append(sock.recv(8192).decode(errors="replace"))
            except socket.timeout:
                pass
        line = [m for m in got if "DB saved on disk" in m]
        assert line, got
        # local3 (19) * 8 + notice (5) = 157.
        assert line[0].startswith("<157>"), line[0]
        assert f"cairntest[{p.proc.pid}]: DB saved on disk" in line[0]
        stop_pid(p.proc.pid, port)
        assert p.wait_exit() == 0
    finally:
        sock.close()
        os.unlink("/dev/log")


# -- shutdown on signals


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("flags,save_points,saved", [
    ("default", "3600 1", True),
    ("default", "", False),
    ("nosave", "3600 1", False),
    ("save", "", True),
    ("save now force", "", True),
    ("nosave now", "3600 1", False),
])
def test_shutdown_on_signal(launched, workdir, sig, flags, save_points, saved):
    port = free_port()
    name = "shutdown-on-sigterm" if sig == signal.SIGTERM else "shutdown-on-sigint"
    conf = write(os.path.join(workdir, "main.conf"), base_conf(port, workdir, f"{name} {flags}")
                 + f'save "{save_points}"\n')
    p = launched(workdir, conf)
    p.wait_ready(port)
    assert command(port, "CONFIG", "GET", name) == [name, flags]
    assert command(port, "SET", "k", "v") == "OK"
    rdb = os.path.join(workdir, "dump.rdb")
    assert not os.path.exists(rdb)
    p.proc.send_signal(sig)
    assert p.wait_exit() == 0
    assert os.path.exists(rdb) == saved, p.output()[-2000:]
    label = "SIGTERM" if sig == signal.SIGTERM else "SIGINT"
    assert f"Received {label} scheduling shutdown..." in p.output()


def test_shutdown_signal_flags_config(launched, workdir):
    port = free_port()
    p = launched(workdir, base_conf_file(workdir, port))
    p.wait_ready(port)
    for value, shown in [("default", "default"), ("nosave now", "nosave now"), ("now nosave", "nosave now"),
                         ("force save", "save force"), ("default now", "now"), ("NOW", "now")]:
        assert command(port, "CONFIG", "SET", "shutdown-on-sigterm", value) == "OK"
        assert command(port, "CONFIG", "GET", "shutdown-on-sigterm") == ["shutdown-on-sigterm", shown]
    err = command(port, "CONFIG", "SET", "shutdown-on-sigint", "save nosave")
    assert "shutdown options SAVE and NOSAVE can't be used simultaneously" in str(err)
    err = command(port, "CONFIG", "SET", "shutdown-on-sigint", "later")
    assert "argument(s) must be one of the following: default, save, nosave, now, force" in str(err)
    assert command(port, "CONFIG", "SET", "shutdown-timeout", "3") == "OK"
    assert command(port, "CONFIG", "GET", "shutdown-timeout") == ["shutdown-timeout", "3"]
    stop_pid(p.proc.pid, port)


def base_conf_file(workdir, port, *lines):
    return write(os.path.join(workdir, "main.conf"), base_conf(port, workdir, *lines))


# -- the directives themselves


DEFAULTS = {
    "daemonize": "no",
    "supervised": "no",
    "logfile": "",
    "syslog-enabled": "no",
    "syslog-ident": "redis",
    "syslog-facility": "local0",
    "shutdown-on-sigterm": "default",
    "shutdown-on-sigint": "default",
    "shutdown-timeout": "10",
    "set-proc-title": "yes",
    "proc-title-template": "{title} {listen-addr} {server-mode}",
    "always-show-logo": "no",
    "pidfile": "",
    "unixsocket": "",
    "unixsocketperm": "0",
    "crash-log-enabled": "yes",
    "crash-memcheck-enabled": "yes",
}

IMMUTABLE = ["daemonize", "supervised", "logfile", "syslog-enabled", "syslog-ident", "syslog-facility",
             "set-proc-title", "always-show-logo", "pidfile", "unixsocket", "unixsocketperm"]


def test_process_directive_defaults_and_mutability(launched, workdir):
    port = free_port()
    p = launched(workdir, base_conf_file(workdir, port))
    p.wait_ready(port)
    for name, value in DEFAULTS.items():
        assert command(port, "CONFIG", "GET", name) == [name, value], name
    for name in IMMUTABLE:
        err = str(command(port, "CONFIG", "SET", name, DEFAULTS[name] or "x"))
        assert f"CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config" in err, err
    for name, value in [("crash-log-enabled", "no"), ("crash-memcheck-enabled", "no"),
                        ("proc-title-template", "{title} {port}")]:
        assert command(port, "CONFIG", "SET", name, value) == "OK"
        assert command(port, "CONFIG", "GET", name) == [name, value]
    err = str(command(port, "CONFIG", "SET", "proc-title-template", "{title} {nope}"))
    assert "template format is invalid or contains unknown variables" in err, err
    stop_pid(p.proc.pid, port)


def test_process_directive_file_errors(launched, workdir):
    cases = [
        ("supervised sometimes", "argument(s) must be one of the following: upstart, systemd, auto, no"),
        ("syslog-facility local9",
         "argument(s) must be one of the following: user, local0, local1, local2, local3, local4, local5, local6, local7"),
        ("daemonize maybe", "argument must be 'yes' or 'no'"),
        ("unixsocketperm 999", "argument couldn't be parsed as an octal number"),
        ("unixsocketperm 1777", "argument must be between 0 and 777 inclusive"),
        ("shutdown-on-sigterm save nosave", "shutdown options SAVE and NOSAVE can't be used simultaneously"),
    ]
    for line, reason in cases:
        conf = write(os.path.join(workdir, "bad.conf"), f"port {free_port()}\n{line}\n")
        p = launched(workdir, conf)
        assert p.wait_exit() == 1, line
        out = p.output()
        assert f">>> '{line}'\n{reason}" in out, (line, out[-600:])
        os.unlink(p.output_path)


# -- shutdown-timeout: waiting for lagging replicas


def _master_and_replica(launched, workdir, *master_lines):
    mport, rport = free_port(), free_port()
    mdir, rdir = os.path.join(workdir, "master"), os.path.join(workdir, "replica")
    os.mkdir(mdir)
    os.mkdir(rdir)
    master = launched(mdir, write(os.path.join(mdir, "m.conf"), base_conf(mport, mdir, *master_lines)))
    master.wait_ready(mport)
    replica = launched(rdir, write(os.path.join(rdir, "r.conf"), base_conf(rport, rdir, f"replicaof 127.0.0.1 {mport}")))
    replica.wait_ready(rport)
    wait_for(lambda: "state=online" in command(mport, "INFO", "replication"), "the replica to be online", cap=DEADLINE)
    return master, mport, replica, rport


@pytest.mark.parametrize("flags,waits", [("default", True), ("now", False)])
def test_sigterm_waits_for_a_lagging_replica(launched, workdir, flags, waits):
    master, mport, replica, rport = _master_and_replica(launched, workdir, "shutdown-timeout 4",
                                                        f"shutdown-on-sigterm {flags}")
    os.kill(replica.proc.pid, signal.SIGSTOP)  # it can no longer acknowledge
    try:
        assert command(mport, "SET", "k", "v") == "OK"
        started = time.monotonic()
        master.proc.send_signal(signal.SIGTERM)
        assert master.wait_exit() == 0
        elapsed = time.monotonic() - started
        out = master.output()
        if waits:
            assert elapsed >= 3.5, elapsed
            assert "Waiting for replicas before shutting down." in out
            assert "Lagging replica 127.0.0.1:%d reported offset" % rport in out
            assert "0 of 1 replicas are in sync when shutting down." in out
        else:
            assert elapsed < 3.0, elapsed
            assert "Waiting for replicas before shutting down." not in out
    finally:
        os.kill(replica.proc.pid, signal.SIGCONT)
    stop_pid(replica.proc.pid, rport)


def test_sigterm_with_a_replica_in_sync_exits_without_the_timeout(launched, workdir):
    master, mport, replica, rport = _master_and_replica(launched, workdir, "shutdown-timeout 30")
    assert command(mport, "SET", "k", "v") == "OK"
    started = time.monotonic()
    master.proc.send_signal(signal.SIGTERM)
    assert master.wait_exit() == 0
    assert time.monotonic() - started < 20
    assert "1 of 1 replicas are in sync when shutting down." in master.output()
    stop_pid(replica.proc.pid, rport)


def test_shutdown_abort_while_waiting_for_replicas(launched, workdir):
    master, mport, replica, rport = _master_and_replica(launched, workdir, "shutdown-timeout 60")
    os.kill(replica.proc.pid, signal.SIGSTOP)
    try:
        assert command(mport, "SET", "k", "v") == "OK"
        with RawConnection(mport, timeout=30.0) as waiting:
            waiting.send(encode("SHUTDOWN"))
            wait_for(lambda: "Waiting for replicas before shutting down." in master.output(), "the shutdown to wait")
            assert ping(mport)
            assert command(mport, "SHUTDOWN", "ABORT") == "OK"
            reply = waiting.read_reply()
            assert str(reply) == "ERR Errors trying to SHUTDOWN. Check logs.", reply
        assert "Shutdown manually aborted." in master.output()
        assert command(mport, "SET", "k2", "v") == "OK"  # writes are no longer paused
        assert str(command(mport, "SHUTDOWN", "ABORT")) == "ERR No shutdown in progress."
    finally:
        os.kill(replica.proc.pid, signal.SIGCONT)
    stop_pid(master.proc.pid, mport)
    stop_pid(replica.proc.pid, rport)


# -- unixsocket


def test_unixsocket_serves_redis_cli_and_redis_py(launched, workdir, redis_cli):
    port = free_port()
    path = os.path.join(workdir, "cairn.sock")
    write(path, "stale")  # a leftover file at the path is replaced
    p = launched(workdir, base_conf_file(workdir, port, f"unixsocket {path}", "unixsocketperm 700"))
    p.wait_ready(port)
    wait_for(lambda: os.path.exists(path) and not os.path.isfile(path), "the unix socket")
    assert oct(os.stat(path).st_mode & 0o777) == "0o700"
    out = subprocess.run([redis_cli, "-s", path, "PING"], capture_output=True, timeout=30)
    assert out.stdout.decode().strip() == "PONG"
    c = redis.Redis(unix_socket_path=path)
    try:
        assert c.set("k", "v") is True
        assert c.get("k") == b"v"
        info = c.execute_command("CLIENT", "INFO").decode()
        assert f"addr={path}:0 laddr={path}:0 " in info, info
        assert " flags=U " in info, info
    finally:
        c.close()
    assert command(port, "CONFIG", "GET", "unixsocket") == ["unixsocket", path]
    assert command(port, "CONFIG", "GET", "unixsocketperm") == ["unixsocketperm", "700"]
    stop_pid(p.proc.pid, port)
    assert p.wait_exit() == 0
    assert not os.path.exists(path)


def test_proc_title_template_validation(launched, workdir):
    port = free_port()
    p = launched(workdir, base_conf_file(workdir, port))
    p.wait_ready(port)
    cases = {
        "{title} {listen-addr} {server-mode}": True,
        "{port}": True,
        "x}": True,
        "{{literal": True,
        "{title}": False,         # empty once expanded
        "{server-mode}": False,
        "  ": False,
        "{nope}": False,
        "{title": False,
        "abc{": False,
        "{config-file} {unixsocket} {tls-port}": True,
    }
    for template, ok in cases.items():
        reply = command(port, "CONFIG", "SET", "proc-title-template", template)
        if ok:
            assert reply == "OK", (template, reply)
            assert command(port, "CONFIG", "GET", "proc-title-template") == ["proc-title-template", template]
        else:
            assert "template format is invalid or contains unknown variables" in str(reply), (template, reply)
    stop_pid(p.proc.pid, port)


def test_port_0_listens_on_the_unix_socket_only(launched, workdir, redis_cli):
    path = os.path.join(workdir, "only.sock")
    p = launched(workdir, base_conf_file(workdir, 0, f"unixsocket {path}"))
    wait_for(lambda: os.path.exists(path) or p.proc.poll() is not None, "the unix socket")

    def cli(*args):
        return subprocess.run([redis_cli, "-s", path, *args], capture_output=True, timeout=30).stdout.decode()
    wait_for(lambda: cli("PING").strip() == "PONG", "PONG on the unix socket")
    assert "tcp_port:0" in cli("INFO", "server")
    cli("SHUTDOWN", "NOSAVE")
    assert p.wait_exit() == 0
    assert not os.path.exists(path)


def test_port_0_without_a_unix_socket_refuses_to_start(launched, workdir):
    p = launched(workdir, base_conf_file(workdir, 0))
    assert p.wait_exit() == 1
    assert "Configured to not listen anywhere, exiting." in p.output()


def test_unknown_directive_and_bad_value_name_their_line(launched, workdir):
    """Issue 16, point 9: a config file with an unknown directive or a bad value gets Redis's
    FATAL CONFIG FILE ERROR report naming the line, and the server does not start."""
    cases = [
        ("no-such-directive 1", "Bad directive or wrong number of arguments"),
        ("maxmemory-policy sometimes", "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"),
        ("appendonly maybe", "argument must be 'yes' or 'no'"),
    ]
    for line, reason in cases:
        conf = write(os.path.join(workdir, "bad-line.conf"), "# first\n# second\n" + line + "\n")
        p = launched(workdir, conf)
        assert p.wait_exit() == 1
        out = p.output()
        assert "*** FATAL CONFIG FILE ERROR" in out, out
        assert f"Reading the configuration file, at line 3\n>>> '{line}'\n{reason}" in out, out
