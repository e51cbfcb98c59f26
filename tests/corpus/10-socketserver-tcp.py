# socketserver.TCPServer with a StreamRequestHandler, two requests.
# lane: server
import socketserver


class EchoHandler(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline().strip()
        print("{} wrote: {}".format(self.client_address[0], line.decode()))
        self.wfile.write(line.upper() + b"\n")


class Server(socketserver.TCPServer):
    allow_reuse_address = True


with Server(("127.0.0.1", 5100), EchoHandler) as server:
    server.handle_request()
    server.handle_request()
print("server done")

# lane: client
import socket

for text in ["first line", "second line"]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.connect(("127.0.0.1", 5100))
        sock.sendall(bytes(text + "\n", "utf-8"))
        received = str(sock.recv(1024), "utf-8")
    print("Sent:     {}".format(text))
    print("Received: {}".format(received.strip()))
