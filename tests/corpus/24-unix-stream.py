# A Unix domain stream server with the usual unlink guard.
# lane: server
import os
import socket

PATH = "/tmp/socklab-corpus-24.sock"

try:
    os.unlink(PATH)
except OSError:
    if os.path.exists(PATH):
        raise

server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(PATH)
server.listen(1)
print("bound to", server.getsockname())
connection, client_address = server.accept()
try:
    print("client address:", repr(client_address))
    while True:
        data = connection.recv(16)
        if data:
            connection.sendall(data)
        else:
            break
finally:
    connection.close()
    server.close()
    os.unlink(PATH)
print("socket file left:", os.path.exists(PATH))

# lane: client
import socket

PATH = "/tmp/socklab-corpus-24.sock"

sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    sock.connect(PATH)
except socket.error as msg:
    print(msg)
    raise
try:
    message = b"This is the message.  It will be repeated."
    sock.sendall(message)
    amount_received = 0
    amount_expected = len(message)
    received = b""
    while amount_received < amount_expected:
        data = sock.recv(16)
        amount_received += len(data)
        received += data
    print("echoed back intact:", received == message)
finally:
    sock.close()
