# Messages framed by a 4-byte big-endian length, read with a recv_exact loop.
# lane: server
import socket
import struct


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_msg(sock):
    header = sock.recv(4, socket.MSG_WAITALL)
    if not header:
        return None
    (length,) = struct.unpack("!I", header)
    return recv_exact(sock, length)


def send_msg(sock, payload):
    sock.sendall(struct.pack("!I", len(payload)) + payload)


srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5190))
srv.listen(1)
conn, _ = srv.accept()
count = 0
while True:
    msg = recv_msg(conn)
    if msg is None:
        break
    count += 1
    print("message", count, "has", len(msg), "bytes, starts", msg[:10])
    send_msg(conn, str(len(msg)).encode())
conn.close()
srv.close()

# lane: client
import socket
import struct


def send_msg(sock, payload):
    sock.sendall(struct.pack("!I", len(payload)) + payload)


def recv_msg(sock):
    (length,) = struct.unpack("!I", sock.recv(4, socket.MSG_WAITALL))
    return sock.recv(length, socket.MSG_WAITALL)


cli = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
cli.connect(("127.0.0.1", 5190))
for payload in [b"short", b"x" * 1000, bytes(range(256)) * 300]:
    send_msg(cli, payload)
    print("server says", recv_msg(cli).decode())
print("header of 5:", struct.pack("!I", 5))
cli.close()
