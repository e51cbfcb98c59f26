# A connected UDP socket learns of an unreachable port on its next call.
import socket

nobody = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
nobody.connect(("127.0.0.1", 5520))
print("peer:", nobody.getpeername())
nobody.send(b"anyone there?")
try:
    nobody.recv(100)
except ConnectionRefusedError as e:
    print("recv:", e.strerror)
nobody.close()

server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind(("127.0.0.1", 5521))
client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
client.connect(("127.0.0.1", 5521))
client.send(b"datagram one")
client.send(b"datagram two")
print(server.recv(5), server.recvfrom(100)[0])
client.close()
server.close()
