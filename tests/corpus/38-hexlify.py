# Looking at bytes: binascii.hexlify, bytes.hex, bytes.fromhex.
# lane: server
import binascii
import socket

srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("127.0.0.1", 5380))
for _ in range(2):
    data, addr = srv.recvfrom(512)
    print("hexlify:", binascii.hexlify(data))
    print("hex with sep:", data.hex(" "))
    print("crc32: %08x" % binascii.crc32(data))
    srv.sendto(binascii.unhexlify(b"6f6b") + bytes([len(data)]), addr)
srv.close()

# lane: client
import binascii
import socket

c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for payload in [b"\x00\x01\xfe\xff", bytes.fromhex("de ad be ef") + b"AB"]:
    c.sendto(payload, ("127.0.0.1", 5380))
    reply = c.recv(512)
    print(reply, binascii.hexlify(reply, "-").decode())
c.close()
