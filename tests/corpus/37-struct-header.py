# A binary protocol: a fixed struct header (type, flags, sequence, length).
# lane: server
import socket
import struct

HEADER = struct.Struct("!BBHI")
print("header size:", HEADER.size, struct.calcsize("!BBHI"), struct.calcsize("BBHI"))

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5370))
srv.listen(1)
conn, _ = srv.accept()
buf = b""
while True:
    data = conn.recv(1024)
    if not data:
        break
    buf += data
offset = 0
while offset < len(buf):
    kind, flags, seq, length = HEADER.unpack_from(buf, offset)
    offset += HEADER.size
    body = buf[offset:offset + length]
    offset += length
    print("kind=%d flags=%#04x seq=%d body=%r" % (kind, flags, seq, body))
conn.close()
srv.close()

# lane: client
import socket
import struct

HEADER = struct.Struct("!BBHI")
messages = [(1, 0x00, b"hello"), (2, 0x80, b""), (7, 0x0F, struct.pack("<hd", -2, 1.5))]
packet = b""
for seq, (kind, flags, body) in enumerate(messages):
    packet += HEADER.pack(kind, flags, seq, len(body)) + body
print("packet:", len(packet), "bytes")
print("first header:", packet[:8])
print("little-endian short:", struct.unpack("<hd", messages[2][2]))
c = socket.create_connection(("127.0.0.1", 5370))
c.sendall(packet)
c.close()
