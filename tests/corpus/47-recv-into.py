# recv_into a preallocated bytearray through a memoryview.
# lane: server
import socket

srv = socket.create_server(("127.0.0.1", 5470))
conn, _ = srv.accept()
buf = bytearray(32)
view = memoryview(buf)
filled = 0
while filled < 20:
    n = conn.recv_into(view[filled:], 32 - filled)
    if n == 0:
        break
    filled += n
print("filled", filled, "bytes:", bytes(buf[:filled]))
print("rest still zero:", buf[filled:] == bytearray(32 - filled))
conn.close()
srv.close()

# lane: client
import socket

c = socket.create_connection(("127.0.0.1", 5470))
message = bytearray(b"0123456789")
c.send(message)
message[0:3] = b"abc"
c.sendall(memoryview(message))
print("sent", bytes(message))
c.close()
