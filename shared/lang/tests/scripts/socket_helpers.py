import socket

print(socket.htons(80), socket.ntohs(20480), socket.htonl(1), socket.ntohl(16777216))
print(hex(socket.htons(0x1234)), socket.htonl(0x01020304) == 0x04030201)
for bad in (-1, 65536):
    try:
        socket.htons(bad)
    except OverflowError as e:
        print("OverflowError:", e)
print(socket.inet_aton("127.0.0.1"), socket.inet_aton("10.1"), socket.inet_aton("0x7f.1"))
print(socket.inet_ntoa(b"\xc0\xa8\x00\x01"))
for bad in ("300.1.1.1", "a.b.c.d", ""):
    try:
        socket.inet_aton(bad)
    except OSError as e:
        print("OSError:", e)
print(socket.inet_pton(socket.AF_INET6, "::1"))
print(socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, "fe80::1:2")))
print(socket.inet_ntop(socket.AF_INET, b"\x7f\x00\x00\x01"))
try:
    socket.inet_ntop(socket.AF_INET, b"\x7f")
except ValueError as e:
    print("ValueError:", e)
print(socket.getservbyname("http"), socket.getservbyname("domain", "udp"), socket.getservbyport(22))
try:
    socket.getservbyname("nosuch")
except OSError as e:
    print("OSError:", e)
print(socket.getprotobyname("icmp"), socket.getprotobyname("tcp"), socket.getprotobyname("udp"))
print(socket.getnameinfo(("127.0.0.1", 80), 0))
print(socket.getnameinfo(("127.0.0.1", 80), socket.NI_NUMERICHOST | socket.NI_NUMERICSERV))
print(socket.getnameinfo(("10.0.0.1", 53), socket.NI_DGRAM))
print(socket.getdefaulttimeout())
