# Command-line options with argparse; run without arguments, the defaults apply.
# lane: server
import argparse
import socket


def parse_args():
    parser = argparse.ArgumentParser(description="Count-down server")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("-p", "--port", type=int, default=5420)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args()


args = parse_args()
print("options:", args.host, args.port, args.clients, args.verbose)
with socket.create_server((args.host, args.port)) as srv:
    for _ in range(args.clients):
        conn, _ = srv.accept()
        with conn:
            n = int(conn.recv(16))
            conn.sendall(" ".join(str(i) for i in range(n, 0, -1)).encode())

# lane: client
import argparse
import socket

parser = argparse.ArgumentParser()
parser.add_argument("count", nargs="?", type=int, default=5)
parser.add_argument("--port", type=int, default=5420)
args = parser.parse_args()
print(vars(args) == {"count": 5, "port": 5420})
with socket.create_connection(("127.0.0.1", args.port)) as c:
    c.sendall(str(args.count).encode())
    print(c.recv(100).decode())
