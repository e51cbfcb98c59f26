# A thread per client; the main thread joins them before it reports.
# lane: server
import socket
import threading

results = {}
lock = threading.Lock()


def serve(conn, number):
    with conn:
        data = conn.recv(1024)
        conn.sendall(data[::-1])
    with lock:
        results[number] = data.decode()


srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5090))
srv.listen(5)
threads = []
for number in range(2):
    conn, addr = srv.accept()
    t = threading.Thread(target=serve, args=(conn, number), daemon=True)
    t.start()
    threads.append(t)
for t in threads:
    t.join()
srv.close()
for number in sorted(results):
    print("thread", number, "echoed", results[number])
print("threads alive:", sum(t.is_alive() for t in threads))

# lane: first
import socket

c = socket.socket()
c.connect(("127.0.0.1", 5090))
c.sendall(b"stop")
print(c.recv(1024))
c.close()

# lane: second
import socket

c = socket.socket()
c.connect(("127.0.0.1", 5090))
c.sendall(b"live")
print(c.recv(1024))
c.close()
