# socket.create_connection with a timeout, and a greeting protocol.
# lane: server
import socket

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 5210))
listener.listen()
conn, addr = listener.accept()
conn.sendall(b"220 ready\r\n")
line = conn.recv(1024)
print("command:", line.rstrip(b"\r\n").decode())
conn.sendall(b"221 bye\r\n")
conn.close()
listener.close()

# lane: client
import socket

with socket.create_connection(("127.0.0.1", 5210), timeout=5) as conn:
    print("timeout:", conn.gettimeout())
    print("peer:", conn.getpeername())
    print(conn.recv(1024).decode().strip())
    conn.sendall(b"QUIT\r\n")
    print(conn.recv(1024).decode().strip())
