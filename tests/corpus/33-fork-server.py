# A forking server written by hand: os.fork per client, os.waitpid to reap.
# lane: server
import os
import socket

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5330))
srv.listen(5)
children = []
for _ in range(2):
    conn, addr = srv.accept()
    pid = os.fork()
    if pid == 0:
        srv.close()
        data = conn.recv(1024)
        conn.sendall(b"child handled " + data)
        conn.close()
        os._exit(len(data))
    conn.close()
    children.append(pid)
srv.close()
for pid in children:
    _, status = os.waitpid(pid, 0)
    print("child exited with", os.WEXITSTATUS(status) if os.WIFEXITED(status) else "a signal")
print("parent done")

# lane: client1
import socket

s = socket.create_connection(("127.0.0.1", 5330))
s.sendall(b"abc")
print(s.recv(1024).decode())
s.close()

# lane: client2
import socket

s = socket.create_connection(("127.0.0.1", 5330))
s.sendall(b"defgh")
print(s.recv(1024).decode())
s.close()
