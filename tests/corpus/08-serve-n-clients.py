# A server that serves a fixed number of clients, one after the other.
# lane: server
import socket

CLIENTS = 3

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5080))
srv.listen(CLIENTS)
for i in range(CLIENTS):
    conn, addr = srv.accept()
    name = conn.recv(1024).decode()
    print("client %d is %s" % (i + 1, name))
    conn.sendall(("welcome, %s, you are number %d" % (name, i + 1)).encode())
    conn.close()
srv.close()
print("served", CLIENTS, "clients")

# lane: ann
import socket

s = socket.create_connection(("127.0.0.1", 5080))
s.sendall(b"ann")
print(s.recv(1024).decode())
s.close()

# lane: bob
import socket

s = socket.create_connection(("127.0.0.1", 5080))
s.sendall(b"bob")
print(s.recv(1024).decode())
s.close()

# lane: cid
import socket

s = socket.create_connection(("127.0.0.1", 5080))
s.sendall(b"cid")
print(s.recv(1024).decode())
s.close()
