"""Client eviction (`maxmemory-clients`, issue 16 point 6): a client whose buffers push the clients'
memory over the limit is closed, unless it sent CLIENT NO-EVICT ON; INFO counts evicted_clients.
Runs against cairn-server, and against redis-server 7.0 with --both / --against-redis."""
from serverproc import wait_for

BIG = 3 * 1024 * 1024


def partial_set(conn, size=BIG, sent=BIG // 2):
    """Starts a SET whose value is `size` bytes and sends only `sent` of them: the query buffer
    holds them until the rest arrives."""
    conn.send(f"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${size}\r\n".encode())
    conn.send(b"x" * sent)


def evicted_clients(server):
    with server.raw() as c:
        info = c.command("INFO", "stats").decode()
    return int(info.split("evicted_clients:")[1].split("\r\n")[0])


def test_a_client_over_the_limit_is_evicted(server_factory):
    s = server_factory("--maxmemory-clients", "1mb")
    assert evicted_clients(s) == 0
    hog = s.raw()
    partial_set(hog)
    assert hog.is_closed(), "the client holding 1.5 MB of query buffer must be evicted"
    wait_for(lambda: evicted_clients(s) == 1, "evicted_clients counts it")
    with s.raw() as c:
        assert c.command("EXISTS", "big") == 0
        assert c.command("CONFIG", "GET", "maxmemory-clients") == [b"maxmemory-clients", b"1048576"]


def test_no_evict_clients_are_kept(server_factory):
    s = server_factory("--maxmemory-clients", "1mb")
    hog = s.raw()
    assert hog.command("CLIENT", "NO-EVICT", "on") == "OK"
    partial_set(hog)
    hog.send(b"x" * (BIG - BIG // 2) + b"\r\n")
    assert hog.read_reply() == "OK"
    assert hog.command("STRLEN", "big") == BIG
    assert evicted_clients(s) == 0
    hog.close()


def test_limit_as_a_percentage_of_maxmemory(server_factory):
    s = server_factory("--maxmemory", "10mb", "--maxmemory-clients", "10%")
    with s.raw() as c:
        assert c.command("CONFIG", "GET", "maxmemory-clients") == [b"maxmemory-clients", b"10%"]
    hog = s.raw()
    partial_set(hog)  # 1.5 MB > 1 MB
    assert hog.is_closed()
    # Off again: the same client is left alone.
    with s.raw() as c:
        assert c.command("CONFIG", "SET", "maxmemory-clients", "0") == "OK"
    calm = s.raw()
    partial_set(calm)
    calm.send(b"x" * (BIG - BIG // 2) + b"\r\n")
    assert calm.read_reply() == "OK"
    calm.close()
