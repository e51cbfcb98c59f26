# Exception chaining: a protocol error raised from the low-level cause.
# lane: server
import socket

srv = socket.create_server(("127.0.0.1", 5350))
conn, _ = srv.accept()
conn.sendall(b"VERSION x.y\n")
conn.close()
srv.close()

# lane: client
import socket
import struct


class ProtocolError(Exception):
    """The peer said something we cannot understand."""


def read_version(sock):
    line = sock.makefile("rb").readline()
    try:
        major, minor = line.split()[1].split(b".")
        return int(major), int(minor)
    except ValueError as e:
        raise ProtocolError("bad version line %r" % line) from e


def connect_to(port):
    try:
        return socket.create_connection(("127.0.0.1", port))
    except ConnectionRefusedError as e:
        raise ProtocolError("no server on port %d" % port) from e


try:
    connect_to(5351)
except ProtocolError as e:
    print("error:", e)
    print("cause:", type(e.__cause__).__name__)

sock = connect_to(5350)
try:
    read_version(sock)
except ProtocolError as e:
    print("error:", e)
    print("cause:", repr(e.__cause__))
    print("suppressed context:", e.__suppress_context__)
finally:
    sock.close()

try:
    try:
        struct.unpack("!I", b"\x00")
    except struct.error as e:
        raise ProtocolError("short header") from None
except ProtocolError as e:
    print("error:", e, "| cause:", e.__cause__, "| context kept:", e.__context__ is not None)
