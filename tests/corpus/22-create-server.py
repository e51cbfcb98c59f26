# socket.create_server and an IPv6 dual-stack check.
# lane: server
import socket

print("dualstack:", socket.has_dualstack_ipv6())
with socket.create_server(("127.0.0.1", 5220), reuse_port=False) as server:
    print("family:", server.family.name, "type:", server.type.name)
    print("reuseaddr:", server.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0)
    conn, addr = server.accept()
    with conn:
        conn.sendall(b"made by create_server")

# lane: client
import socket

with socket.create_connection(("127.0.0.1", 5220)) as c:
    chunks = []
    while True:
        part = c.recv(4)
        if not part:
            break
        chunks.append(part)
print(b"".join(chunks).decode())
