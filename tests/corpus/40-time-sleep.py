# A ticker that sleeps a little between messages; the reader reads lines.
# lane: server
import socket
import time

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5400))
srv.listen(1)
conn, _ = srv.accept()
start = time.monotonic()
for tick in range(1, 4):
    conn.sendall(("tick %d\n" % tick).encode())
    time.sleep(0.05)
conn.sendall(b"done\n")
elapsed = time.monotonic() - start
print("took at least 0.15 s:", elapsed >= 0.15)
conn.close()
srv.close()

# lane: client
import socket
import time

time.sleep(0.01)
c = socket.create_connection(("127.0.0.1", 5400))
reader = c.makefile("r")
while True:
    line = reader.readline()
    if not line:
        break
    print("read:", line.rstrip())
    if line == "done\n":
        break
reader.close()
c.close()
print("clock is a float:", isinstance(time.time(), float))
