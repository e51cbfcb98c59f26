# shutdown(SHUT_WR): the client says it is done sending but still reads.
# lane: server
import socket

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5280))
srv.listen(1)
conn, _ = srv.accept()
words = 0
received = b""
while True:
    data = conn.recv(4096)
    if not data:
        break
    received += data
words = len(received.split())
print("EOF after", len(received), "bytes")
conn.sendall(("%d words, %d lines" % (words, received.count(b"\n"))).encode())
conn.shutdown(socket.SHUT_RDWR)
conn.close()
srv.close()

# lane: client
import socket

c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("127.0.0.1", 5280))
c.sendall(b"the quick brown fox\njumps over\nthe lazy dog\n")
c.shutdown(socket.SHUT_WR)
try:
    c.send(b"more")
except BrokenPipeError as e:
    print("send after SHUT_WR:", type(e).__name__)
answer = b""
while True:
    chunk = c.recv(1024)
    if not chunk:
        break
    answer += chunk
print("server counted:", answer.decode())
c.close()
