# main() returns a status for sys.exit; SystemExit can be caught like others.
# lane: server
import socket
import sys


def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 5340))
    srv.listen()
    conn, _ = srv.accept()
    request = conn.recv(100)
    if request != b"please stop":
        print("unexpected request", request)
        return 1
    conn.sendall(b"stopping")
    conn.close()
    srv.close()
    print("stopping cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())

# lane: client
import socket
import sys

try:
    sys.exit(3)
except SystemExit as e:
    print("caught SystemExit with code", e.code)

s = socket.create_connection(("127.0.0.1", 5340))
s.sendall(b"please stop")
answer = s.recv(100)
s.close()
print("answer:", answer)
if answer == b"stopping":
    sys.exit(0)
print("not reached")
