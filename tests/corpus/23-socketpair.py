# socket.socketpair: two connected sockets in one program.
import socket

a, b = socket.socketpair()
print("family:", a.family == socket.AF_UNIX, "type:", a.type == socket.SOCK_STREAM)
a.sendall(b"from a")
print("b got", b.recv(100))
b.sendall(b"from b")
print("a got", a.recv(100))
a.close()
print("b after close:", b.recv(100))
b.close()

x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
x.send(b"one")
x.send(b"two")
print(y.recv(100), y.recv(100))
x.close()
y.close()
