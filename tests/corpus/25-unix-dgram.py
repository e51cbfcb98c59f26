# Unix domain datagrams: the client binds its own path so it can be answered.
# lane: server
import os
import socket

SERVER = "/tmp/socklab-corpus-25-server"
if os.path.exists(SERVER):
    os.unlink(SERVER)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(SERVER)
for _ in range(2):
    data, sender = s.recvfrom(1024)
    print("got", data, "from", sender)
    s.sendto(data[::-1], sender)
s.close()
os.unlink(SERVER)

# lane: client
import os
import socket

SERVER = "/tmp/socklab-corpus-25-server"
CLIENT = "/tmp/socklab-corpus-25-client"
if os.path.exists(CLIENT):
    os.unlink(CLIENT)
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
c.bind(CLIENT)
for word in (b"drawer", b"stressed"):
    c.sendto(word, SERVER)
    print(c.recv(1024))
c.close()
os.remove(CLIENT)
