# sendall of a megabyte; the receiver counts recv calls and checks the bytes.
# lane: server
import hashlib
import socket

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5300))
srv.listen(1)
conn, _ = srv.accept()
total = 0
chunks = 0
digest = hashlib.sha256()
while True:
    data = conn.recv(4096)
    if not data:
        break
    chunks += 1
    total += len(data)
    digest.update(data)
print("received", total, "bytes")
print("needed at least 256 recv calls:", chunks >= 256)
print("sha256", digest.hexdigest()[:16])
conn.sendall(str(total).encode())
conn.close()
srv.close()

# lane: client
import hashlib
import socket

payload = bytes(i % 251 for i in range(1024 * 1024))
print("sending", len(payload), "bytes, sha256", hashlib.sha256(payload).hexdigest()[:16])
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("127.0.0.1", 5300))
result = c.sendall(payload)
print("sendall returned", result)
c.shutdown(socket.SHUT_WR)
print("server confirms", c.recv(100).decode())
c.close()
