# recv on a non-blocking socket that has nothing yet raises BlockingIOError.
# lane: server
import socket

srv = socket.create_server(("127.0.0.1", 5180))
conn, _ = srv.accept()
conn.setblocking(False)
try:
    conn.recv(10)
except BlockingIOError as e:
    print("would block:", e.errno, e.strerror)
conn.setblocking(True)
conn.sendall(b"go")
data = conn.recv(10)
print("then:", data)
conn.close()
srv.close()

# lane: client
import errno
import socket

c = socket.socket()
c.connect(("127.0.0.1", 5180))
print(c.recv(10))
c.setblocking(False)
try:
    c.recv(10)
except BlockingIOError as e:
    print("client would block too:", e.errno == errno.EAGAIN, e.errno == errno.EWOULDBLOCK)
c.setblocking(True)
c.sendall(b"later")
c.close()
