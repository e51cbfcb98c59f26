# A UDP client with a timeout: the server ignores one request on purpose.
# lane: server
import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 5260))
answered = 0
while answered < 2:
    data, addr = sock.recvfrom(1024)
    if data == b"ignore me":
        print("ignoring", data)
        continue
    sock.sendto(b"pong:" + data, addr)
    answered += 1
sock.close()
print("answered", answered)

# lane: client
import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(0.5)
for message in [b"first", b"ignore me", b"last"]:
    sock.sendto(message, ("127.0.0.1", 5260))
    try:
        reply, _ = sock.recvfrom(1024)
        print("reply:", reply)
    except socket.timeout:
        print("request", message, "timed out")
sock.settimeout(None)
print("timeout now:", sock.gettimeout())
sock.close()
