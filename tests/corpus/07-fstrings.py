# f-strings everywhere, with expressions, conversions and format specs.
# lane: server
import socket

HOST = "127.0.0.1"
PORT = 5070

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((HOST, PORT))
    srv.listen()
    print(f"Listening on {HOST}:{PORT}")
    conn, (peer_host, peer_port) = srv.accept()
    with conn:
        print(f"Accepted {peer_host}:{peer_port}")
        data = conn.recv(1024)
        print(f"{len(data)=} {data!r}")
        text = data.decode()
        print(f"{text:>12}|{text:<12}|{text.upper()}")
        ratio = len(text) / 3
        print(f"ratio {ratio:.3f}, count {len(text):03d}, hex {len(text):#x}")
        conn.sendall(f"{text[::-1]}".encode())

# lane: client
import socket

HOST = "127.0.0.1"
PORT = 5070

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as cli:
    cli.connect((HOST, PORT))
    word = "stressed"
    cli.sendall(word.encode())
    back = cli.recv(1024).decode()
    print(f"sent {word!r}, got {back!r}, same length: {len(back) == len(word)}")
