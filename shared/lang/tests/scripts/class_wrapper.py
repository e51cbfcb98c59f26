# lane: server
import socket


class EchoServer:
    def __init__(self, host, port):
        self.address = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.served = 0

    def __enter__(self):
        self.sock.bind(self.address)
        self.sock.listen()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.sock.close()
        return False

    def serve_one(self):
        conn, _ = self.sock.accept()
        with conn:
            conn.sendall(self.transform(conn.recv(1024)))
        self.served += 1

    def transform(self, data):
        return data


class ShoutingServer(EchoServer):
    def transform(self, data):
        return super().transform(data).upper() + b"!"


with ShoutingServer("127.0.0.1", 5310) as server:
    server.serve_one()
    print("served", server.served)

# lane: client
import socket


class Client:
    def __init__(self, address):
        self.address = address

    def request(self, text):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        with s:
            s.connect(self.address)
            s.sendall(text.encode())
            return s.recv(1024).decode()

    def __repr__(self):
        return "Client(%r)" % (self.address,)


client = Client(("127.0.0.1", 5310))
print(client)
print(client.request("hello"))
