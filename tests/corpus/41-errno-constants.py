# errno constants, errno.errorcode and os.strerror on real failures.
import errno
import os
import socket

print(errno.ECONNREFUSED, errno.EADDRINUSE, errno.EAGAIN, errno.EINVAL, errno.ENOTCONN)
print(errno.errorcode[errno.EADDRINUSE], os.strerror(errno.EADDRINUSE))

first = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
first.bind(("127.0.0.1", 5410))
first.listen()
second = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    second.bind(("127.0.0.1", 5410))
except OSError as e:
    if e.errno == errno.EADDRINUSE:
        print("port taken:", e)
    else:
        raise
finally:
    second.close()

lonely = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    lonely.getpeername()
except OSError as e:
    print("getpeername:", errno.errorcode[e.errno], e.args)
try:
    lonely.send(b"x")
except OSError as e:
    print("send unconnected:", errno.errorcode[e.errno], type(e).__name__)
try:
    lonely.listen(-1)
    lonely.bind(("127.0.0.1", 5411))
except OSError as e:
    print("bind after listen:", errno.errorcode[e.errno])
lonely.close()
try:
    lonely.recv(1)
except OSError as e:
    print("closed socket:", errno.errorcode[e.errno])
first.close()
