# The getaddrinfo loop: try each address until one works.
# lane: server
import socket
import sys

HOST = "127.0.0.1"
PORT = 5290
s = None
for res in socket.getaddrinfo(HOST, PORT, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE):
    af, socktype, proto, canonname, sa = res
    try:
        s = socket.socket(af, socktype, proto)
    except OSError:
        s = None
        continue
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(sa)
        s.listen(1)
    except OSError:
        s.close()
        s = None
        continue
    break
if s is None:
    print("could not open socket")
    sys.exit(1)
print("listening with", socket.AddressFamily(af).name, sa)
conn, addr = s.accept()
with conn:
    while True:
        data = conn.recv(1024)
        if not data:
            break
        conn.send(data)
s.close()

# lane: client
import socket
import sys

HOST = "127.0.0.1"
PORT = 5290
infos = socket.getaddrinfo(HOST, PORT, socket.AF_UNSPEC, socket.SOCK_STREAM)
print("results:", len(infos), [info[4] for info in infos])
s = None
for af, socktype, proto, canonname, sa in infos:
    try:
        s = socket.socket(af, socktype, proto)
    except OSError:
        s = None
        continue
    try:
        s.connect(sa)
    except OSError:
        s.close()
        s = None
        continue
    break
if s is None:
    print("could not open socket")
    sys.exit(1)
with s:
    s.sendall(b"Hello, world")
    data = s.recv(1024)
print("Received", repr(data))
print("numeric:", socket.getaddrinfo("::1", 80, socket.AF_INET6, socket.SOCK_STREAM)[0][4][:2])
