# select.poll with a map from file descriptor to socket.
# lane: server
import select
import socket

READ_ONLY = select.POLLIN | select.POLLPRI | select.POLLHUP | select.POLLERR

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 5160))
server.listen(5)
server.setblocking(False)

poller = select.poll()
poller.register(server, READ_ONLY)
fd_to_socket = {server.fileno(): server}
finished = False

while not finished:
    for fd, flag in poller.poll(5000):
        s = fd_to_socket[fd]
        if s is server:
            conn, addr = s.accept()
            conn.setblocking(False)
            fd_to_socket[conn.fileno()] = conn
            poller.register(conn, READ_ONLY)
            print("accepted a client")
        elif flag & select.POLLIN:
            data = s.recv(1024)
            if data:
                print("poll read", data)
                s.sendall(b"ok " + data)
            else:
                poller.unregister(s)
                del fd_to_socket[fd]
                s.close()
                finished = True
        elif flag & (select.POLLHUP | select.POLLERR):
            poller.unregister(s)
            del fd_to_socket[fd]
            s.close()
            finished = True
poller.unregister(server)
server.close()
print("poll server done")

# lane: client
import socket

c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("127.0.0.1", 5160))
for item in (b"a", b"bb", b"ccc"):
    c.sendall(item)
    print(c.recv(64))
c.close()
