# ForkingTCPServer: each request in a child process; the parent reaps them.
# lane: server
import os
import socketserver


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        name = self.rfile.readline().strip()
        in_child = os.getpid() != parent
        self.wfile.write(b"hello " + name + b" (child: " + str(in_child).encode() + b")\n")


parent = os.getpid()
socketserver.ForkingTCPServer.allow_reuse_address = True
with socketserver.ForkingTCPServer(("127.0.0.1", 5130), Handler) as server:
    for _ in range(2):
        server.handle_request()
    print("requests handed to children: 2")
print("parent exits")

# lane: client
import socket

for name in (b"x", b"y"):
    with socket.create_connection(("127.0.0.1", 5130)) as s:
        s.sendall(name + b"\n")
        f = s.makefile("rb")
        print(f.readline().decode().rstrip())
        f.close()
