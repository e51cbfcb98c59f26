# Non-blocking accept and connect: BlockingIOError, then select.
# lane: server
import select
import socket

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5170))
srv.listen(1)
srv.setblocking(False)
try:
    srv.accept()
except BlockingIOError as e:
    print("nobody yet:", type(e).__name__)
select.select([srv], [], [])
conn, addr = srv.accept()
print("accepted; conn blocking:", conn.getblocking())
conn.setblocking(True)
print("server read", conn.recv(100))
conn.close()
srv.close()

# lane: client
import errno
import select
import socket

c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.setblocking(False)
try:
    c.connect(("127.0.0.1", 5170))
except BlockingIOError as e:
    print("connect in progress:", e.errno == errno.EINPROGRESS)
_, writable, _ = select.select([], [c], [], 5)
print("writable:", writable == [c])
print("SO_ERROR:", c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
c.sendall(b"connected without blocking")
c.close()
