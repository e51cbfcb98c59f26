# A TCP echo server and its client, written straight down the page.
# lane: server
import socket

HOST = "127.0.0.1"
PORT = 5010

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((HOST, PORT))
s.listen(1)
print("listening on", s.getsockname())
conn, addr = s.accept()
print("connected by", addr)
while True:
    data = conn.recv(1024)
    if not data:
        break
    print("received", data)
    conn.sendall(data)
conn.close()
s.close()
print("server done")

# lane: client
import socket

HOST = "127.0.0.1"
PORT = 5010

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect((HOST, PORT))
s.sendall(b"Hello, world")
data = s.recv(1024)
s.close()
print("received", repr(data))
