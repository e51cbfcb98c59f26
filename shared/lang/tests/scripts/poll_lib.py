import os
import select
import selectors
import socket

print(select.POLLIN, select.POLLPRI, select.POLLOUT, select.POLLERR, select.POLLHUP, select.POLLNVAL)
print(select.EPOLLIN, select.EPOLLOUT, select.EPOLLET, select.EPOLLONESHOT, select.EPOLLRDHUP)
a, b = socket.socketpair()
p = select.poll()
p.register(a, select.POLLIN)
p.register(b.fileno(), select.POLLIN | select.POLLOUT)
print([(fd == b.fileno(), ev) for fd, ev in p.poll(0)])
b.send(b"hi")
print(sorted((fd == a.fileno(), ev) for fd, ev in p.poll(100)))
p.modify(b, select.POLLIN)
print([(fd == a.fileno(), ev) for fd, ev in p.poll()])
p.unregister(a)
print(p.poll(0))
for bad in [lambda: p.unregister(a), lambda: p.modify(a, 1), lambda: p.register(-1), lambda: p.register("x")]:
    try:
        bad()
    except KeyError:
        print("KeyError")
    except Exception as e:
        print(type(e).__name__, e)
e = select.epoll()
e.register(a.fileno(), select.EPOLLIN)
try:
    e.register(a, select.EPOLLIN)
except FileExistsError as exc:
    print("FileExistsError", exc)
print([(fd == a.fileno(), ev) for fd, ev in e.poll(0.1, 1)])
try:
    e.poll(0, 0)
except ValueError as exc:
    print(exc)
print(e.closed)
e.close()
print(e.closed)
try:
    e.poll()
except ValueError as exc:
    print(exc)
print(a.recv(10))

sel = selectors.DefaultSelector()
print(type(sel).__name__, selectors.DefaultSelector is selectors.EpollSelector)
key = sel.register(a, selectors.EVENT_READ, "reader")
print(key.fileobj is a, key.fd == a.fileno(), key.events, key.data)
print(sel.select(0))
b.send(b"more")
for k, mask in sel.select(1):
    print(k.data, mask, k.fileobj is a)
print(sel.get_key(a).data, len(sel.get_map()))
key2 = sel.modify(a, selectors.EVENT_READ | selectors.EVENT_WRITE, "both")
print(sorted(mask for k, mask in sel.select()), key2.data)
try:
    sel.register(a, selectors.EVENT_READ)
except KeyError as exc:
    print("KeyError already registered")
try:
    sel.register(b, 0)
except ValueError as exc:
    print(exc)
sel.unregister(a)
try:
    sel.unregister(a)
except KeyError:
    print("KeyError not registered")
with selectors.PollSelector() as ps:
    ps.register(b, selectors.EVENT_WRITE, 7)
    print([(k.data, m) for k, m in ps.select(0)])
print(ps.get_map())
ss = selectors.SelectSelector()
ss.register(a, selectors.EVENT_READ, "sel")
print([(k.data, m) for k, m in ss.select(0)])
ss.close()
sel.close()
print(os.path.join("/tmp", "x", "s.sock"), os.path.join("a", "/b"), os.path.join("a/", "b"))
print(os.path.basename("/tmp/s.sock"), os.path.dirname("/tmp/s.sock"), os.path.dirname("s"), os.path.dirname("/s"))
a.close()
b.close()
