# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096)
srv.bind(("127.0.0.1", 15503))
srv.listen(1)
conn, addr = srv.accept()
total = 0
while total < 3000000:
    total += len(conn.recv(65536))
print(total)

# lane: client
c = socket(AF_INET, SOCK_STREAM)
c.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096)
c.connect(("127.0.0.1", 15503))
c.setblocking(False)
sent = c.send(b"x" * 1000000)
print(sent < 1000000)
data = b"y" * 1000000
done = 0
try:
    while done < len(data):
        done += c.send(data[done:])
except OSError as e:
    print(e.errno)
c.setblocking(True)
c.sendall(b"z" * (2000000 - sent))
c.sendall(data[done:])
