# Three lanes: a relay server passing messages from a sender to a receiver.
# lane: relay
import socket

srv = socket.create_server(("127.0.0.1", 5450))
receiver, _ = srv.accept()
role = receiver.recv(16)
print("first client is the", role.decode())
sender, _ = srv.accept()
print("second client is the", sender.recv(16).decode())
srv.close()
sender.sendall(b"go")
relayed = 0
while True:
    data = sender.recv(1024)
    if not data:
        break
    receiver.sendall(data)
    relayed += len(data)
receiver.shutdown(socket.SHUT_WR)
print("relayed", relayed, "bytes")
sender.close()
receiver.close()

# lane: receiver
import socket

r = socket.create_connection(("127.0.0.1", 5450))
r.sendall(b"receiver")
got = b""
while True:
    data = r.recv(1024)
    if not data:
        break
    got += data
print(got.decode())
r.close()

# lane: sender
import socket

s = socket.create_connection(("127.0.0.1", 5450))
s.sendall(b"sender")
assert s.recv(2) == b"go"
s.sendall(b"message through the relay")
s.close()
print("sent")
