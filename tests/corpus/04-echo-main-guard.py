# Each program is a module with main() behind the `__name__` guard.
# lane: server
import socket

HOST, PORT = "127.0.0.1", 5040


def main():
    with socket.socket() as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((HOST, PORT))
        srv.listen()
        conn, _ = srv.accept()
        with conn:
            message = conn.recv(1024)
            print("server got:", message.decode())
            conn.sendall(b"echo: " + message)


if __name__ == "__main__":
    main()

# lane: client
import socket

HOST, PORT = "127.0.0.1", 5040


def main():
    with socket.socket() as cli:
        cli.connect((HOST, PORT))
        cli.sendall("guarded hello".encode("utf-8"))
        reply = cli.recv(1024)
    print("client got:", reply.decode("utf-8"))


if __name__ == "__main__":
    main()
