# A line-based command server with a dispatch table of functions and lambdas.
# lane: server
import socket

store = {}


def cmd_set(key, value):
    store[key] = value
    return "OK"


def cmd_get(key):
    return store.get(key, "(nil)")


def cmd_keys():
    return " ".join(sorted(store)) or "(empty)"


COMMANDS = {
    "SET": cmd_set,
    "GET": cmd_get,
    "KEYS": cmd_keys,
    "LEN": lambda: str(len(store)),
    "ECHO": lambda *words: " ".join(words),
}

srv = socket.create_server(("127.0.0.1", 5500))
conn, _ = srv.accept()
f = conn.makefile("rwb", buffering=0)
handled = 0
while True:
    line = f.readline()
    if not line or line.strip() == b"QUIT":
        break
    name, *args = line.decode().split()
    func = COMMANDS.get(name.upper())
    if func is None:
        reply = "ERR unknown command %r" % name
    else:
        try:
            reply = func(*args)
        except TypeError:
            reply = "ERR wrong number of arguments for %s" % name
    f.write(reply.encode() + b"\n")
    handled += 1
conn.close()
srv.close()
print("handled", handled, "commands; store:", sorted(store.items()))

# lane: client
import socket

conn = socket.create_connection(("127.0.0.1", 5500))
f = conn.makefile("rwb", buffering=0)
for command in ["SET b 2", "SET a 1", "get a", "GET z", "KEYS", "LEN", "ECHO x y z", "SET a", "FLY away"]:
    f.write(command.encode() + b"\n")
    print(command, "->", f.readline().decode().rstrip())
f.write(b"QUIT\n")
conn.close()
