# The basic UDP echo: sendto and recvfrom, no connection.
# lane: server
import socket

server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind(("127.0.0.1", 5440))
print("UDP server up on", server.getsockname())
for _ in range(3):
    message, address = server.recvfrom(1024)
    print("Message from {}: {}".format(address, message.decode()))
    server.sendto(message, address)
server.close()

# lane: client
import socket

client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for msg in ["hello", "udp", "world"]:
    sent = client.sendto(msg.encode(), ("127.0.0.1", 5440))
    data, server = client.recvfrom(1024)
    print("sent {} bytes, echo {!r} from {}".format(sent, data.decode(), server))
print("local address:", client.getsockname())
client.close()
