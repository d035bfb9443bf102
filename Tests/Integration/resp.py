"""A raw RESP2/RESP3 connection for tests that must see exact bytes, malformed input or the
moment a server closes a connection -- things a client library hides."""

import socket
import time


class Error(str):
    """An error reply (`-ERR ...` or `!<len>` blob error), kept as its full text. Equal only to
    another Error, so a status reply with the same text never passes for an error."""

    def __eq__(self, other):
        return isinstance(other, Error) and str.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__

    def __repr__(self):
        return f"Error({str.__repr__(self)})"

    # A test that expected data but got an error reply fails with the error's text, not with a
    # TypeError about comparing an error to an int or decoding it.
    def _unexpected(self, *args, **kwargs):
        raise AssertionError(f"unexpected error reply: {str(self)!r}")

    __lt__ = __le__ = __gt__ = __ge__ = _unexpected
    decode = _unexpected

    def startswith(self, prefix, *args):
        if isinstance(prefix, bytes):
            self._unexpected()
        return str.startswith(self, prefix, *args)

    def endswith(self, suffix, *args):
        if isinstance(suffix, bytes):
            self._unexpected()
        return str.endswith(self, suffix, *args)


class Push(list):
    """A RESP3 push (`>`) frame."""


class RespSet(list):
    """A RESP3 set (`~`) reply, kept in server order."""


class Verbatim(bytes):
    """A RESP3 verbatim string (`=`); `.format` holds the 3-letter format, the bytes the text."""

    format = b"txt"


class Attribute(dict):
    """A RESP3 attribute (`|`) map that preceded a reply."""


def encode(*args):
    """Encodes a command as a RESP multibulk request."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class ConnectionClosed(Exception):
    pass


class RawConnection:
    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        # Every byte consumed by the reply reader, so tests can compare exact replies.
        self._consumed = []

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- sending

    def send(self, data):
        self.sock.sendall(data)

    def command(self, *args):
        """Sends one command and returns its decoded reply."""
        self.send(encode(*args))
        return self.read_reply()

    # -- receiving

    def _fill(self):
        try:
            chunk = self.sock.recv(1 << 16)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise ConnectionClosed("server closed the connection")
        self.buf += chunk

    def _readline(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                self._consumed.append(line + b"\r\n")
                return line
            self._fill()

    def _readexact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        self._consumed.append(data)
        return data

    def read_reply(self):
        """Reads one reply. Errors come back as `Error` values, not exceptions."""
        line = self._readline()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return Error(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self._readexact(n)
            self._readexact(2)
            return data
        if t in (b"*", b">", b"~"):
            n = int(rest)
            if n < 0:
                return None
            items = [self.read_reply() for _ in range(n)]
            return Push(items) if t == b">" else RespSet(items) if t == b"~" else items
        if t in (b"%", b"|"):
            n = int(rest)
            m = {}
            for _ in range(n):
                k = self.read_reply()
                m[_hashable(k)] = self.read_reply()
            if t == b"|":
                return self.read_reply()  # attributes are metadata; return the reply they annotate
            return m
        if t == b"_":
            return None
        if t == b"#":
            return rest == b"t"
        if t == b",":
            return float(rest)  # "inf", "-inf" and "nan" parse as Python floats
        if t == b"(":
            return int(rest)
        if t == b"!":
            data = self._readexact(int(rest))
            self._readexact(2)
            return Error(data.decode())
        if t == b"=":
            data = self._readexact(int(rest))
            self._readexact(2)
            v = Verbatim(data[4:])
            v.format = data[:3]
            return v
        raise AssertionError(f"not a RESP reply line: {line!r}")

    def read_raw_reply(self):
        """Reads one reply and returns its exact bytes on the wire."""
        self._consumed = []
        self.read_reply()
        return b"".join(self._consumed)

    def raw(self, data):
        """Sends bytes, returns the exact bytes of the one reply they provoke."""
        self.send(data)
        return self.read_raw_reply()

    def is_closed(self, timeout=10.0):
        """True when the server closes the connection within `timeout` (pending bytes dropped)."""
        deadline = time.monotonic() + timeout
        self.sock.settimeout(0.2)
        try:
            while time.monotonic() < deadline:
                try:
                    chunk = self.sock.recv(1 << 16)
                except socket.timeout:
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    return True
                if not chunk:
                    return True
            return False
        finally:
            self.sock.settimeout(10.0)


def _hashable(k):
    if isinstance(k, list):
        return tuple(_hashable(x) for x in k)
    if isinstance(k, dict):
        return tuple(sorted(k.items()))
    return k
