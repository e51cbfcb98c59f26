# socketserver.UDPServer with a DatagramRequestHandler.
# lane: server
import socketserver


class UpperHandler(socketserver.DatagramRequestHandler):
    def handle(self):
        data = self.rfile.read().strip()
        print("datagram:", data.decode())
        self.wfile.write(data.upper())


server = socketserver.UDPServer(("127.0.0.1", 5110), UpperHandler)
for _ in range(3):
    server.handle_request()
server.server_close()
print("udp server done")

# lane: client
import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(5)
for word in ["one", "two", "three"]:
    sock.sendto(word.encode() + b"\n", ("127.0.0.1", 5110))
    reply, server = sock.recvfrom(1024)
    print(word, "->", reply.decode(), "from", server)
sock.close()
