# try/except/else/finally around every step, cleanup always runs.
# lane: server
import socket

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 5360))
    srv.listen(1)
    conn, _ = srv.accept()
finally:
    srv.close()
    print("listener closed")
try:
    data = conn.recv(1024)
    number = int(data)
except ValueError:
    print("not a number:", data)
    conn.sendall(b"error")
else:
    conn.sendall(str(number * 2).encode())
finally:
    conn.close()
    print("connection closed")

# lane: client
import socket


def ask(text):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.connect(("127.0.0.1", 5360))
        s.sendall(text)
        return s.recv(1024)
    finally:
        s.close()
        print("client socket closed:", s.fileno())


print("answer:", ask(b"twelve"))
try:
    ask(b"again")
except OSError as e:
    print("second try failed:", e.strerror)
