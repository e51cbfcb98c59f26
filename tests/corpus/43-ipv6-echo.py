# The echo pair over IPv6 on ::1.
# lane: server
import socket

srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
srv.bind(("::1", 5430))
srv.listen(1)
host, port, flowinfo, scope_id = srv.getsockname()
print("listening on [%s]:%d flowinfo=%d scope=%d" % (host, port, flowinfo, scope_id))
conn, addr = srv.accept()
print("client host:", addr[0], "tuple length:", len(addr))
conn.sendall(conn.recv(100))
conn.close()
srv.close()

# lane: client
import socket

c = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
c.connect(("::1", 5430, 0, 0))
c.sendall(b"six")
print("echo:", c.recv(100))
print("peer:", c.getpeername())
c.close()
try:
    v4 = socket.create_connection(("127.0.0.1", 5430), timeout=1)
except ConnectionRefusedError:
    print("nothing on the IPv4 side")
