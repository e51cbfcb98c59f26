# str.format in its usual shapes.
# lane: server
import socket

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5060))
srv.listen(1)
print("Serving on {}:{}".format(*srv.getsockname()))
conn, addr = srv.accept()
print("Client {0}:{1} connected".format(addr[0], addr[1]))
data = conn.recv(1024)
print("{name} sent {size} bytes".format(name="client", size=len(data)))
print("[{:>10}] [{:<6}] [{:^7}] {:.2f} {:04d}".format("right", "left", "mid", 3.14159, 42))
reply = "{!r} has {} letters".format(data.decode(), len(data))
conn.sendall(reply.encode())
conn.close()
srv.close()

# lane: client
import socket

cli = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
cli.connect(("127.0.0.1", 5060))
cli.sendall(b"formatting")
print("Reply: {}".format(cli.recv(1024).decode()))
cli.close()
