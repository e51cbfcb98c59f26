import socket

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
print(s.family, repr(s.family), s.family.name, s.family.value, s.family == 2)
print(repr(s.type), s.type.name, f"{s.type}", "%d" % s.family)
print(s.gettimeout(), s.getblocking())
s.settimeout(2.5)
print(s.gettimeout(), s.getblocking())
s.setblocking(False)
print(s.gettimeout(), s.getblocking())
s.setblocking(True)
print(s.gettimeout(), s.getblocking())
print(socket.AddressFamily(2).name, repr(socket.SocketKind(2)))
print(socket.getaddrinfo("127.0.0.1", 80, socket.AF_INET, socket.SOCK_STREAM))
print(socket.getaddrinfo("::1", 80, 0, socket.SOCK_STREAM))
print(socket.getaddrinfo(None, 80, type=socket.SOCK_STREAM))
print(len(socket.getaddrinfo("127.0.0.1", 80)))
try:
    socket.getaddrinfo("no.such.host.invalid", 80)
except OSError as e:
    print("gaierror", e.errno)
a, b = socket.socketpair()
print(a.family == socket.AF_UNIX, a.type == socket.SOCK_STREAM, repr(a.family))
a.sendall(b"ping")
print(b.recv(10))
a.close()
b.close()
srv = socket.create_server(("127.0.0.1", 5600))
print(srv.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0, srv.family.name)
c = socket.create_connection(("127.0.0.1", 5600), timeout=3)
print(c.gettimeout(), c.type.name, c.proto)
conn, addr = srv.accept()
print(conn.gettimeout())
try:
    socket.create_connection(("127.0.0.1", 5601))
except ConnectionRefusedError as e:
    print("refused", e.errno)
try:
    socket.create_server(("127.0.0.1", 5600))
except OSError as e:
    print("in use", e.errno)
