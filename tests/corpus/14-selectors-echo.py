# A selectors.DefaultSelector event loop with a callback per registration.
# lane: server
import selectors
import socket

sel = selectors.DefaultSelector()
state = {"clients": 0, "closed": 0, "bytes": 0}
CLIENTS = 2


def accept(sock, mask):
    conn, addr = sock.accept()
    conn.setblocking(False)
    state["clients"] += 1
    sel.register(conn, selectors.EVENT_READ, read)


def read(conn, mask):
    data = conn.recv(1000)
    if data:
        state["bytes"] += len(data)
        conn.send(data)
    else:
        sel.unregister(conn)
        conn.close()
        state["closed"] += 1


sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 5140))
sock.listen(100)
sock.setblocking(False)
sel.register(sock, selectors.EVENT_READ, accept)

while state["closed"] < CLIENTS:
    events = sel.select()
    for key, mask in events:
        callback = key.data
        callback(key.fileobj, mask)

sel.unregister(sock)
sock.close()
sel.close()
print("clients", state["clients"], "closed", state["closed"], "bytes", state["bytes"])

# lane: one
import socket

with socket.create_connection(("127.0.0.1", 5140)) as s:
    for msg in [b"ping", b"pong"]:
        s.sendall(msg)
        print(s.recv(100))

# lane: two
import socket

with socket.create_connection(("127.0.0.1", 5140)) as s:
    s.sendall(b"selectors")
    print(s.recv(100))
