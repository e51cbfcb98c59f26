# JSON requests and replies, one per line, through makefile('rwb').
# lane: server
import json
import socket

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5200))
srv.listen()
conn, _ = srv.accept()
stream = conn.makefile("rwb")
for raw in stream:
    request = json.loads(raw)
    op = request["op"]
    if op == "add":
        result = sum(request["args"])
    elif op == "upper":
        result = request["text"].upper()
    else:
        result = None
    reply = {"id": request["id"], "ok": result is not None, "result": result}
    stream.write(json.dumps(reply).encode() + b"\n")
    stream.flush()
    print("handled", request["id"], op)
stream.close()
conn.close()
srv.close()

# lane: client
import json
import socket

sock = socket.create_connection(("127.0.0.1", 5200))
f = sock.makefile("rwb")
requests = [
    {"id": 1, "op": "add", "args": [1, 2, 3.5]},
    {"id": 2, "op": "upper", "text": "json lines"},
    {"id": 3, "op": "divide", "args": [1, 0]},
]
for req in requests:
    f.write((json.dumps(req) + "\n").encode("utf-8"))
    f.flush()
    answer = json.loads(f.readline())
    print(json.dumps(answer, sort_keys=True))
f.close()
sock.close()
