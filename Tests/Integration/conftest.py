"""Pytest harness for Cairn's integration tests.

Every behavioural test is differential-capable: it talks to a server through the `server` (or
`r`) fixture, and that server is cairn-server by default, a real redis-server with
`--against-redis` (or CAIRN_TEST_REDIS=1), or each in turn with `--both`. A test's expectations
are therefore proven on real Redis 7.0 before Cairn is held to them.

Servers listen on a free loopback port with a private temporary --dir, and are stopped by the
PID this harness started (SHUTDOWN, then SIGKILL if the process lingers).
"""

import os
import shutil
import tempfile

import pytest

from serverproc import ServerProcess, ServerKind, repo_root, start_redis_and_cairn

# The server that most tests share; restarted only if a test killed it.
_shared = {}


def pytest_addoption(parser):
    group = parser.getgroup("cairn")
    group.addoption("--against-redis", action="store_true", default=False,
                    help="run the suite against a real redis-server instead of cairn-server")
    group.addoption("--both", action="store_true", default=False,
                    help="run every test against cairn-server and against redis-server")
    group.addoption("--keep-logs", action="store_true", default=False,
                    help="keep each server's temporary dir (with its log) after the run")



def _kinds(config):
    if config.getoption("--both"):
        return ["cairn", "redis"]
    if config.getoption("--against-redis") or os.environ.get("CAIRN_TEST_REDIS", "") not in ("", "0"):
        return ["redis"]
    return ["cairn"]


def pytest_report_header(config):
    lines = []
    for kind in _kinds(config):
        k = ServerKind.named(kind)
        lines.append(f"server under test: {kind} ({k.binary})")
    return lines


def pytest_generate_tests(metafunc):
    if "server_kind_name" in metafunc.fixturenames:
        kinds = _kinds(metafunc.config)
        metafunc.parametrize("server_kind_name", kinds, scope="session", ids=kinds)


@pytest.fixture(scope="session")
def server_kind(server_kind_name):
    kind = ServerKind.named(server_kind_name)
    if not kind.available():
        pytest.fail(f"{kind.name} binary not found: {kind.binary} "
                    f"(build it with `swift build`, or set {kind.env_var})", pytrace=False)
    return kind


@pytest.fixture(scope="session")
def _tmp_root(request):
    root = tempfile.mkdtemp(prefix="cairn-integ-")
    yield root
    if not request.config.getoption("--keep-logs"):
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def server_factory(server_kind, _tmp_root):
    """Starts servers of the kind under test with extra directives; stops them after the test."""
    started = []

    def start(*extra_args, **kw):
        s = ServerProcess(server_kind, _tmp_root, list(extra_args), **kw)
        started.append(s)
        s.start()
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def server(server_kind, _tmp_root):
    """The shared server of the kind under test, alive and with every database empty."""
    s = _shared.get(server_kind.name)
    if s is None or not s.alive():
        if s is not None:
            s.stop()
        s = ServerProcess(server_kind, _tmp_root, [])
        s.start()
        _shared[server_kind.name] = s
    s.reset()
    return s


@pytest.fixture
def r(server):
    """A RESP2 redis-py client on database 0 of the shared server."""
    c = server.client()
    yield c
    c.close()


@pytest.fixture
def raw(server):
    """A raw RESP connection to the shared server: exact error texts, exact bytes."""
    c = server.raw()
    yield c
    c.close()


@pytest.fixture
def r3(server):
    """A RESP3 redis-py client (it sends HELLO 3 when it connects)."""
    c = server.client(protocol=3)
    yield c
    c.close()


def pytest_sessionfinish(session, exitstatus):
    for s in _shared.values():
        s.stop()
    _shared.clear()


@pytest.fixture(scope="session")
def redis_cli():
    path = shutil.which(os.environ.get("REDIS_CLI", "redis-cli"))
    if not path:
        pytest.fail("redis-cli not found (apt-get install redis-tools)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def root():
    return repo_root()


@pytest.fixture(scope="module")
def pair(_tmp_root):
    """A real redis-server 7.0 and a cairn-server side by side, shared by one module's tests
    (whatever --both / --against-redis say). A module may define its own `pair`."""
    servers = start_redis_and_cairn(_tmp_root)
    yield servers
    for s in servers:
        s.stop()
