# The echo pair with `with` blocks, so the sockets close themselves.
# lane: server
import socket

HOST = "127.0.0.1"
PORT = 5020

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, PORT))
    s.listen()
    conn, addr = s.accept()
    with conn:
        print("Connected by", addr)
        while True:
            data = conn.recv(1024)
            if not data:
                break
            conn.sendall(data)
print("server closed:", s.fileno() == -1)

# lane: client
import socket

HOST = "127.0.0.1"
PORT = 5020

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.connect((HOST, PORT))
    for word in [b"alpha", b"beta", b"gamma"]:
        s.sendall(word)
        data = s.recv(1024)
        print("Received", repr(data))
print("client closed:", s.fileno() == -1)
