"""Starting and stopping one server process (cairn-server or redis-server) for a test."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from resp import RawConnection, encode

# A debug build under load can take a while to bind; a real failure shows up long before this.
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0


def repo_root():
    return Path(__file__).resolve().parents[2]


def free_port():
    """A loopback port nothing listens on right now (the caller retries if it is taken meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerKind:
    """Which program to run, and the directives that make it comparable to the other."""

    def __init__(self, name, binary, env_var, base_args):
        self.name = name
        self.binary = binary
        self.env_var = env_var
        self.base_args = base_args

    @staticmethod
    def named(name):
        if name == "cairn":
            path = os.environ.get("CAIRN_SERVER") or str(repo_root() / ".build" / "debug" / "cairn-server")
            if not os.path.isabs(path):
                path = str(repo_root() / path)
            # No save points, as for redis-server below: a test that wants them says so.
            return ServerKind("cairn", path, "CAIRN_SERVER", ["--save", ""])
        if name == "redis":
            path = os.environ.get("REDIS_SERVER") or shutil.which("redis-server") or "redis-server"
            return ServerKind("redis", path, "REDIS_SERVER", ["--save", "", "--appendonly", "no"])
        raise ValueError(name)

    @property
    def is_redis(self):
        return self.name == "redis"

    def available(self):
        return os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)


class ServerProcess:
    def __init__(self, kind, tmp_root, extra_args, config_text=None):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix=f"{kind.name}-", dir=tmp_root)
        self.extra_args = extra_args
        self.config_text = config_text
        # An existing config file to start with (a restart after CONFIG REWRITE), when no text.
        self.config_file = None
        self.port = None
        self.proc = None
        self.log_path = os.path.join(self.dir, "server.log")
        self.returncode = None
        # With --requirepass, the harness itself must AUTH before SHUTDOWN or FLUSHALL.
        self.password = None
        if "--requirepass" in extra_args:
            self.password = str(extra_args[extra_args.index("--requirepass") + 1])

    # -- lifecycle

    def command_line(self):
        argv = [self.kind.binary]
        if self.config_text is not None:
            conf = os.path.join(self.dir, "server.conf")
            with open(conf, "w") as f:
                f.write(self.config_text)
            argv.append(conf)
        elif self.config_file is not None:
            argv.append(self.config_file)
        argv += ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir]
        return argv + self.kind.base_args + [str(a) for a in self.extra_args]

    def start(self):
        last_error = None
        for _ in range(3):  # a free port can be taken between probing and binding
            self.port = free_port()
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(self.command_line(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir)
            log.close()
            try:
                self._wait_ready()
                return self
            except RuntimeError as e:
                last_error = e
                self._kill()
                if "Address already in use" not in self.log():
                    break
        raise RuntimeError(f"{last_error}\n--- {self.kind.name} log ---\n{self.log()[-4000:]}")

    def _wait_ready(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind.name} exited with status {self.proc.returncode} during start-up")
            try:
                with RawConnection(self.port, timeout=2.0) as c:
                    reply = c.command("PING")
                    if reply == "PONG" or str(reply).startswith("NOAUTH"):
                        return
            except (OSError, ConnectionError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.kind.name} did not answer PING within {STARTUP_TIMEOUT_SECONDS}s")

    def run_to_exit(self, timeout=STARTUP_TIMEOUT_SECONDS):
        """Runs the server with the port already chosen and returns its exit status; for
        configurations that must refuse to start. Killed (and None returned) if it keeps running."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command_line(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir)
        code = self.wait_exit(timeout)
        if code is None:
            self._kill()
        return code

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid

    def wait_exit(self, timeout=STOP_TIMEOUT_SECONDS):
        """Waits for the process to end on its own; returns its exit status or None."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
            return self.returncode
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        """SHUTDOWN NOSAVE NOW, then SIGKILL by PID if the process lingers. Returns the exit status."""
        if self.proc is None:
            return None
        if self.alive():
            try:
                with RawConnection(self.port, timeout=2.0) as c:
                    self._authenticate(c)
                    # NOW: no wait for lagging replicas (shutdown-timeout), as with Redis 7.0.
                    c.send(encode("SHUTDOWN", "NOSAVE", "NOW"))
                    c.is_closed(timeout=2.0)
            except OSError:
                pass
            if self.wait_exit() is None:
                self._kill()
        self.returncode = self.proc.wait()
        return self.returncode

    def kill9(self):
        """SIGKILL by PID (a crash: no shutdown, nothing flushed) and reaps it; the exit status."""
        self._kill()
        self.returncode = self.proc.wait() if self.proc is not None else None
        return self.returncode

    def start_again(self):
        """Starts the ended process again with the same port, --dir and arguments: a cluster node
        whose peers know its address, restarted from its nodes.conf."""
        assert not self.alive(), "still running"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command_line(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir)
        try:
            self._wait_ready()
        except RuntimeError as e:
            self._kill()
            raise RuntimeError(f"{e}\n--- {self.kind.name} log ---\n{self.log()[-4000:]}")
        return self

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def _authenticate(self, conn):
        if self.password is not None:
            conn.command("AUTH", self.password)

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def reset(self):
        """Empties every database; the state each test starts from."""
        with RawConnection(self.port) as c:
            self._authenticate(c)
            reply = c.command("FLUSHALL")
            assert reply == "OK", reply

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    # -- clients

    def client(self, protocol=2, **kw):
        kw.setdefault("socket_timeout", 30)
        return redis.Redis(host="127.0.0.1", port=self.port, protocol=protocol, **kw)

    def raw(self, timeout=10.0):
        return RawConnection(self.port, timeout=timeout)

    def cli(self, *args, input=None, timeout=60, check=True):
        """Runs redis-cli against this server; returns the CompletedProcess (bytes)."""
        cli = shutil.which(os.environ.get("REDIS_CLI", "redis-cli"))
        p = subprocess.run([cli, "-h", "127.0.0.1", "-p", str(self.port), *map(str, args)],
                           input=input, capture_output=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"redis-cli {args} exited {p.returncode}: {p.stderr.decode()}")
        return p


def require(kind_name):
    """The server kind named, or the test is skipped when its binary is missing."""
    import pytest
    kind = ServerKind.named(kind_name)
    if not kind.available():
        pytest.skip(f"{kind_name} binary not found: {kind.binary} (set {kind.env_var})")
    return kind


WAIT_DEADLINE_SECONDS = 30.0


def wait_for(predicate, what, cap=WAIT_DEADLINE_SECONDS):
    """Polls `predicate` until it holds, failing with `what` after `cap` seconds."""
    deadline = time.monotonic() + cap
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    assert predicate(), f"timed out waiting for {what}"


def start_redis_and_cairn(tmp_root, extra_args=(), config_text=None):
    """(redis, cairn): a real redis-server 7.0 and a cairn-server started with the same
    arguments and config text, for tests that compare the two side by side."""
    servers = [ServerProcess(require(kind), tmp_root, list(extra_args), config_text=config_text)
               for kind in ("redis", "cairn")]
    for s in servers:
        s.start()
    return servers
