# ThreadingTCPServer running serve_forever in a thread, shut down after
# a fixed number of requests.
# lane: server
import socketserver
import threading

EXPECTED = 2
done = threading.Event()
count = 0
count_lock = threading.Lock()


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        global count
        data = self.request.recv(1024)
        cur_thread = threading.current_thread()
        reply = bytes("{}: {}".format(cur_thread is threading.main_thread(), data.decode()), "ascii")
        self.request.sendall(reply)
        with count_lock:
            count += 1
            if count == EXPECTED:
                done.set()


socketserver.ThreadingTCPServer.allow_reuse_address = True
server = socketserver.ThreadingTCPServer(("127.0.0.1", 5120), Handler)
with server:
    ip, port = server.server_address
    print("serving on", ip, port)
    server_thread = threading.Thread(target=server.serve_forever)
    server_thread.daemon = True
    server_thread.start()
    done.wait()
    server.shutdown()
    server_thread.join()
print("handled", count, "requests")

# lane: client
import socket


def client(ip, port, message):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.connect((ip, port))
        sock.sendall(bytes(message, "ascii"))
        response = str(sock.recv(1024), "ascii")
        print("Received: {}".format(response))


client("127.0.0.1", 5120, "Hello World 1")
client("127.0.0.1", 5120, "Hello World 2")
