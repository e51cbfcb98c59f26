# Old-style % formatting, as many tutorials print addresses.
# lane: server
import socket

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5050))
srv.listen(1)
print("Listening on %s:%s" % srv.getsockname())
conn, addr = srv.accept()
print("Connection from %s:%s" % addr)
data = conn.recv(1024)
print("Got %d bytes: %r" % (len(data), data))
print("As text: %s, padded: [%8s] [%-8s]" % (data.decode(), "ab", "cd"))
print("Hex %x, octal %o, float %.3f, percent %d%%" % (255, 8, 2.0 / 3, 50))
conn.sendall(("%05d" % len(data)).encode())
conn.close()
srv.close()

# lane: client
import socket

cli = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
cli.connect(("127.0.0.1", 5050))
print("Connected to %s:%d" % cli.getpeername())
cli.send(b"percent")
print("Server counted %s" % cli.recv(16).decode())
cli.close()
