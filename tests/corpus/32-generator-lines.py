# A generator that yields lines from a socket however the bytes arrive.
# lane: server
import socket
import time

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5320))
srv.listen(1)
conn, _ = srv.accept()
pieces = [b"first li", b"ne\nsecond line\nthi", b"rd", b" line\n", b"no newline at the end"]
for piece in pieces:
    conn.sendall(piece)
    time.sleep(0.01)
conn.close()
srv.close()
print("sent", len(pieces), "pieces")

# lane: client
import socket


def lines(sock, bufsize=7):
    buffer = b""
    while True:
        data = sock.recv(bufsize)
        if not data:
            break
        buffer += data
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line.decode()
    if buffer:
        yield buffer.decode()


c = socket.create_connection(("127.0.0.1", 5320))
for number, line in enumerate(lines(c), start=1):
    print(number, line)
c.close()
gen = lines(socket.socket())
print("generator object:", type(gen).__name__)
