# The server's work for one connection lives in a function.
# lane: server
import socket


def handle(conn, addr):
    total = 0
    while True:
        chunk = conn.recv(64)
        if not chunk:
            break
        total += len(chunk)
        conn.sendall(chunk.upper())
    conn.close()
    return total


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 5030))
server.listen(5)
conn, addr = server.accept()
n = handle(conn, addr)
print("handled", n, "bytes from", addr[0])
server.close()

# lane: client
import socket


def ask(sock, text):
    sock.sendall(text.encode())
    return sock.recv(1024).decode()


sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.connect(("127.0.0.1", 5030))
print(ask(sock, "shout"))
print(ask(sock, "louder please"))
sock.close()
