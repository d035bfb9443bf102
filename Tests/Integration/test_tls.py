"""TLS (Redis 7.0's tls.c): a tls-port beside the plain port, client certificates, protocols,
encrypted keys, reconfiguration by CONFIG SET, and replication over TLS.

Every test makes its certificates with `openssl` in a temporary dir (a CA, a server and a client
certificate, and a client certificate of another CA) and runs on a real redis-server 7.0
(Debian's is built with TLS) and on cairn-server alike. Clients are redis-cli --tls, redis-py
with ssl=True, and Python's ssl module for what the others cannot do (a TLS 1.2-only client, a
client without a certificate, the server certificate's name). Every wait polls with a deadline."""

import os
import shutil
import socket
import ssl
import subprocess
import tempfile

import pytest
import redis

from resp import Error, RawConnection
from serverproc import ServerProcess, free_port, require, wait_for

KINDS = ("redis", "cairn")


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _signed(cwd, name, ca, cn):
    """name.key and name.crt, signed by `ca` (ca.key / ca.crt in cwd)."""
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", f"/CN={cn}", cwd=cwd)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", cwd=cwd)


@pytest.fixture(scope="module")
def pki():
    if not shutil.which("openssl"):
        pytest.skip("openssl not found")
    d = tempfile.mkdtemp(prefix="cairn-tls-")
    for ca, cn in (("ca", "Cairn Test CA"), ("otherca", "Other CA")):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.crt",
                 "-days", "2", "-subj", f"/CN={cn}", cwd=d)
    _signed(d, "server", "ca", "server-one")
    _signed(d, "server2", "ca", "server-two")
    _signed(d, "client", "ca", "client")
    _signed(d, "stranger", "otherca", "stranger")
    # The server key, encrypted with a passphrase (PKCS#8, AES-256).
    _openssl("pkcs8", "-topk8", "-in", "server.key", "-out", "server-enc.key", "-v2", "aes-256-cbc",
             "-passout", "pass:s3cret", cwd=d)
    # A directory of CA certificates named as c_rehash names them (tls-ca-cert-dir).
    os.mkdir(os.path.join(d, "cadir"))
    h = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", "ca.crt"], cwd=d, check=True,
                       capture_output=True, text=True).stdout.strip()
    shutil.copy(os.path.join(d, "ca.crt"), os.path.join(d, "cadir", f"{h}.0"))
    yield {name: os.path.join(d, name) for name in os.listdir(d)} | {"dir": d}
    shutil.rmtree(d, ignore_errors=True)


def tls_args(pki, port, *extra, ca=True):
    args = ["--tls-port", port, "--tls-cert-file", pki["server.crt"], "--tls-key-file", pki["server.key"]]
    if ca:
        args += ["--tls-ca-cert-file", pki["ca.crt"]]
    return args + list(extra)


@pytest.fixture
def start(_tmp_root):
    """start(kind, *args) -> a started server (redis or cairn), stopped after the test."""
    started = []

    def run(kind, *args, **kw):
        s = ServerProcess(require(kind), _tmp_root, [str(a) for a in args], **kw)
        started.append(s)
        s.start()
        return s

    yield run
    for s in started:
        s.stop()


def ssl_context(pki, cert="client", max_version=None, ca="ca.crt"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # the test certificates name no host
    ctx.load_verify_locations(pki[ca])
    if cert:
        ctx.load_cert_chain(pki[f"{cert}.crt"], pki[f"{cert}.key"])
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


def tls_command(port, ctx, *words, timeout=10.0):
    """Sends one command over TLS; its reply line, or None when the handshake or the
    connection fails (a refused certificate shows in TLS 1.3 only once the server answers)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw) as s:
                s.sendall(b"".join([f"*{len(words)}\r\n".encode()] +
                                   [f"${len(w)}\r\n{w}\r\n".encode() for w in words]))
                data = b""
                while not data.endswith(b"\r\n"):
                    chunk = s.recv(4096)
                    if not chunk:
                        return None
                    data += chunk
                return data.decode().strip()
    except (ssl.SSLError, OSError):
        return None


def peer_name(port, ctx):
    """The common name of the certificate the server presents (None if no handshake)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw) as s:
                subject = dict(x[0] for x in s.getpeercert()["subject"])
                return subject["commonName"]
    except (ssl.SSLError, OSError):
        return None


def cli(pki, port, *args, cert=True):
    base = [shutil.which("redis-cli") or "redis-cli", "-h", "127.0.0.1", "-p", str(port), "--tls", "--cacert", pki["ca.crt"]]
    if cert:
        base += ["--cert", pki["client.crt"], "--key", pki["client.key"]]
    return subprocess.run(base + [str(a) for a in args], capture_output=True, text=True, timeout=60)


def plain(server, *words):
    with RawConnection(server.port) as c:
        return c.command(*words)


@pytest.mark.parametrize("kind", KINDS)
def test_redis_cli_redis_py_and_plain_port_side_by_side(kind, start, pki):
    port = free_port()
    s = start(kind, *tls_args(pki, port))
    assert cli(pki, port, "PING").stdout.strip() == "PONG"
    assert cli(pki, port, "SET", "k", "over-tls").stdout.strip() == "OK"
    assert cli(pki, port, "GET", "k").stdout.strip() == "over-tls"
    r = redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_certfile=pki["client.crt"], ssl_keyfile=pki["client.key"],
                    ssl_ca_certs=pki["ca.crt"], ssl_check_hostname=False, socket_timeout=30)
    try:
        assert r.ping()
        r.set("py", "value")
        assert r.get("py") == b"value"
        assert r.get("k") == b"over-tls"
        # The same dataset on the plain port, side by side with the open TLS connection.
        assert plain(s, "GET", "py") == b"value"
        plain(s, "SET", "fromplain", "1")
        assert r.get("fromplain") == b"1"
        assert r.incr("counter") == 1
    finally:
        r.close()
    # A TLS client is an ordinary client in CLIENT LIST.
    assert plain(s, "CLIENT", "LIST").count(b"id=") == 1


@pytest.mark.parametrize("kind", KINDS)
def test_auth_clients_yes_refuses_missing_or_foreign_certificate(kind, start, pki):
    port = free_port()
    s = start(kind, *tls_args(pki, port, "--tls-auth-clients", "yes"))
    assert tls_command(port, ssl_context(pki, cert=None), "PING") is None
    assert tls_command(port, ssl_context(pki, cert="stranger"), "PING") is None
    assert cli(pki, port, "PING", cert=False).stdout.strip() != "PONG"
    # The server keeps serving, on both ports.
    assert tls_command(port, ssl_context(pki), "PING") == "+PONG"
    assert plain(s, "PING") == "PONG"


@pytest.mark.parametrize("kind", KINDS)
def test_auth_clients_optional_and_no(kind, start, pki):
    port = free_port()
    s = start(kind, *tls_args(pki, port, "--tls-auth-clients", "optional"))
    assert tls_command(port, ssl_context(pki, cert=None), "PING") == "+PONG"
    assert tls_command(port, ssl_context(pki), "PING") == "+PONG"
    # Optional: a certificate presented is verified.
    assert tls_command(port, ssl_context(pki, cert="stranger"), "PING") is None
    assert cli(pki, port, "PING", cert=False).stdout.strip() == "PONG"

    port2 = free_port()
    start(kind, *tls_args(pki, port2, "--tls-auth-clients", "no"))
    assert tls_command(port2, ssl_context(pki, cert=None), "PING") == "+PONG"
    assert tls_command(port2, ssl_context(pki), "PING") == "+PONG"
    # CONFIG SET tls-auth-clients applies to the next connection.
    assert plain(s, "CONFIG", "SET", "tls-auth-clients", "yes") == "OK"
    assert tls_command(port, ssl_context(pki, cert=None), "PING") is None
    assert tls_command(port, ssl_context(pki), "PING") == "+PONG"


@pytest.mark.parametrize("kind", KINDS)
def test_no_ca_needed_when_clients_are_not_asked_for_certificates(kind, start, pki, _tmp_root):
    port = free_port()
    start(kind, *tls_args(pki, port, "--tls-auth-clients", "no", ca=False))
    assert tls_command(port, ssl_context(pki, cert=None), "PING") == "+PONG"
    # Without a CA, tls-auth-clients yes (the default) cannot start.
    s = ServerProcess(require(kind), _tmp_root, [str(a) for a in tls_args(pki, free_port(), ca=False)])
    s.port = free_port()
    assert s.run_to_exit() == 1
    log = s.log()
    assert "Either tls-ca-cert-file or tls-ca-cert-dir must be specified" in log
    assert "Failed to configure TLS. Check logs for more info." in log


@pytest.mark.parametrize("kind", KINDS)
def test_ca_cert_dir(kind, start, pki):
    port = free_port()
    args = ["--tls-port", port, "--tls-cert-file", pki["server.crt"], "--tls-key-file", pki["server.key"],
            "--tls-ca-cert-dir", pki["cadir"]]
    start(kind, *args)
    assert tls_command(port, ssl_context(pki), "PING") == "+PONG"
    assert tls_command(port, ssl_context(pki, cert="stranger"), "PING") is None


@pytest.mark.parametrize("kind", KINDS)
def test_encrypted_key_with_passphrase(kind, start, pki, _tmp_root):
    port = free_port()
    args = ["--tls-port", port, "--tls-cert-file", pki["server.crt"], "--tls-key-file", pki["server-enc.key"],
            "--tls-ca-cert-file", pki["ca.crt"]]
    start(kind, *args, "--tls-key-file-pass", "s3cret")
    assert tls_command(port, ssl_context(pki), "PING") == "+PONG"
    # Without the passphrase, or with a wrong one, the key does not load: no start.
    for extra in ([], ["--tls-key-file-pass", "wrong"]):
        s = ServerProcess(require(kind), _tmp_root, [str(a) for a in args[:1]] + [str(free_port())] + args[2:] + extra)
        s.port = free_port()
        assert s.run_to_exit() == 1
        log = s.log()
        assert "Failed to load private key" in log and "Failed to configure TLS. Check logs for more info." in log


@pytest.mark.parametrize("kind", KINDS)
def test_startup_fails_when_the_certificate_cannot_load(kind, pki, _tmp_root):
    args = ["--tls-port", free_port(), "--tls-cert-file", os.path.join(pki["dir"], "missing.crt"),
            "--tls-key-file", pki["server.key"], "--tls-ca-cert-file", pki["ca.crt"]]
    s = ServerProcess(require(kind), _tmp_root, [str(a) for a in args])
    s.port = free_port()
    assert s.run_to_exit() == 1
    log = s.log()
    assert "Failed to load certificate: " + os.path.join(pki["dir"], "missing.crt") in log
    assert "Failed to configure TLS. Check logs for more info." in log


@pytest.mark.parametrize("kind", KINDS)
def test_protocols_tls13_only_refuses_a_tls12_client(kind, start, pki):
    port = free_port()
    s = start(kind, *tls_args(pki, port, "--tls-protocols", "TLSv1.3"))
    assert tls_command(port, ssl_context(pki, max_version=ssl.TLSVersion.TLSv1_2), "PING") is None
    assert tls_command(port, ssl_context(pki), "PING") == "+PONG"
    # TLSv1.2 only: a TLS 1.3 connection cannot happen, a TLS 1.2 one can.
    assert plain(s, "CONFIG", "SET", "tls-protocols", "TLSv1.2") == "OK"
    ctx = ssl_context(pki)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as conn:
            assert conn.version() == "TLSv1.2"
    # An unknown protocol is refused, as Redis refuses it.
    e = plain(s, "CONFIG", "SET", "tls-protocols", "TLSv1.2 SSLv3")
    assert isinstance(e, Error), e
    assert "Unable to update TLS configuration" in str(e)
    assert "Invalid tls-protocols specified" in s.log()
    assert plain(s, "CONFIG", "GET", "tls-protocols") == [b"tls-protocols", b"TLSv1.2"]


@pytest.mark.parametrize("kind", KINDS)
def test_plaintext_client_on_the_tls_port_is_dropped(kind, start, pki):
    port = free_port()
    s = start(kind, *tls_args(pki, port))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(b"PING\r\n")
        data = b""
        try:
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    assert b"PONG" not in data
    assert tls_command(port, ssl_context(pki), "PING") == "+PONG"
    assert plain(s, "PING") == "PONG"


@pytest.mark.parametrize("kind", KINDS)
def test_config_set_certificate_applies_to_new_connections(kind, start, pki):
    port = free_port()
    s = start(kind, *tls_args(pki, port))
    ctx = ssl_context(pki)
    assert peer_name(port, ctx) == "server-one"
    r = redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_certfile=pki["client.crt"], ssl_keyfile=pki["client.key"],
                    ssl_ca_certs=pki["ca.crt"], ssl_check_hostname=False, socket_timeout=30)
    try:
        assert r.ping()
        assert plain(s, "CONFIG", "SET", "tls-cert-file", pki["server2.crt"], "tls-key-file", pki["server2.key"]) == "OK"
        wait_for(lambda: peer_name(port, ctx) == "server-two", "the new certificate")
        # A connection open before the change goes on.
        assert r.ping()
    finally:
        r.close()
    # A file that does not load is refused, and the certificate in use stays.
    e = plain(s, "CONFIG", "SET", "tls-cert-file", os.path.join(pki["dir"], "missing.crt"))
    assert isinstance(e, Error), e
    assert str(e) == ("ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - "
                            "Unable to update TLS configuration. Check server logs.")
    assert plain(s, "CONFIG", "GET", "tls-cert-file") == [b"tls-cert-file", pki["server2.crt"].encode()]
    assert peer_name(port, ctx) == "server-two"
    # A key that does not match the certificate is refused too.
    assert isinstance(plain(s, "CONFIG", "SET", "tls-key-file", pki["client.key"]), Error)
    assert tls_command(port, ctx, "PING") == "+PONG"
    # So is an invalid cipher list, and nothing of the CONFIG SET is applied.
    e = plain(s, "CONFIG", "SET", "maxmemory-samples", "7", "tls-ciphers", "NO-SUCH-CIPHER")
    assert isinstance(e, Error), e
    assert "possibly related to argument 'tls-ciphers'" in str(e)
    assert plain(s, "CONFIG", "GET", "maxmemory-samples") == [b"maxmemory-samples", b"5"]
    assert plain(s, "CONFIG", "SET", "tls-ciphers", "ECDHE-RSA-AES128-GCM-SHA256") == "OK"
    assert tls_command(port, ssl_context(pki, max_version=ssl.TLSVersion.TLSv1_2), "PING") == "+PONG"


@pytest.mark.parametrize("kind", KINDS)
def test_config_set_tls_port(kind, start, pki):
    s = start(kind, "--tls-cert-file", pki["server.crt"], "--tls-key-file", pki["server.key"],
              "--tls-ca-cert-file", pki["ca.crt"])
    port = free_port()
    assert plain(s, "CONFIG", "SET", "tls-port", str(port)) == "OK"
    wait_for(lambda: tls_command(port, ssl_context(pki), "PING") == "+PONG", "the new tls-port")
    # A port already taken is refused (here: the plain port).
    e = plain(s, "CONFIG", "SET", "tls-port", str(s.port))
    assert isinstance(e, Error), e
    assert "Unable to listen on this port" in str(e)
    assert tls_command(port, ssl_context(pki), "PING") == "+PONG"
    assert plain(s, "CONFIG", "SET", "tls-port", "0") == "OK"
    wait_for(lambda: tls_command(port, ssl_context(pki), "PING", timeout=2) is None, "the tls-port to close")


@pytest.mark.parametrize("kind", KINDS)
def test_tls_only_with_port_zero(kind, pki, _tmp_root):
    port = free_port()
    s = ServerProcess(require(kind), _tmp_root, [str(a) for a in tls_args(pki, port)] + ["--port", "0"])
    s.port = free_port()  # passed first, then overridden by --port 0
    with open(s.log_path, "ab") as log:
        s.proc = subprocess.Popen(s.command_line(), stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, cwd=s.dir)
    try:
        ctx = ssl_context(pki)
        wait_for(lambda: tls_command(port, ctx, "PING", timeout=2) == "+PONG", "PONG on the tls-port", cap=60)
        assert tls_command(port, ctx, "CONFIG", "GET", "port") is not None
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", s.port), timeout=2).close()
        tls_command(port, ctx, "SHUTDOWN", "NOSAVE")
        assert s.wait_exit() is not None
    finally:
        s._kill()


def _info(port, ctx):
    reply = {}
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as s:
            s.sendall(b"*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                head, _, rest = data.partition(b"\r\n")
                if head.startswith(b"$") and len(rest) >= int(head[1:]) + 2:
                    break
            for line in data.decode().splitlines()[1:]:
                if ":" in line:
                    k, _, v = line.partition(":")
                    reply[k] = v
    return reply


@pytest.mark.parametrize("master_kind", KINDS)
@pytest.mark.parametrize("client_cert", [False, True], ids=["server-cert", "client-cert"])
def test_cairn_replica_over_tls(master_kind, client_cert, start, pki):
    """A Cairn replica of a TLS-only replication link (tls-replication yes) to a Redis or Cairn
    master whose tls-auth-clients is yes: the replica presents its certificate (its server one,
    or tls-client-cert-file) and verifies the master's against the CA."""
    mport = free_port()
    master = start(master_kind, *tls_args(pki, mport))
    plain(master, "SET", "before", "sync")
    # The client-cert variant also asks for a diskless load, which a TLS link does through a file.
    extra = ["--tls-client-cert-file", pki["client.crt"], "--tls-client-key-file", pki["client.key"],
             "--repl-diskless-load", "on-empty-db"] if client_cert else []
    rport = free_port()
    replica = start("cairn", *tls_args(pki, rport, "--tls-replication", "yes", *extra),
                    "--replicaof", "127.0.0.1", mport)
    wait_for(lambda: plain(replica, "INFO", "replication").find(b"master_link_status:up") >= 0, "the TLS link up", cap=60)
    assert plain(replica, "GET", "before") == b"sync"
    plain(master, "SET", "after", "stream")
    wait_for(lambda: plain(replica, "GET", "after") == b"stream", "the stream over TLS")
    # The master counts one replica, which announced its tls-port as its listening port.
    info = _info(mport, ssl_context(pki))
    assert info["connected_slaves"] == "1"
    assert f",port={rport}," in info["slave0"], info["slave0"]


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_redis_replica_of_a_cairn_master_over_tls(diskless, start, pki):
    """A real redis-server replica of a Cairn master, over TLS: the full sync (disk-based on a
    TLS link, whatever repl-diskless-sync says) and the stream."""
    mport = free_port()
    master = start("cairn", *tls_args(pki, mport), "--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0")
    for i in range(100):
        plain(master, "SET", f"k{i}", f"v{i}")
    rport = free_port()
    replica = start("redis", *tls_args(pki, rport, "--tls-replication", "yes"), "--replicaof", "127.0.0.1", mport)
    wait_for(lambda: plain(replica, "INFO", "replication").find(b"master_link_status:up") >= 0, "the TLS link up", cap=60)
    assert f",port={rport},".encode() in plain(master, "INFO", "replication")
    assert plain(replica, "DBSIZE") == 100
    assert plain(replica, "GET", "k42") == b"v42"
    plain(master, "SET", "after", "stream")
    wait_for(lambda: plain(replica, "GET", "after") == b"stream", "the stream over TLS")
