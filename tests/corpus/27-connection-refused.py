# Connecting where nobody listens: ConnectionRefusedError, connect_ex and errno.
import errno
import os
import socket

PORT = 5270

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.connect(("127.0.0.1", PORT))
except ConnectionRefusedError as e:
    print("refused:", e.errno == errno.ECONNREFUSED, os.strerror(e.errno))
finally:
    s.close()

for attempt in range(1, 4):
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    code = probe.connect_ex(("127.0.0.1", PORT))
    probe.close()
    print("attempt", attempt, "->", errno.errorcode.get(code, code))

try:
    socket.create_connection(("127.0.0.1", PORT), timeout=1)
except OSError as e:
    print(type(e).__name__, "is an OSError:", isinstance(e, OSError), "and a ConnectionError:", isinstance(e, ConnectionError))
